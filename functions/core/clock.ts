/**
 * The one source of "now" for domain code. On AWS it is the system clock; the local runtime and the simulator
 * install a virtual clock so a year of deadlines can run in minutes and tests are deterministic.
 */
type NowFn = () => number;

let nowFn: NowFn = () => Date.now();

export const clock = {
  now(): Date {
    return new Date(nowFn());
  },
  nowMs(): number {
    return nowFn();
  },
  /** Install a clock source; returns a function restoring the previous one. */
  use(fn: NowFn): () => void {
    const previous = nowFn;
    nowFn = fn;
    return () => {
      nowFn = previous;
    };
  },
};
