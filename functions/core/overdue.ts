import { addDays, checkWorkday, compareDates } from '../../workflows/calendar.ts';

/**
 * Working days between a deadline (an ISO instant in +08:00) and today (a Shanghai date), not counting the
 * deadline's own day (0 on the deadline's day itself). Outside the calendar's published years it counts Mon–Fri (plans say so separately).
 */
export function workdaysOverdue(deadlineIso: string, today: string): number {
  const deadlineDate = deadlineIso.slice(0, 10);
  let count = 0;
  for (let d = addDays(deadlineDate, 1); compareDates(d, today) <= 0; d = addDays(d, 1)) {
    if (checkWorkday(d, { allowUnverified: true }).workday) count++;
  }
  return count;
}
