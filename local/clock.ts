/**
 * The local runtime's clock. Virtual time moves when told to (advanceTo), by a ticker (with a speed), or while
 * work waits inside a job (the delivery's pacing and retry pauses): a wait there moves the clock to its end, as
 * time passes during a Lambda invocation on AWS. The engine runs one job at a time, so waits inside a job never
 * overlap another job's.
 */
export class VirtualClock {
  private current: number;
  private sleepers: { at: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;
  private draining = false;

  constructor(start: Date) {
    this.current = start.getTime();
  }

  nowMs(): number {
    return this.current;
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Told every time the clock moves (the runtime saves it: a restart never goes back before work done). */
  onAdvance?: (ms: number) => void;

  /** Moves the clock forward (never backward: timers already run must not be undone). */
  set(ms: number): void {
    if (ms > this.current) {
      this.current = ms;
      this.onAdvance?.(ms);
    }
  }

  /**
   * A virtual wait: resolves with the clock at its end. Concurrent waits end in the order of their instants, one
   * per turn of the event loop, so work paced by them (one email per slot) keeps its order.
   */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepers.push({ at: this.current + Math.max(0, ms), seq: this.seq++, resolve });
      this.drain();
    });
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => {
      this.draining = false;
      if (this.sleepers.length === 0) return;
      this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.sleepers.shift() as { at: number; resolve: () => void };
      this.set(next.at);
      next.resolve();
      if (this.sleepers.length > 0) this.drain();
    });
  }
}
