import { addDays, checkWorkday, compareDates } from '../../workflows/calendar.ts';
import type { CyclePlan } from '../../workflows/plan.ts';
import { escalates } from '../notices/cycle-notices.ts';
import type { UnitRecord } from './model.ts';

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

/**
 * The highest escalation level a unit reached in a cycle, derived from the plan and the stages done (nothing per
 * unit is stored): the escalation stages that ran before the unit submitted (or until now), if the fair start
 * let the cycle escalate the unit at all.
 */
export function escalationLevelReached(
  plan: CyclePlan,
  stagesDone: readonly string[],
  unit: UnitRecord,
  submittedAt: string | undefined,
  trackedSince: string | undefined,
  nowMs: number,
): number {
  if (!escalates(unit, plan.deadline, trackedSince)) return 0;
  const until = submittedAt ? Math.min(Date.parse(submittedAt), nowMs) : nowMs;
  const done = new Set(stagesDone);
  let level = 0;
  for (const s of plan.stages)
    if (s.kind === 'escalation' && done.has(s.id) && Date.parse(s.prepareAt) <= until)
      level = Math.max(level, s.level);
  return level;
}
