// Keeps delivery under the account's send rate: one send slot every 1/rate seconds. The account's rate is known
// (GetAccount), so a throttle means bunched arrivals more than a lower limit: the rate drops by a quarter and grows
// back by a tenth every 10 successes. Time and sleeping are injected: real on AWS, virtual locally.

export interface PaceClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export class Pacer {
  private rate: number;
  private nextSlot = 0;
  private successes = 0;

  /** `maxRate`: emails per second the account allows; we aim a little below it (5 %), for the jitter of arrival. */
  constructor(
    private readonly maxRate: number,
    private readonly clock: PaceClock,
    private readonly headroom = 0.95,
  ) {
    this.rate = Math.max(0.1, maxRate * headroom);
  }

  get currentRate(): number {
    return this.rate;
  }

  /** Waits for the next send slot. */
  async slot(): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + 1000 / this.rate;
    if (at > now) await this.clock.sleep(at - now);
  }

  throttled(): void {
    this.successes = 0;
    this.rate = Math.max(0.1, this.rate * 0.75);
    // Nothing goes out for a second after a throttle: the service's window is one second.
    this.nextSlot = Math.max(this.nextSlot, this.clock.now() + 1000);
  }

  succeeded(): void {
    if (++this.successes >= 10 && this.rate < this.maxRate * this.headroom) {
      this.successes = 0;
      this.rate = Math.min(this.maxRate * this.headroom, this.rate * 1.1);
    }
  }
}
