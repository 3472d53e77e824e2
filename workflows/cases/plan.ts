import { TrackedCalendar } from '../tracked-calendar.ts';
import { addDays, shanghaiDateOf, shanghaiInstant, toShanghaiIso } from '../calendar.ts';
import {
  DeliverySchedule,
  loadDeliveryPolicy,
  type DeliveryPolicy,
  type Urgency,
} from '../delivery/policy.ts';
import type {
  CaseDeadlineRule,
  CaseEscalationLevel,
  CasePosition,
  CaseType,
  Offset,
  Stage,
} from './schema.ts';
import { stageOf } from './index.ts';

/** What planning needs to know about a case: a projection of its record. */
export interface CaseSnapshot {
  stage: string;
  /** Increments at every stage change: a stage entered again (after a failed acceptance) is a new visit. */
  visit: number;
  stageEnteredAt: string;
  /** The rectification term (an instant), moved by a granted extension or a failed acceptance. */
  term: string;
  /** When the term last changed; reminders planned before it are not sent (the change's notice covers them). */
  termSetAt: string;
  /** The open request (e.g. an extension awaiting a decision), numbered by the event that opened it. */
  request?: { id: string; seq: number; openedAt: string };
  /** Instants of the progress reports received in this visit. */
  progressReports: string[];
  /** Notices still to send, one per event that notifies. */
  outbox: { seq: number; eventId: string; at: string }[];
}

export interface CaseStep {
  /** Unique within the case; part of the notification ledger key. Carries the visit and the deadline. */
  key: string;
  track: 'stage' | 'request' | 'progress' | 'notice';
  kind: 'reminder' | 'escalation' | 'notice';
  /** Reminder number or escalation level; 0 for notices. */
  level: number;
  /** The delivery moment: when the step's notices reach people (the delivery policy applied). */
  at: string;
  urgency: Urgency;
  /** When the case records the step's notices: a little before `at`. */
  prepareAt: string;
  positions: CasePosition[];
  /** The deadline the step is about (the stage's, the request's, or a progress report's due instant). */
  deadline?: string;
  /** For notices: the event that asked for it. */
  event?: { seq: number; id: string };
}

export interface CasePlan {
  stage: Stage;
  /** The current stage's deadline; none for a terminal stage. */
  deadline?: string;
  request?: { id: string; seq: number; deadline: string };
  progressDues: string[];
  /** Every step of the current visit, sorted by instant. */
  steps: CaseStep[];
  /** False when a date of the plan falls in a year without official holiday data (counted Mon–Fri). */
  verified: boolean;
  warnings: string[];
}

/** Kept under its earlier name for the case code; the same calendar serves duty cycles. */
export { TrackedCalendar as CaseCalendar };

/** The instant an offset names relative to a deadline (working days on the official calendar). */
export function offsetFrom(
  deadline: string,
  o: Offset,
  cal: TrackedCalendar = new TrackedCalendar(),
): string {
  const d = new Date(deadline);
  if (o.unit === 'minutes') return toShanghaiIso(new Date(d.getTime() + o.amount * 60_000));
  if (o.unit === 'hours') return toShanghaiIso(new Date(d.getTime() + o.amount * 3_600_000));
  const date = shanghaiDateOf(d);
  const time = o.at ?? deadline.slice(11, 16);
  const target = o.unit === 'days' ? addDays(date, o.amount) : cal.addWorkdays(date, o.amount);
  return toShanghaiIso(shanghaiInstant(target, time));
}

/** A deadline counted from an entry instant (for `term`, the case's term). */
export function deadlineFrom(
  rule: CaseDeadlineRule,
  enteredAt: string,
  term: string,
  cal: TrackedCalendar = new TrackedCalendar(),
): string {
  const entryDate = shanghaiDateOf(new Date(enteredAt));
  switch (rule.type) {
    case 'term':
      return term;
    case 'workdays-after-entry':
      return toShanghaiIso(shanghaiInstant(cal.addWorkdays(entryDate, rule.n), rule.time));
    case 'days-after-entry':
      // "Within N days": a rest day moves the deadline to the next working day.
      return toShanghaiIso(shanghaiInstant(cal.nextOnOrAfter(addDays(entryDate, rule.n)), rule.time));
  }
}

/** A term and, when the date asked for was a rest day, that date (the term moved to the next working day). */
export interface Term {
  term: string;
  movedFrom?: string;
}

/**
 * A term ending on a date: at the type's time that day, or on the next working day when the date is a rest day
 * (a period whose last day is a holiday ends on the first day after it, as the Civil Code counts periods).
 */
export function termOn(type: CaseType, date: string, cal: TrackedCalendar = new TrackedCalendar()): Term {
  const workday = cal.nextOnOrAfter(date);
  return {
    term: toShanghaiIso(shanghaiInstant(workday, type.termTime)),
    ...(workday !== date ? { movedFrom: date } : {}),
  };
}

