import type { Duty } from '../../workflows/catalog/schema.ts';
import { shanghaiDateOf, compareDates } from '../../workflows/calendar.ts';
import { periodKeyOf } from '../../workflows/periods.ts';
import { periodKindOfDuty } from '../../workflows/plan.ts';

export interface CycleStart {
  dutyId: string;
  periodKey: string;
  executionName: string;
}

/** Execution names allow [A-Za-z0-9-_] and 80 characters; duty ids and period keys fit. */
export function cycleExecutionName(dutyId: string, periodKey: string, generation = 1): string {
  return `${dutyId}_${periodKey}${generation > 1 ? `_g${generation}` : ''}`;
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
    if (duty.cadence.kind === 'seasonal') {
      const md = today.slice(5);
      if (compareDates(`2000-${md}`, `2000-${duty.cadence.season.from}`) < 0) continue;
      if (compareDates(`2000-${md}`, `2000-${duty.cadence.season.to}`) > 0) continue;
    }
    const periodKey = periodKeyOf(periodKindOfDuty(duty), today);
    out.push({ dutyId: duty.id, periodKey, executionName: cycleExecutionName(duty.id, periodKey) });
  }
  return out;
}
