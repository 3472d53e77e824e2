import { addDays, checkWorkday } from './calendar.ts';

/**
 * Working-day arithmetic for planning that keeps going past the calendar's published years but records that it
 * did: plans then say `verified: false` with a warning, instead of silently treating a date as a plain weekday.
 */
export class TrackedCalendar {
  readonly unverifiedYears = new Set<number>();

  isWorkday(date: string): boolean {
    const r = checkWorkday(date, { allowUnverified: true });
    if (!r.verified) this.unverifiedYears.add(Number(date.slice(0, 4)));
    return r.workday;
  }

  /** The n-th working day after (n > 0) or before (n < 0) date; date itself for 0. */
  addWorkdays(date: string, n: number): string {
    const step = n >= 0 ? 1 : -1;
    let left = Math.abs(n);
    let d = date;
    while (left > 0) {
      d = addDays(d, step);
      if (this.isWorkday(d)) left--;
    }
    return d;
  }

  previousOnOrBefore(date: string): string {
    let d = date;
    while (!this.isWorkday(d)) d = addDays(d, -1);
    return d;
  }

  nextOnOrAfter(date: string): string {
    let d = date;
    while (!this.isWorkday(d)) d = addDays(d, 1);
    return d;
  }

  get verified(): boolean {
    return this.unverifiedYears.size === 0;
  }

  warnings(): string[] {
    const years = [...this.unverifiedYears].sort();
    return years.length > 0
      ? [
          `${years.join('、')} 年的节假日安排尚未载入系统，涉及该年的日期暂按周一至周五推算（未核实），载入后可能调整`,
        ]
      : [];
  }
}
