import type { Duty } from '../../workflows/catalog/schema.ts';
import { planCycle, type CyclePlan, type PlannedStage } from '../../workflows/plan.ts';
import { shanghaiDateOf, toShanghaiIso } from '../../workflows/calendar.ts';
import {
  activeRoster,
  closeCycle,
  ensureCycle,
  keys,
  listSubmissions,
  markStagesDone,
  putStageRecord,
  recordCycleFailure,
  setCycleGeneration,
} from '../adapters/store.ts';
import { linkSecret } from '../adapters/secrets.ts';
import { clock } from './clock.ts';
import { mapLimit } from './concurrency.ts';
import { Directory } from './directory.ts';
import { cycleItem, signLink } from './links.ts';
import { escalationEmail, reminderEmail, type OverdueLine } from './messages.ts';
import { notifyOnce } from './notify.ts';
import type { Unit } from './model.ts';
import { workdaysOverdue } from './overdue.ts';
import { cycleExecutionName } from './dispatch.ts';

/** Standard executions last at most a year; a cycle whose next stage is further away continues anew. */
export const MAX_EXECUTION_SPAN_MS = 330 * 24 * 3_600_000;
const HANDOVER_MARGIN_MS = 3_600_000;
/** Unit links stay valid this long after the window closes, so late submissions can still be recorded. */
const LINK_GRACE_MS = 30 * 24 * 3_600_000;
const SEND_CONCURRENCY = 8;

export class NotificationInFlightError extends Error {
  override name = 'NotificationInFlightError';
}

export interface AdvanceInput {
  dutyId: string;
  periodKey: string;
  /** `$$.Execution.StartTime`: lets a long cycle continue in a new execution before the one-year limit. */
  executionStartTime?: string;
}

export type AdvanceResult =
  | { status: 'waiting'; wakeAt: string; generation: number; sent: number; missing: number }
  | {
      status: 'continue';
      wakeAt: string;
      generation: number;
      nextExecutionName: string;
      sent: number;
      missing: number;
    }
  | { status: 'closed'; defaulters: number; sent: number };

export interface SweepLog {
  warn(message: string, extra?: Record<string, unknown>): void;
}

export const cycleSubject = (dutyId: string, periodKey: string) => keys.cyclePk(dutyId, periodKey);

/**
 * One step of a duty cycle. Derives what is due from the cycle record and the clock, so it can run again at
 * any time (a retry, a restarted execution, a restarted local runtime) without repeating a message:
 * - stages whose instant has passed and are not yet done are collapsed into one catch-up (the latest), so an
 *   outage never produces a flood, and reminders are dropped once an escalation is due;
 * - the sweep reads the cycle's roster and submissions (reads proportional to the roster, never a scan);
 * - every message goes through the notification ledger.
 */
export async function advanceCycle(duty: Duty, input: AdvanceInput, log: SweepLog): Promise<AdvanceResult> {
  const plan = planCycle(duty, input.periodKey);
  const now = clock.now();
  const record = await ensureCycle({
    dutyId: duty.id,
    periodKey: plan.periodKey,
    status: 'open',
    deadline: plan.deadline,
    createdAt: toShanghaiIso(now),
    stagesDone: [],
    generation: 1,
  });
  if (record.status !== 'open')
    return { status: 'closed', defaulters: record.defaulters?.length ?? 0, sent: 0 };

  const done = new Set(record.stagesDone);
  const due = plan.stages.filter((s) => Date.parse(s.at) <= now.getTime() && !done.has(s.id));
  const next = plan.stages.find((s) => Date.parse(s.at) > now.getTime() && !done.has(s.id));
  let sent = 0;
  let missing: Unit[] | undefined;

  if (due.length > 0) {
    const sweep = await sweepCycle(duty, plan, log);
    missing = sweep.missing;
    if (missing.length > 0) {
      const acted = catchUpStage(due, plan, now);
      if (acted) sent = await actOnStage(duty, plan, acted, missing, sweep.directory, now, log);
    }
    await markStagesDone(
      duty.id,
      plan.periodKey,
      due.map((s) => s.id),
    );
    if (missing.length === 0) return close(duty, plan, [], now, sent);
  }

  if (!next) {
    missing ??= (await sweepCycle(duty, plan, log)).missing;
    return close(
      duty,
      plan,
      missing.map((u) => u.id),
      now,
      sent,
    );
  }

  // An execution waits at most until its span limit; there it hands over to a new execution of the cycle.
  const start = input.executionStartTime ? Date.parse(input.executionStartTime) : now.getTime();
  const limit = start + MAX_EXECUTION_SPAN_MS;
  if (Date.parse(next.at) > limit && now.getTime() < limit - HANDOVER_MARGIN_MS) {
    return {
      status: 'waiting',
      wakeAt: toShanghaiIso(new Date(limit)),
      generation: record.generation,
      sent,
      missing: missing?.length ?? -1,
    };
  }
  if (Date.parse(next.at) > limit) {
    const generation = record.generation + 1;
    await setCycleGeneration(duty.id, plan.periodKey, generation);
    const nextExecutionName = cycleExecutionName(duty.id, plan.periodKey, generation);
    return {
      status: 'continue',
      wakeAt: next.at,
      generation,
      nextExecutionName,
      sent,
      missing: missing?.length ?? -1,
    };
  }
  return {
    status: 'waiting',
    wakeAt: next.at,
    generation: record.generation,
    sent,
    missing: missing?.length ?? -1,
  };
}

