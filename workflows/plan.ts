import { TrackedCalendar } from './tracked-calendar.ts';
import {
  CalendarError,
  addDays,
  compareDates,
  parseDate,
  shanghaiInstant,
  toShanghaiIso,
} from './calendar.ts';
import { parsePeriodKey, type Period, type PeriodKind } from './periods.ts';
import type { Duty, Offset, Position } from './catalog/schema.ts';

export interface PlannedStage {
  /** Stable id inside a cycle: `reminder-1`, `escalation-2`. Part of the notification ledger key. */
  id: string;
  kind: 'reminder' | 'escalation';
  /** 1-based; for escalations the ladder level. */
  level: number;
  at: string;
  addressed: Position[];
}

export interface CyclePlan {
  dutyId: string;
  periodKey: string;
  period: Period;
  /** The span in which the duty is done: the period, or the seasonal window inside the year. */
  window: { opensAt: string; closesAt: string };
  deadline: string;
  /** Set when the non-working-day policy moved the deadline: the date the rule gave and the policy used. */
  deadlineAdjusted?: { ruleDate: string; policy: Duty['nonWorkdayPolicy'] };
  /** False when a date in the plan falls in a year without official holiday data. */
  verified: boolean;
  warnings: string[];
  stages: PlannedStage[];
}

export function periodKindOfDuty(duty: Duty): PeriodKind {
  return duty.cadence.kind === 'seasonal' ? 'yearly' : duty.cadence.kind;
}

function windowOf(duty: Duty, period: Period): { start: string; end: string } {
  if (duty.cadence.kind !== 'seasonal') return { start: period.start, end: period.end };
  const year = period.key.slice(0, 4);
  const { from, to } = duty.cadence.season;
  return { start: `${year}-${from}`, end: `${year}-${to}` };
}

/**
 * The plan of one cycle: window, deadline and every reminder and escalation stage as an absolute instant
 * in Asia/Shanghai. Pure: depends only on the duty, the period key and the official calendar.
 */
export function planCycle(duty: Duty, periodKey: string): CyclePlan {
  const period = parsePeriodKey(periodKey, periodKindOfDuty(duty));
  const cal = new TrackedCalendar();
  const win = windowOf(duty, period);
  const rule = duty.deadline;

  let ruleDate: string;
  let moveable = true;
  switch (rule.type) {
    case 'period-end':
      ruleDate = win.end;
      break;
    case 'last-workday':
      ruleDate = cal.previousOnOrBefore(win.end);
      moveable = false;
      break;
    case 'nth-workday':
      ruleDate = cal.addWorkdays(addDays(win.start, -1), rule.n);
      moveable = false;
      break;
    case 'fixed-date':
      ruleDate = parseDate(`${period.key.slice(0, 4)}-${rule.date}`);
      break;
    case 'after-period-start':
      ruleDate = addDays(win.start, rule.days);
      break;
  }

  let deadlineDate = ruleDate;
  let deadlineAdjusted: CyclePlan['deadlineAdjusted'];
  if (moveable && duty.nonWorkdayPolicy !== 'keep' && !cal.isWorkday(ruleDate)) {
    deadlineDate =
      duty.nonWorkdayPolicy === 'previous-workday'
        ? cal.previousOnOrBefore(ruleDate)
        : cal.nextOnOrAfter(ruleDate);
    deadlineAdjusted = { ruleDate, policy: duty.nonWorkdayPolicy };
  }
  const deadline = shanghaiInstant(deadlineDate, rule.time);

  const at = (o: Offset): Date => {
    if (o.unit === 'hours') return new Date(deadline.getTime() + o.amount * 3_600_000);
    const date =
      o.unit === 'days' ? addDays(deadlineDate, o.amount) : cal.addWorkdays(deadlineDate, o.amount);
    return shanghaiInstant(date, o.at ?? rule.time);
  };

  const opensAt = shanghaiInstant(win.start, '00:00');
  const stages: PlannedStage[] = [];
  duty.reminders.forEach((r, i) => {
    let when = at(r);
    // A reminder planned before the window opens would arrive before the duty exists: send it at the opening.
    if (when < opensAt) when = opensAt;
    stages.push({
      id: `reminder-${i + 1}`,
      kind: 'reminder',
      level: i + 1,
      at: toShanghaiIso(when),
      addressed: ['contact'],
    });
  });
  for (const e of duty.escalation) {
    stages.push({
      id: `escalation-${e.level}`,
      kind: 'escalation',
      level: e.level,
      at: toShanghaiIso(at(e.offset)),
      addressed: [...e.notify],
    });
  }
  // Stable order by instant, reminders before escalations at the same instant.
  stages.sort(
    (a, b) =>
      a.at.localeCompare(b.at) || (a.kind === b.kind ? a.level - b.level : a.kind === 'reminder' ? -1 : 1),
  );
  // Two reminders that collapse to the same instant (short windows) are one reminder.
  const deduped = stages.filter(
    (s, i) =>
      !(s.kind === 'reminder' && stages.slice(0, i).some((p) => p.kind === 'reminder' && p.at === s.at)),
  );

  const warnings = cal.warnings();
  if (compareDates(deadlineDate, win.start) < 0) {
    throw new CalendarError(
      'invalid-period',
      `deadline ${deadlineDate} falls before the window opens`,
      `截止日期早于周期开始：${deadlineDate}`,
    );
  }

  return {
    dutyId: duty.id,
    periodKey: period.key,
    period,
    window: {
      opensAt: toShanghaiIso(opensAt),
      closesAt: toShanghaiIso(shanghaiInstant(addDays(win.end, 1), '00:00')),
    },
    deadline: toShanghaiIso(deadline),
    ...(deadlineAdjusted ? { deadlineAdjusted } : {}),
    verified: cal.verified,
    warnings,
    stages: deduped,
  };
}