/**
 * A term given when a case is opened: a date or a number of days from the opening, or (a type whose term is given in
 * minutes) minutes from the opening, to the minute.
 */
export function termFrom(
  type: CaseType,
  term: { until: string } | { days: number } | { minutes: number },
  openedAt: string,
  cal: TrackedCalendar = new TrackedCalendar(),
): Term {
  if ('minutes' in term)
    return { term: toShanghaiIso(new Date(Date.parse(openedAt) + term.minutes * 60_000)) };
  if ('until' in term) return termOn(type, term.until, cal);
  return termOn(type, addDays(shanghaiDateOf(new Date(openedAt)), term.days), cal);
}

/** `2023-06-30T18:00:00+08:00` → `20230630T1800`: deadlines in step keys, so moving a deadline plans new steps. */
function compact(iso: string): string {
  return iso.slice(0, 16).replace(/[-:]/g, '');
}

function clockSteps(
  prefix: string,
  track: 'stage' | 'request',
  deadline: string,
  reminders: Offset[],
  remind: CasePosition[],
  escalation: CaseEscalationLevel[],
  from: string,
  schedule: DeliverySchedule,
  immediate = false,
): CaseStep[] {
  const cal = schedule.cal;
  // An immediate clock is not placed on routine moments: each step goes out at its own instant, day or night.
  const exact = (ms: number) => ({ at: ms, urgency: 'immediate' as const });
  const steps: CaseStep[] = [];
  const tag = compact(deadline);
  reminders.forEach((r, i) => {
    const catalogAt = offsetFrom(deadline, r, cal);
    // A reminder planned before the schedule started would arrive with (or before) the news it reminds of.
    if (Date.parse(catalogAt) < Date.parse(from)) return;
    const place = immediate
      ? exact(Date.parse(catalogAt))
      : schedule.placeReminder(Date.parse(catalogAt), Date.parse(deadline), Date.parse(from));
    if (!place) return;
    steps.push({
      key: `${prefix}.reminder-${i + 1}@${tag}`,
      track,
      kind: 'reminder',
      level: i + 1,
      ...placed(schedule, place),
      positions: [...remind],
      deadline,
    });
  });
  for (const e of escalation) {
    steps.push({
      key: `${prefix}.escalation-${e.level}@${tag}`,
      track,
      kind: 'escalation',
      level: e.level,
      ...placed(
        schedule,
        immediate
          ? exact(Date.parse(offsetFrom(deadline, e.offset, cal)))
          : schedule.placeEscalation(Date.parse(offsetFrom(deadline, e.offset, cal))),
      ),
      positions: [...e.notify],
      deadline,
    });
  }
  return steps;
}

function placed(
  schedule: DeliverySchedule,
  place: { at: number; urgency: Urgency },
): Pick<CaseStep, 'at' | 'urgency' | 'prepareAt'> {
  return {
    at: toShanghaiIso(new Date(place.at)),
    urgency: place.urgency,
    prepareAt: toShanghaiIso(new Date(schedule.prepareAt(place.at))),
  };
}

/**
 * The plan of a case's current stage visit: its deadline, the reminders before it and the escalations after it,
 * the open request's clock, the progress reports due, and the notices waiting to go out. Pure: depends only on
 * the type, the snapshot and the official calendar, so the workflow can recompute it at any time.
 */
