/**
 * The local runtime's clock. Virtual time only moves when told to (advanceTo) or, with a speed, by a ticker;
 * the engine runs every timer due up to the new instant before advanceTo answers, so runs are deterministic.
 */
export class VirtualClock {
  private current: number;

  constructor(start: Date) {
    this.current = start.getTime();
  }

  nowMs(): number {
    return this.current;
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Moves the clock forward (never backward: timers already run must not be undone). */
  set(ms: number): void {
    if (ms > this.current) this.current = ms;
  }
}
