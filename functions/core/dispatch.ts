import type { Duty } from '../../workflows/catalog/schema.ts';
import { addDays, compareDates, shanghaiDateOf, shanghaiInstant } from '../../workflows/calendar.ts';
import { periodKeyOf, seasonWindow } from '../../workflows/periods.ts';
import { periodKindOfDuty, planCycle } from '../../workflows/plan.ts';

export interface CycleStart {
  dutyId: string;
  periodKey: string;
  executionName: string;
}

/** Execution names allow [A-Za-z0-9-_] and 80 characters; duty ids and period keys fit. */
export function cycleExecutionName(dutyId: string, periodKey: string, generation = 1): string {
  return `${dutyId}_${periodKey}${generation > 1 ? `_g${generation}` : ''}`;
}

/** The generation an execution name stands for (`…_g3` → 3, a first generation's name → 1). */
export function generationOfExecution(name: string | undefined): number | undefined {
  if (!name) return undefined;
  const m = /_g(\d+)$/.exec(name);
  return m ? Number(m[1]) : 1;
}

/**
 * The cycles that should be running as of an instant: for each enabled duty, the period containing the
 * day (seasonal duties only inside their window).
 */
export function cyclesStartingBy(duties: readonly Duty[], asOf: Date): CycleStart[] {
  const today = shanghaiDateOf(asOf);
  const out: CycleStart[] = [];
  for (const duty of duties) {
    if (!duty.enabled) continue;
    if (duty.activeDates && (today < duty.activeDates.from || today > duty.activeDates.until)) continue;
    if (duty.cadence.kind === 'seasonal') {
      const window = seasonWindow(duty.cadence.season, Number(today.slice(0, 4)));
      if (compareDates(today, window.start) < 0 || compareDates(today, window.end) > 0) continue;
    }
    const periodKey = periodKeyOf(periodKindOfDuty(duty), today);
    // A recurring ad-hoc duty's period due before its first date (a monthly report on the 15th, from the 20th) is
    // not its to start: nobody would have been told of that deadline.
    if (duty.activeDates && !dueFrom(duty, periodKey, duty.activeDates.from)) continue;
    // An ad-hoc duty has its one period, started when it was created.
    if (duty.once && duty.once.periodKey !== periodKey) continue;
    out.push({ dutyId: duty.id, periodKey, executionName: cycleExecutionName(duty.id, periodKey) });
  }
  return out;
}

function dueFrom(duty: Duty, periodKey: string, from: string): boolean {
  try {
    return Date.parse(planCycle(duty, periodKey).deadline) >= shanghaiInstant(from, '00:00').getTime();
  } catch {
    return false;
  }
}

/** A dispatch lost for longer than this is not made up: those periods are long over. */
export const BACKFILL_DAYS = 31;

/**
 * The days a dispatch run covers: every day after the last one dispatched, up to today (a lost day's daily
 * cycles still run), at most BACKFILL_DAYS back; only today on the very first run (nothing before the deployment
 * started is made up).
 */
export function daysToDispatch(through: string | undefined, today: string): string[] {
  if (through !== undefined && compareDates(through, today) >= 0) return [];
  const earliest = addDays(today, -(BACKFILL_DAYS - 1));
  let day = through === undefined ? today : addDays(through, 1);
  if (compareDates(day, earliest) < 0) day = earliest;
  const days: string[] = [];
  for (; compareDates(day, today) <= 0; day = addDays(day, 1)) days.push(day);
  return days;
}

/** The cycle starts of several days, each cycle once. */
export function cyclesOfDays(duties: readonly Duty[], days: readonly string[]): CycleStart[] {
  const byName = new Map<string, CycleStart>();
  for (const day of days)
    for (const c of cyclesStartingBy(duties, shanghaiInstant(day, '00:05'))) byName.set(c.executionName, c);
  return [...byName.values()];
}
