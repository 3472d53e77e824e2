import type { Duty } from '../../workflows/catalog/schema.ts';
import { hasOfficialData, shanghaiDateOf } from '../../workflows/calendar.ts';
import { DeliverySchedule, loadDeliveryPolicy } from '../../workflows/delivery/policy.ts';
import { periodKeyOf } from '../../workflows/periods.ts';
import { planCycle } from '../../workflows/plan.ts';
import { startCycleExecution } from '../adapters/cycle-starter.ts';
import { ensureDeliveryRun } from '../adapters/delivery-starter.ts';
import { outboxStore } from '../adapters/outbox-store.ts';
import { getDispatchState, getUnit, setDispatchedThrough, setHeldCycles } from '../adapters/store.ts';
import { recordNotices } from '../notices/sink.ts';
import { calendarMissingNotices } from './calendar-watch.ts';
import { clock } from './clock.ts';
import { safetyOfficeUnitId } from './directory.ts';
import { cycleExecutionName, cyclesOfDays, daysToDispatch, type CycleStart } from './dispatch.ts';

export interface DispatchReport {
  days: string[];
  started: number;
  existing: number;
  /** Cycles not started: their deadline falls in a year without the official holiday arrangement. */
  held: number;
  /** Years 安委办 was told are missing (the coming year from November; a year whose cycles are held). */
  calendarMissing: number[];
}

/** The year without official holiday data that the cycle's deadline falls in, if any. */
function missingYearOf(duty: Duty, periodKey: string): number | undefined {
  const year = Number(shanghaiDateOf(new Date(planCycle(duty, periodKey).deadline)).slice(0, 4));
  return hasOfficialData(year) ? undefined : year;
}

/**
 * Starts the cycles of every day not yet dispatched, up to the day of `asOf` (a lost day is made up), and the ones
 * held back earlier, and records how far dispatch got. Execution names derive from (duty, period), so running it
 * twice starts nothing twice. A cycle whose deadline lies in a year without the official arrangement is held, not
 * started on a Monday–Friday guess; 安委办 is told (weekly) until the year is loaded.
 */
export async function dispatchThrough(
  duties: readonly Duty[],
  asOf: Date,
  options: { onlyThatDay?: boolean } = {},
): Promise<DispatchReport> {
  const today = shanghaiDateOf(asOf);
  // An operator naming a day gets that day, whatever dispatch already covered.
  const { through, held: previouslyHeld } = await getDispatchState();
  const days = options.onlyThatDay ? [today] : daysToDispatch(through, today);
  const byId = new Map(duties.map((d) => [d.id, d]));
  const candidates = new Map<string, CycleStart>();
  for (const h of previouslyHeld) {
    const [dutyId = '', periodKey = ''] = h.split('|');
    if (byId.get(dutyId)?.enabled)
      candidates.set(h, { dutyId, periodKey, executionName: cycleExecutionName(dutyId, periodKey) });
  }
  for (const c of cyclesOfDays(duties, days)) candidates.set(`${c.dutyId}|${c.periodKey}`, c);

  let started = 0;
  let existing = 0;
  const held: { key: string; duty: Duty; periodKey: string; year: number }[] = [];
  for (const [key, start] of candidates) {
    const duty = byId.get(start.dutyId);
    if (!duty) continue;
    const year = missingYearOf(duty, start.periodKey);
    if (year !== undefined) {
      held.push({ key, duty, periodKey: start.periodKey, year });
      continue;
    }
    if ((await startCycleExecution(start.dutyId, start.periodKey)) === 'started') started++;
    else existing++;
  }
  if (days.length > 0) await setDispatchedThrough(today);
  const heldKeys = held.map((h) => h.key).sort();
  if (heldKeys.join() !== [...previouslyHeld].sort().join()) await setHeldCycles(heldKeys);

  // 安委办 hears of a missing year: the coming one from November, and any year whose cycles are held.
  const missing = new Set(held.map((h) => h.year));
  const year = Number(today.slice(0, 4));
  if (today.slice(5) >= '11-01' && !hasOfficialData(year + 1)) missing.add(year + 1);
  const calendarMissing = [...missing].sort();
  if (calendarMissing.length > 0) {
    const office = (await getUnit(safetyOfficeUnitId()))?.contact;
    const schedule = new DeliverySchedule(loadDeliveryPolicy());
    const nowMs = clock.nowMs();
    if (office) {
      const notices = calendarMissingNotices(
        office,
        calendarMissing.map((y) => ({ year: y, held: held.filter((h) => h.year === y) })),
        periodKeyOf('weekly', today),
        schedule,
        nowMs,
      );
      await recordNotices(
        { record: (n) => outboxStore.record(n), ensureDelivery: ensureDeliveryRun },
        notices,
        schedule,
        nowMs,
      );
    }
  }
  return { days, started, existing, held: held.length, calendarMissing };
}