async function close(
  duty: Duty,
  plan: CyclePlan,
  defaulters: string[],
  now: Date,
  sent: number,
): Promise<AdvanceResult> {
  await closeCycle(duty.id, plan.periodKey, defaulters.sort(), toShanghaiIso(now));
  return { status: 'closed', defaulters: defaulters.length, sent };
}

/**
 * The one stage to act on among those due: the latest escalation (addressing every position of the
 * escalations collapsed into it), else the latest reminder while the deadline has not passed.
 */
export function catchUpStage(due: PlannedStage[], plan: CyclePlan, now: Date): PlannedStage | undefined {
  const escalations = due.filter((s) => s.kind === 'escalation');
  const last = escalations.at(-1);
  if (last) {
    const addressed = [...new Set(escalations.flatMap((s) => s.addressed))];
    return { ...last, addressed };
  }
  if (now.getTime() >= Date.parse(plan.deadline)) return undefined;
  return due.filter((s) => s.kind === 'reminder').at(-1);
}

export async function sweepCycle(
  duty: Duty,
  plan: CyclePlan,
  log: SweepLog,
): Promise<{ roster: Unit[]; missing: Unit[]; directory: Directory }> {
  const { units, bad } = await activeRoster(duty.responsibleKinds);
  for (const b of bad)
    log.warn('skipping a unit record that does not match its schema', { key: b.key, problems: b.problems });
  const submitted = new Set((await listSubmissions(duty.id, plan.periodKey)).map((s) => s.unitId));
  const directory = new Directory();
  directory.remember(units);
  const missing = units.filter((u) => !submitted.has(u.id)).sort((a, b) => a.id.localeCompare(b.id));
  return { roster: units, missing, directory };
}

async function actOnStage(
  duty: Duty,
  plan: CyclePlan,
  stage: PlannedStage,
  missing: Unit[],
  directory: Directory,
  now: Date,
  log: SweepLog,
): Promise<number> {
  const subject = cycleSubject(duty.id, plan.periodKey);
  const common = {
    duty,
    periodKey: plan.periodKey,
    periodStart: plan.period.start,
    periodEnd: plan.period.end,
    deadline: plan.deadline,
  };
  let outcomes: string[];
  if (stage.kind === 'reminder') {
    const secret = await linkSecret();
    const baseUrl = (process.env.CONSOLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
    const expires = Date.parse(plan.window.closesAt) + LINK_GRACE_MS;
    outcomes = await mapLimit(missing, SEND_CONCURRENCY, (unit) => {
      const token = signLink(
        { u: unit.id, i: cycleItem(duty.id, plan.periodKey), e: Math.floor(expires / 1000) },
        secret,
      );
      return notifyOnce(
        // A person may be the contact of several units: the unit is part of the recipient key.
        {
          subject,
          stageId: stage.id,
          recipientKey: `${unit.id}/${unit.contact.email}`,
          kind: 'reminder',
          meta: { units: [unit.id] },
        },
        reminderEmail({
          ...common,
          unitName: unit.name,
          personName: unit.contact.name,
          link: `${baseUrl}/links/${token}`,
          linkExpires: toShanghaiIso(new Date(expires)),
          to: unit.contact.email,
        }),
      );
    });
  } else {
    const overdue = workdaysOverdue(plan.deadline, shanghaiDateOf(now));
    const digests = new Map<
      string,
      { name: string; positions: Set<(typeof stage.addressed)[number]>; units: Map<string, OverdueLine> }
    >();
    for (const unit of missing) {
      for (const position of stage.addressed) {
        const addressee = await directory.resolve(unit, position);
        if (!addressee) continue;
        const key = addressee.person.email.toLowerCase();
        let d = digests.get(key);
        if (!d) {
          d = { name: addressee.person.name, positions: new Set(), units: new Map() };
          digests.set(key, d);
        }
        // A position nobody holds goes to 安委办, and the email names the role it really has.
        d.positions.add(addressee.fallback ? 'safety-office' : position);
        d.units.set(unit.id, { unitName: unit.name, workdaysOverdue: overdue, level: stage.level });
      }
    }
    for (const w of directory.warnings) log.warn('escalation position not held', { detail: w });
    outcomes = await mapLimit([...digests.entries()], SEND_CONCURRENCY, ([email, d]) =>
      notifyOnce(
        {
          subject,
          stageId: stage.id,
          recipientKey: email,
          kind: 'escalation',
          meta: { units: [...d.units.keys()] },
        },
        escalationEmail({
          ...common,
          level: stage.level,
          personName: d.name,
          positions: [...d.positions],
          units: [...d.units.values()],
          to: email,
        }),
      ),
    );
  }
  // A claim held by another (or a crashed) sender: the stage is not done until that message is settled, so
  // fail the step; the state machine retries it with backoff, past the claim's lease if need be.
  const inFlight = outcomes.filter((o) => o === 'in-flight').length;
  if (inFlight > 0)
    throw new NotificationInFlightError(
      `${inFlight} notification(s) of ${stage.id} are claimed but not settled`,
    );
  await putStageRecord(subject, {
    stageId: stage.id,
    at: toShanghaiIso(now),
    missing: missing.map((u) => u.id),
  });
  return outcomes.filter((o) => o === 'sent').length;
}

/** Called from the state machine's Catch: the failure is kept on the cycle record and logged. */
export async function recordFailure(
  input: AdvanceInput,
  error: { Error?: string; Cause?: string },
): Promise<void> {
  const message = `${error.Error ?? 'Error'}: ${(error.Cause ?? '').slice(0, 2000)}`;
  await recordCycleFailure(input.dutyId, input.periodKey, message, toShanghaiIso(clock.now()));
}
