import type { Duty } from '../../workflows/catalog/schema.ts';
import { shanghaiDateOf } from '../../workflows/calendar.ts';
import { startCycleExecution } from '../adapters/cycle-starter.ts';
import { getDispatchedThrough, setDispatchedThrough } from '../adapters/store.ts';
import { cyclesOfDays, daysToDispatch } from './dispatch.ts';

export interface DispatchReport {
  days: string[];
  started: number;
  existing: number;
}

/**
 * Starts the cycles of every day not yet dispatched, up to the day of `asOf` (a lost day is made up), and records
 * how far dispatch got. Execution names derive from (duty, period), so running it twice starts nothing twice.
 */
export async function dispatchThrough(
  duties: readonly Duty[],
  asOf: Date,
  options: { onlyThatDay?: boolean } = {},
): Promise<DispatchReport> {
  const today = shanghaiDateOf(asOf);
  // An operator naming a day gets that day, whatever dispatch already covered.
  const days = options.onlyThatDay ? [today] : daysToDispatch(await getDispatchedThrough(), today);
  let started = 0;
  let existing = 0;
  for (const start of cyclesOfDays(duties, days)) {
    if ((await startCycleExecution(start.dutyId, start.periodKey)) === 'started') started++;
    else existing++;
  }
  if (days.length > 0) await setDispatchedThrough(today);
  return { days, started, existing };
}
