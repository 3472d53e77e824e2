import type { Duty, Position } from '../../workflows/catalog/schema.ts';
import { planCycle, type CyclePlan, type PlannedStage } from '../../workflows/plan.ts';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import {
  DeliverySchedule,
  loadDeliveryPolicy,
  type DeliveryPolicy,
} from '../../workflows/delivery/policy.ts';
import {
  activeRoster,
  dutyRoster,
  clearCycleFailure,
  closeCycle,
  ensureCycle,
  defaulterCount,
  getCycle,
  getUnit,
  markCycleCancelled,
  setCycleDeadline,
  listSubmissions,
  markStagesDone,
  recordCycleFailure,
  saveSweepProgress,
  setCyclePlannedWake,
  setCycleGeneration,
  trackDuty,
} from '../adapters/store.ts';
import { changeNotices, changeStageId, stageNotices, type Addressee } from '../notices/cycle-notices.ts';
import { recordNotices, type NoticeSink } from '../notices/sink.ts';
import { clock } from './clock.ts';
import { Directory, UNADDRESSED_MESSAGE, safetyOfficeUnitId } from './directory.ts';
import type { CycleRecord, Submission, UnitRecord } from './model.ts';
import { rollupNotice } from '../notices/cycle-rollup.ts';
import { cycleExecutionName, generationOfExecution } from './dispatch.ts';

/** Standard executions last at most a year; a cycle whose next stage is further away continues anew. */
export const MAX_EXECUTION_SPAN_MS = 330 * 24 * 3_600_000;
const HANDOVER_MARGIN_MS = 3_600_000;
/** Missing units whose notices are recorded between two looks at the time budget. */
const SWEEP_CHUNK = 1000;
/** A sweep stops for the next invocation when less than this is left of the time budget. */
const SWEEP_RESERVE_MS = 30_000;

export interface AdvanceInput {
  dutyId: string;
  periodKey: string;
  /** `$$.Execution.StartTime`: lets a long cycle continue in a new execution before the one-year limit. */
  executionStartTime?: string;
  /** `$$.Execution.Name`: an execution of an older generation than the record's ends (a newer one took over). */
  executionName?: string;
}

export type AdvanceResult =
  | { status: 'waiting'; wakeAt: string; generation: number; notices: number; missing: number }
  | {
      status: 'continue';
      wakeAt: string;
      generation: number;
      nextExecutionName: string;
      notices: number;
      missing: number;
    }
  | { status: 'closed'; defaulters: number; notices: number; superseded?: true };

