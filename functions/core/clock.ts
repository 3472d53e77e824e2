/**
 * The one source of "now" (and of waiting) for domain code. On AWS it is the system clock; the local runtime and
 * the simulator install a virtual clock so a year of deadlines can run in minutes and tests are deterministic.
 */
type NowFn = () => number;
type SleepFn = (ms: number) => Promise<void>;

let nowFn: NowFn = () => Date.now();
let sleepFn: SleepFn = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const clock = {
  now(): Date {
    return new Date(nowFn());
  },
  nowMs(): number {
    return nowFn();
  },
  /** Waits (the delivery pacing, retry pauses); on the virtual clock the wait is virtual. */
  sleep(ms: number): Promise<void> {
    return ms > 0 ? sleepFn(ms) : Promise.resolve();
  },
  /** Install a clock source; returns a function restoring the previous one. */
  use(fn: NowFn, sleep?: SleepFn): () => void {
    const previous = { nowFn, sleepFn };
    nowFn = fn;
    if (sleep) sleepFn = sleep;
    return () => {
      nowFn = previous.nowFn;
      sleepFn = previous.sleepFn;
    };
  },
};
