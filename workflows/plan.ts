import { TrackedCalendar } from './tracked-calendar.ts';
import {
  CalendarError,
  addDays,
  compareDates,
  parseDate,
  shanghaiInstant,
  toShanghaiIso,
} from './calendar.ts';
import { parsePeriodKey, seasonWindow, type Period, type PeriodKind } from './periods.ts';
import type { Duty, Offset, Position } from './catalog/schema.ts';
import {
  DeliverySchedule,
  loadDeliveryPolicy,
  type DeliveryPolicy,
  type Urgency,
} from './delivery/policy.ts';

export interface PlannedStage {
  /** Stable id inside a cycle: `reminder-1`, `escalation-2`, `checkpoint-1`. Part of the notices' keys. */
  id: string;
  /** A checkpoint names the units not done yet to their supervisors before the deadline (catalog `checkpoints`). */
  kind: 'reminder' | 'escalation' | 'checkpoint' | 'rollup';
  /** 1-based; for escalations the ladder level, for checkpoints their number. */
  level: number;
  /** The delivery moment: when its notices reach people (the delivery policy applied to `catalogAt`). */
  at: string;
  /** How soon: routine mail waits for routine moments, urgent mail goes at once outside quiet hours. */
  urgency: Urgency;
  /** When the cycle sweeps for this stage and records its notices: a little before `at`. */
  prepareAt: string;
  /** The instant the catalog's offset gives, before the delivery policy placed it. */
  catalogAt: string;
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
  return seasonWindow(duty.cadence.season, Number(period.key.slice(0, 4)));
}

/**
 * The plan of one cycle: window, deadline and every reminder and escalation stage as an absolute instant
 * in Asia/Shanghai. Pure: depends only on the duty, the period key and the official calendar.
 */
export function planCycle(
  duty: Duty,
  periodKey: string,
  policy: DeliveryPolicy = loadDeliveryPolicy(),
): CyclePlan {
  const period = parsePeriodKey(periodKey, periodKindOfDuty(duty));
  const cal = new TrackedCalendar();
  const schedule = new DeliverySchedule(policy, cal);
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
    let policy = duty.nonWorkdayPolicy;
    deadlineDate =
      policy === 'previous-workday' ? cal.previousOnOrBefore(ruleDate) : cal.nextOnOrAfter(ruleDate);
    // A deadline never leaves its period: a weekly Monday deadline on a holiday Monday goes to the next working day.
    if (compareDates(deadlineDate, win.start) < 0) {
      policy = 'next-workday';
      deadlineDate = cal.nextOnOrAfter(ruleDate);
    }
    deadlineAdjusted = { ruleDate, policy };
  }
  const deadline = shanghaiInstant(deadlineDate, rule.time);

  const at = (o: Offset): Date => {
    if (o.unit === 'hours') return new Date(deadline.getTime() + o.amount * 3_600_000);
    const date =
      o.unit === 'days' ? addDays(deadlineDate, o.amount) : cal.addWorkdays(deadlineDate, o.amount);
    return shanghaiInstant(date, o.at ?? rule.time);
  };

  const opensAt = shanghaiInstant(win.start, '00:00');
  const deadlineMs = deadline.getTime();
  const placed: PlannedStage[] = [];
  const stage = (
    s: Pick<PlannedStage, 'id' | 'kind' | 'level' | 'addressed'>,
    catalogAt: Date,
    place: { at: number; urgency: Urgency },
  ) =>
    placed.push({
      ...s,
      at: toShanghaiIso(new Date(place.at)),
      urgency: place.urgency,
      prepareAt: toShanghaiIso(new Date(schedule.prepareAt(place.at))),
      catalogAt: toShanghaiIso(catalogAt),
    });
  // A revised ad-hoc duty's stages are new stages: the moved reminders are owed even where the old ones went out.
  const revision = duty.once && duty.once.revision > 1 ? `@r${duty.once.revision}` : '';
  duty.reminders.forEach((r, i) => {
    const catalogAt = at(r);
    // A reminder the catalog places before the window opens is due at the opening; one that cannot reach anyone
    // before the deadline (a short window that opens in quiet hours) is left out.
    const place = schedule.placeReminder(catalogAt.getTime(), deadlineMs, opensAt.getTime());
    if (place)
      stage(
        { id: `reminder-${i + 1}${revision}`, kind: 'reminder', level: i + 1, addressed: ['contact'] },
        catalogAt,
        place,
      );
  });
  for (const e of duty.escalation) {
    const catalogAt = at(e.offset);
    stage(
      {
        id: `escalation-${e.level}${revision}`,
        kind: 'escalation',
        level: e.level,
        addressed: [...e.notify],
      },
      catalogAt,
      schedule.placeEscalation(catalogAt.getTime()),
    );
  }
  duty.checkpoints.forEach((c, i) => {
    const date = `${period.key.slice(0, 4)}-${c.date}`;
    const catalogAt = shanghaiInstant(date, c.time);
    const place = schedule.placeEscalation(catalogAt.getTime());
    // A checkpoint says something only while the period is open and the deadline ahead.
    if (catalogAt.getTime() < opensAt.getTime() || place.at >= deadlineMs) return;
    stage(
      { id: `checkpoint-${i + 1}${revision}`, kind: 'checkpoint', level: i + 1, addressed: [...c.notify] },
      catalogAt,
      place,
    );
  });
  if (duty.rollup) {
    const catalogAt = at(duty.rollup.offset);
    stage(
      { id: `rollup${revision}`, kind: 'rollup', level: 1, addressed: ['safety-office'] },
      catalogAt,
      schedule.placeEscalation(catalogAt.getTime()),
    );
  }
  const stages = collapseSameMoment(placed);

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
    stages,
  };
}

/**
 * Stages the delivery policy put at the same moment are one stage: the later reminder (so the email says it is
 * the last one), or the higher escalation level addressed to every position of the levels it absorbs. Sorted by
 * moment, reminders first.
 */
const KIND_ORDER: Record<PlannedStage['kind'], number> = {
  reminder: 0,
  checkpoint: 1,
  escalation: 2,
  rollup: 3,
};

function collapseSameMoment(stages: PlannedStage[]): PlannedStage[] {
  const byMoment = new Map<string, PlannedStage[]>();
  for (const s of stages)
    byMoment.set(`${s.at}|${s.kind}`, [...(byMoment.get(`${s.at}|${s.kind}`) ?? []), s]);
  const out: PlannedStage[] = [];
  for (const group of byMoment.values()) {
    const last = group.reduce((a, b) => (b.level > a.level ? b : a));
    out.push(
      last.kind === 'escalation' && group.length > 1
        ? { ...last, addressed: [...new Set(group.flatMap((g) => g.addressed))] }
        : last,
    );
  }
  return out.sort(
    (a, b) =>
      a.at.localeCompare(b.at) ||
      (a.kind === b.kind ? a.level - b.level : KIND_ORDER[a.kind] - KIND_ORDER[b.kind]),
  );
}