export function planCase(
  type: CaseType,
  s: CaseSnapshot,
  policy: DeliveryPolicy = loadDeliveryPolicy(),
): CasePlan {
  const cal = new TrackedCalendar();
  const schedule = new DeliverySchedule(policy, cal);
  const stage = stageOf(type, s.stage);
  const steps: CaseStep[] = [];
  const progressDues: string[] = [];
  let deadline: string | undefined;
  let request: CasePlan['request'];

  for (const n of s.outbox) {
    const notice = n.eventId === 'opened' ? type.onOpen : type.events.find((e) => e.id === n.eventId)?.notify;
    if (!notice) continue;
    steps.push({
      key: `e${n.seq}.notice`,
      track: 'notice',
      kind: 'notice',
      level: 0,
      ...placed(schedule, schedule.placeNotice(Date.parse(n.at), notice.urgency)),
      positions: [...notice.positions],
      event: { seq: n.seq, id: n.eventId },
    });
  }

  if (!stage.terminal && stage.deadline) {
    deadline = deadlineFrom(stage.deadline, s.stageEnteredAt, s.term, cal);
    const from =
      stage.deadline.type === 'term' && Date.parse(s.termSetAt) > Date.parse(s.stageEnteredAt)
        ? s.termSetAt
        : s.stageEnteredAt;
    steps.push(
      ...clockSteps(
        `v${s.visit}.${stage.id}`,
        'stage',
        deadline,
        stage.reminders,
        stage.remind ?? [],
        stage.escalation,
        from,
        schedule,
        stage.urgency === 'immediate',
      ),
    );

    if (stage.progress) {
      const p = stage.progress;
      const entryDate = shanghaiDateOf(new Date(s.stageEnteredAt));
      for (let k = 1; k <= 400; k++) {
        const due = toShanghaiIso(
          shanghaiInstant(cal.nextOnOrAfter(addDays(entryDate, k * p.everyDays)), p.time),
        );
        if (Date.parse(due) >= Date.parse(deadline)) break;
        progressDues.push(due);
        const at = offsetFrom(due, p.reminder, cal);
        if (Date.parse(at) < Date.parse(s.stageEnteredAt)) continue;
        const place = schedule.placeReminder(Date.parse(at), Date.parse(due), Date.parse(s.stageEnteredAt));
        if (!place) continue;
        steps.push({
          key: `v${s.visit}.${stage.id}.progress@${compact(due)}`,
          track: 'progress',
          kind: 'reminder',
          level: k,
          ...placed(schedule, place),
          positions: [...p.remind],
          deadline: due,
        });
      }
    }
  }

  if (s.request && !stage.terminal) {
    const def = type.requests.find((r) => r.id === s.request?.id);
    if (def) {
      const reqDeadline = deadlineFrom(def.deadline, s.request.openedAt, s.term, cal);
      request = { id: def.id, seq: s.request.seq, deadline: reqDeadline };
      steps.push(
        ...clockSteps(
          `v${s.visit}.${def.id}-${s.request.seq}`,
          'request',
          reqDeadline,
          def.reminders,
          def.remind,
          def.escalation,
          s.request.openedAt,
          schedule,
        ),
      );
    }
  }

  const order = { notice: 0, reminder: 1, escalation: 2 } as const;
  steps.sort(
    (a, b) =>
      Date.parse(a.prepareAt) - Date.parse(b.prepareAt) || order[a.kind] - order[b.kind] || a.level - b.level,
  );
  const warnings = cal.warnings();
  return {
    stage,
    ...(deadline ? { deadline } : {}),
    ...(request ? { request } : {}),
    progressDues,
    steps,
    verified: warnings.length === 0,
    warnings,
  };
}

/** The escalation level a step key records (`…escalation-3@…`), or 0. */
export function escalationLevelOfKey(key: string): number {
  const m = /\.escalation-(\d+)@/.exec(key);
  return m ? Number(m[1]) : 0;
}

export interface DueSelection {
  /** The steps to act on now. */
  act: CaseStep[];
  /** Every step due now and not yet done (acted on or collapsed): all are marked done. */
  due: CaseStep[];
  /** The earliest step still to come. */
  next?: CaseStep;
}

/**
 * What to do now. Like a cycle's catch-up: per clock, the due steps collapse into one — the latest escalation,
 * addressed to every position of the levels collapsed into it, else the latest reminder while its deadline has
 * not passed — so an outage never produces a flood. Notices are all sent. A progress reminder is sent only while
 * its report is still to come and none arrived since the previous due date.
 */
export function selectDue(
  plan: CasePlan,
  s: CaseSnapshot,
  done: ReadonlySet<string>,
  now: Date,
): DueSelection {
  const t = now.getTime();
  const due = plan.steps.filter((x) => Date.parse(x.prepareAt) <= t && !done.has(x.key));
  const next = plan.steps.find((x) => Date.parse(x.prepareAt) > t && !done.has(x.key));
  const act: CaseStep[] = due.filter((x) => x.kind === 'notice');
  for (const track of ['stage', 'request'] as const) {
    const mine = due.filter((x) => x.track === track);
    const escalations = mine.filter((x) => x.kind === 'escalation');
    const last = escalations.at(-1);
    if (last) {
      act.push({ ...last, positions: [...new Set(escalations.flatMap((x) => x.positions))] });
      continue;
    }
    const reminder = mine.filter((x) => x.kind === 'reminder').at(-1);
    if (reminder?.deadline && t < Date.parse(reminder.deadline)) act.push(reminder);
  }
  const progress = due.filter((x) => x.track === 'progress').at(-1);
  if (progress?.deadline && t < Date.parse(progress.deadline)) {
    const i = plan.progressDues.indexOf(progress.deadline);
    const since = i > 0 ? plan.progressDues[i - 1] : s.stageEnteredAt;
    const reported = s.progressReports.some((r) => Date.parse(r) > Date.parse(since ?? s.stageEnteredAt));
    if (!reported) act.push(progress);
  }
  return { act, due, ...(next ? { next } : {}) };
}
