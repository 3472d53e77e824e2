/**
 * The local runtime's clock. Virtual time moves when told to (advanceTo), by a ticker (with a speed), or while
 * work waits inside a job (the delivery's pacing and retry pauses): a wait there moves the clock to its end, as
 * time passes during a Lambda invocation on AWS. Jobs that come due while a job waits run beside it (engine.ts);
 * their waits interleave with its own in the order of their instants.
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

  private movers = new Set<(ms: number) => void>();

  /**
   * Told every time the clock moves, in the order of subscribing: the runtime saves it (a restart never goes back
   * before work done), the engine starts jobs that come due during a long job. Returns the undo.
   */
  onMove(listener: (ms: number) => void): () => void {
    this.movers.add(listener);
    return () => this.movers.delete(listener);
  }

  /** Moves the clock forward (never backward: timers already run must not be undone). */
  set(ms: number): void {
    if (ms > this.current) {
      this.current = ms;
      for (const m of this.movers) m(ms);
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
