// Telling 安委办 that a year's official holiday arrangement is missing: what the notice says and when it is owed.
import type { Duty } from '../../workflows/catalog/schema.ts';
import { shanghaiInstant, toShanghaiIso } from '../../workflows/calendar.ts';
import type { DeliverySchedule } from '../../workflows/delivery/policy.ts';
import { parsePeriodKey } from '../../workflows/periods.ts';
import type { Notice } from '../notices/model.ts';
import { periodLabel } from './labels.ts';

const LISTED = 20;

/**
 * One notice per missing year per ISO week, to 安委办's contact. Its moment is the first routine moment of the
 * week, so every dispatch of the week (and a reconciler making one up) writes the same notice, not another one;
 * written later in the week, it goes out at the next routine moment.
 */
export function calendarMissingNotices(
  office: { email: string; name: string },
  years: readonly { year: number; held: readonly { duty: Duty; periodKey: string }[] }[],
  weekKey: string,
  schedule: DeliverySchedule,
  nowMs: number,
): Notice[] {
  const monday = parsePeriodKey(weekKey, 'weekly').start;
  const at = toShanghaiIso(
    new Date(schedule.earliestRoutineAtOrAfter(shanghaiInstant(monday, '00:00').getTime())),
  );
  const now = toShanghaiIso(new Date(nowMs));
  return years.map(({ year, held }) => ({
    recipient: { address: office.email, name: office.name },
    at,
    urgency: 'routine',
    subject: `CALENDAR#${year}`,
    stage: `missing.${weekKey}`,
    part: 0,
    body: {
      type: 'calendar-missing',
      year,
      held: held.slice(0, LISTED).map((h) => `${h.duty.titleZh}（${periodLabel(h.periodKey)}）`),
      heldCount: held.length,
    },
    recordedAt: now,
  }));
}