export interface SweepLog {
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface CycleContext {
  log: SweepLog;
  /** Where the stage's notices go (the outbox); delivery is not this step's business. */
  sink: NoticeSink;
  /** What is left of this invocation's time budget. */
  remainingMs(): number;
  policy?: DeliveryPolicy;
}

export const cycleSubject = (dutyId: string, periodKey: string) => `CYCLE#${dutyId}#${periodKey}`;

/**
 * One step of a duty cycle. Derives what is due from the cycle record and the clock, so it can run again at
 * any time (a retry, a restarted execution, the reconciler) without repeating a notice:
 * - stages whose preparation instant has passed and are not yet done collapse into one catch-up (the latest), so
 *   an outage never produces a flood, and reminders are dropped once the deadline has passed;
 * - the sweep reads the cycle's roster and submissions (reads proportional to the roster, never a scan) and
 *   records what each person is owed, keyed so that a re-run writes nothing new; a sweep too large for one
 *   invocation continues in the next;
 * - a stage is done when its notices are recorded: delivery can never fail a cycle.
 */
export async function advanceCycle(
  duty: Duty,
  input: AdvanceInput,
  ctx: CycleContext,
): Promise<AdvanceResult> {
  const policy = ctx.policy ?? loadDeliveryPolicy();
  const plan = planCycle(duty, input.periodKey, policy);
  const now = clock.now();
  const record = (await getCycle(duty.id, plan.periodKey)) ?? (await createCycle(duty, plan, now));
  const mine = generationOfExecution(input.executionName);
  if (mine !== undefined && mine < record.generation)
    return { status: 'closed', defaulters: 0, notices: 0, superseded: true };
  // An administrator's changes to an ad-hoc duty are told first (a cancellation before the cycle stays closed).
  const told = await tellChanges(duty, plan, record, ctx, now);
  if (record.status !== 'open')
    return { status: 'closed', defaulters: defaulterCount(record), notices: told };
  // A cancelled duty whose cycle is still open: nothing more is sent. The period the cancellation was told in (the
  // change reached the duty only) ends cancelled; an earlier period of a recurring duty, its deadline past, closes
  // with its defaulters on record — cancelling the duty does not excuse what was already late.
  if (duty.adhoc?.cancelled) {
    const addressed = duty.adhoc.changes.some(
      (c) => c.kind === 'cancelled' && c.periodKey === plan.periodKey,
    );
    if (addressed || Date.parse(plan.deadline) > now.getTime()) {
      await markCycleCancelled(duty.id, plan.periodKey, duty.adhoc.cancelled.at);
      return { status: 'closed', defaulters: 0, notices: told };
    }
    const late = (await sweepRoster(duty, plan, ctx.log)).missing.map((u) => u.id);
    return close(duty, plan, record, late, now, told);
  }
  if (duty.once && (record.deadline !== plan.deadline || (record.revision ?? 1) !== duty.once.revision))
    await setCycleDeadline(duty.id, plan.periodKey, plan.deadline, duty.once.revision);
  // Running again after a failure (the reconciler resumed it): the error is behind it.
  if (record.lastError) await clearCycleFailure(duty.id, plan.periodKey);

  const done = new Set(record.stagesDone);
  const due = plan.stages.filter((s) => Date.parse(s.prepareAt) <= now.getTime() && !done.has(s.id));
  const next = plan.stages.find((s) => Date.parse(s.prepareAt) > now.getTime() && !done.has(s.id));
  let notices = told;
  let missing: UnitRecord[] | undefined;

  if (due.length > 0) {
    const sweep = await sweepRoster(duty, plan, ctx.log);
    missing = sweep.missing;
    // The day's roll-up to 安委办 is a stage of its own: it never collapses into an escalation, and it is sent
    // whoever reported.
    const rollup = due.find((s) => s.kind === 'rollup');
    if (rollup) notices += await recordRollup(duty, plan, rollup, sweep, record, ctx, now);
    const acted = catchUpStage(
      due.filter((s) => s.kind !== 'rollup'),
      plan,
      now,
    );
    if (acted && missing.length > 0) {
      const swept = await recordStage(duty, plan, acted, missing, record, ctx, now);
      notices += swept.notices;
      if (!swept.finished) {
        // The rest of the sweep in the next invocation, at once.
        return {
          status: 'waiting',
          wakeAt: toShanghaiIso(now),
          generation: record.generation,
          notices,
          missing: missing.length,
        };
      }
    }
    await markStagesDone(
      duty.id,
      plan.periodKey,
      due.map((s) => s.id),
    );
    // Everyone has done it: nothing more to remind or escalate — but a roll-up still to come waits for its moment.
    // (An empty roster closes only at the end: its units may not have been imported yet.)
    const rollupAhead = plan.stages.some((s) => s.kind === 'rollup' && !done.has(s.id) && !due.includes(s));
    if (missing.length === 0 && sweep.rosterSize > 0 && !rollupAhead)
      return close(duty, plan, record, [], now, notices);
  }

  if (!next) {
    missing ??= (await sweepRoster(duty, plan, ctx.log)).missing;
    return close(
      duty,
      plan,
      record,
      missing.map((u) => u.id),
      now,
      notices,
    );
  }

  // An execution waits at most until its span limit; there it hands over to a new execution of the cycle.
  const start = input.executionStartTime ? Date.parse(input.executionStartTime) : now.getTime();
  const limit = start + MAX_EXECUTION_SPAN_MS;
  const wake = Date.parse(next.prepareAt);
  const counts = { notices, missing: missing?.length ?? -1 };
  const waitUntil = async (at: string) => {
    if (record.plannedWakeAt !== at) await setCyclePlannedWake(duty.id, plan.periodKey, at);
  };
  if (wake > limit && now.getTime() < limit - HANDOVER_MARGIN_MS) {
    const at = toShanghaiIso(new Date(limit));
    await waitUntil(at);
    return { status: 'waiting', wakeAt: at, generation: record.generation, ...counts };
  }
  if (wake > limit) {
    const generation = record.generation + 1;
    await setCycleGeneration(duty.id, plan.periodKey, generation);
    return {
      status: 'continue',
      wakeAt: next.prepareAt,
      generation,
      nextExecutionName: cycleExecutionName(duty.id, plan.periodKey, generation),
      ...counts,
    };
  }
  await waitUntil(next.prepareAt);
  return { status: 'waiting', wakeAt: next.prepareAt, generation: record.generation, ...counts };
}

/** The cycle's record, created once (also by the API for an ad-hoc duty, so units can report at once). */
export async function createCycle(duty: Duty, plan: CyclePlan, now: Date): Promise<CycleRecord> {
  const trackedSince = await trackDuty(duty.id, toShanghaiIso(now));
  return ensureCycle({
    dutyId: duty.id,
    periodKey: plan.periodKey,
    status: 'open',
    deadline: plan.deadline,
    createdAt: toShanghaiIso(now),
    stagesDone: [],
    generation: 1,
    trackedSince,
  });
}

async function close(
  duty: Duty,
  plan: CyclePlan,
  record: CycleRecord,
  defaulters: string[],
  now: Date,
  notices: number,
): Promise<AdvanceResult> {
  const closed = await closeCycle(
    duty.id,
    plan.periodKey,
    defaulters.sort(),
    toShanghaiIso(now),
    record.generation,
  );
  // Not closed: an administrator's change started a newer generation meanwhile, which decides.
  if (!closed) return { status: 'closed', defaulters: 0, notices, superseded: true };
  return { status: 'closed', defaulters: defaulters.length, notices };
}

/**
 * The one stage to act on among those due: the latest escalation (addressing every position of the
 * escalations collapsed into it), else the latest reminder or checkpoint while the deadline has not passed.
 */
export function catchUpStage(due: PlannedStage[], plan: CyclePlan, now: Date): PlannedStage | undefined {
  const escalations = due.filter((s) => s.kind === 'escalation');
  const last = escalations.at(-1);
  if (last) {
    const addressed = [...new Set(escalations.flatMap((s) => s.addressed))];
    return { ...last, addressed };
  }
  if (now.getTime() >= Date.parse(plan.deadline)) return undefined;
  return due.filter((s) => s.kind !== 'escalation').at(-1);
}

/**
 * The cycle's responsible units that have not submitted, sorted by id (its roster minus its submissions), and how
 * many units the roster has.
 */
export async function sweepRoster(
  duty: Duty,
  plan: CyclePlan,
  log: SweepLog,
): Promise<{ missing: UnitRecord[]; rosterSize: number; units: UnitRecord[]; submissions: Submission[] }> {
  const [{ units, bad }, subs] = await Promise.all([
    dutyRoster(duty),
    listSubmissions(duty.id, plan.periodKey),
  ]);
  for (const b of bad)
    log.warn('skipping a unit record that does not match its schema', { key: b.key, problems: b.problems });
  const submitted = new Set(subs.map((s) => s.unitId));
  const missing = units.filter((u) => !submitted.has(u.id)).sort((a, b) => a.id.localeCompare(b.id));
  return { missing, rosterSize: units.length, units, submissions: subs };
}

/**
 * The day summed up for 安委办 (catalog `rollup`), from the sweep's roster and submissions; towns, enterprises and
 * departments are read once (a query per kind) to group the units. One notice, keyed by the stage: a re-run writes
 * the same item.
 */
async function recordRollup(
  duty: Duty,
  plan: CyclePlan,
  stage: PlannedStage,
  sweep: { units: UnitRecord[]; submissions: Submission[] },
  record: CycleRecord,
  ctx: CycleContext,
  now: Date,
): Promise<number> {
  const office = (await getUnit(safetyOfficeUnitId()))?.contact;
  if (!office) {
    ctx.log.warn(UNADDRESSED_MESSAGE, {
      detail: `roll-up of ${duty.id} ${plan.periodKey}: no safety office unit`,
    });
    return 0;
  }
  const { units: related } = await activeRoster(['town', 'enterprise', 'county-department', 'county-body']);
  const notice = rollupNotice({
    duty,
    plan,
    stage,
    units: sweep.units,
    submissions: sweep.submissions,
    related: new Map(related.map((u) => [u.id, u])),
    office,
    ...(record.trackedSince ? { trackedSince: record.trackedSince } : {}),
    recordedAt: toShanghaiIso(now),
  });
  if (!notice) return 0;
  const schedule = new DeliverySchedule(ctx.policy ?? loadDeliveryPolicy());
  await recordNotices(ctx.sink, [notice], schedule, now.getTime());
  return 1;
}

/**
 * Records the stage's notices, a chunk of missing units at a time, looking at the time budget between chunks.
 * Where it stopped is kept on the cycle record; notices are keyed per chunk, so a repeated chunk writes the same
 * items.
 */
async function recordStage(
  duty: Duty,
  plan: CyclePlan,
  stage: PlannedStage,
  missing: UnitRecord[],
  record: CycleRecord,
  ctx: CycleContext,
  now: Date,
): Promise<{ finished: boolean; notices: number }> {
  const schedule = new DeliverySchedule(ctx.policy ?? loadDeliveryPolicy());
  const resumed = record.sweep?.stageId === stage.id ? record.sweep : undefined;
  let chunk = resumed?.page ?? 0;
  const after = resumed?.next?.unitId as string | undefined;
  const todo = after ? missing.filter((u) => u.id > after) : missing;
  const directory = new Directory();
  directory.remember(missing);
  const supervising = stage.addressed.filter((p) => p !== 'contact' && p !== 'principal');
  let notices = 0;
  for (let i = 0; i < todo.length; i += SWEEP_CHUNK, chunk++) {
    if (i > 0 && ctx.remainingMs() < SWEEP_RESERVE_MS) {
      const last = todo[i - 1] as UnitRecord;
      await saveSweepProgress(duty.id, plan.periodKey, {
        stageId: stage.id,
        kind: 0,
        page: chunk,
        next: { unitId: last.id },
      });
      return { finished: false, notices };
    }
    const units = todo.slice(i, i + SWEEP_CHUNK);
    const resolved = new Map<string, Addressee | undefined>();
    for (const unit of units)
      for (const position of supervising)
        resolved.set(`${unit.id}|${position}`, await directory.resolve(unit, position));
    const owed = stageNotices({
      duty,
      plan,
      stage,
      missing: units,
      addressee: (unit, position: Position) => resolved.get(`${unit.id}|${position}`),
      ...(record.trackedSince ? { trackedSince: record.trackedSince } : {}),
      recordedAt: toShanghaiIso(now),
    }).map((n) => (chunk > 0 ? { ...n, part: chunk * 1000 + n.part } : n));
    await recordNotices(ctx.sink, owed, schedule, now.getTime());
    notices += owed.length;
  }
  for (const w of new Set(directory.warnings)) ctx.log.warn('escalation position not held', { detail: w });
  for (const w of new Set(directory.unaddressed)) ctx.log.warn(UNADDRESSED_MESSAGE, { detail: w });
  if (resumed) await saveSweepProgress(duty.id, plan.periodKey, undefined);
  return { finished: true, notices };
}

/**
 * Tells the units each change of an ad-hoc duty concerns, once per change (its notices are keyed by the change):
 * an extension or a cancellation the units still owing it, an addition the units added (if they still owe it),
 * a removal the units removed.
 */
async function tellChanges(
  duty: Duty,
  plan: CyclePlan,
  record: CycleRecord,
  ctx: CycleContext,
  now: Date,
): Promise<number> {
  const done = new Set(record.stagesDone);
  const pending = (duty.adhoc?.changes ?? []).filter(
    (c) => c.periodKey === plan.periodKey && !done.has(changeStageId(c)),
  );
  if (pending.length === 0) return 0;
  const policy = ctx.policy ?? loadDeliveryPolicy();
  const schedule = new DeliverySchedule(policy);
  const missing = (await sweepRoster(duty, plan, ctx.log)).missing;
  let notices = 0;
  for (const change of pending) {
    let units: UnitRecord[];
    if (change.kind === 'units-removed') {
      const submitted = new Set((await listSubmissions(duty.id, plan.periodKey)).map((s) => s.unitId));
      const removed = await Promise.all((change.units ?? []).map((id) => getUnit(id)));
      units = removed.filter((u): u is UnitRecord => u !== undefined && u.active && !submitted.has(u.id));
    } else if (change.kind === 'units-added') {
      const added = new Set(change.units ?? []);
      units = missing.filter((u) => added.has(u.id));
    } else units = missing;
    const owed = changeNotices({
      duty,
      plan,
      change,
      units,
      placement: schedule.placeNotice(Math.max(now.getTime(), Date.parse(change.at)), 'routine'),
      recordedAt: toShanghaiIso(now),
    });
    await recordNotices(ctx.sink, owed, schedule, now.getTime());
    await markStagesDone(duty.id, plan.periodKey, [changeStageId(change)]);
    notices += owed.length;
  }
  return notices;
}

/** Called from the state machine's Catch: the failure is kept on the cycle record and logged. */
export async function recordFailure(
  input: AdvanceInput,
  error: { Error?: string; Cause?: string },
): Promise<void> {
  const message = `${error.Error ?? 'Error'}: ${(error.Cause ?? '').slice(0, 2000)}`;
  await recordCycleFailure(input.dutyId, input.periodKey, message, toShanghaiIso(clock.now()));
}
