import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ioCounters } from '../functions/adapters/clients.ts';
import { putSubmissions } from '../functions/adapters/store.ts';
import { invocationObservers } from './handlers.ts';
import type { Submission, Unit } from '../functions/core/model.ts';
import { loadCatalog } from '../workflows/catalog/index.ts';
import type { UnitKind } from '../workflows/catalog/schema.ts';
import { addDays, compareDates, shanghaiInstant, toShanghaiIso } from '../workflows/calendar.ts';
import { planCycle } from '../workflows/plan.ts';
import { rng, type Roster } from './roster.ts';
import { startRuntime } from './runtime.ts';
import type { LocalExecution, LocalStepFunctions } from './engine.ts';
import { peakRssMb } from './emulators.ts';

/** Shares of units that submit on time, late, or never; the rest of on-time units submit before any reminder. */
export interface Behaviour {
  onTime: number;
  late: number;
  /** Of the on-time units, the share that only acts after a reminder. */
  afterReminder: number;
}
export type CompletionModel = Record<UnitKind, Behaviour>;

export const DEFAULT_MODEL: CompletionModel = {
  town: { onTime: 0.9, late: 0.07, afterReminder: 0.3 },
  'county-department': { onTime: 0.9, late: 0.07, afterReminder: 0.3 },
  enterprise: { onTime: 0.8, late: 0.12, afterReminder: 0.4 },
  site: { onTime: 0.85, late: 0.1, afterReminder: 0.3 },
  'county-body': { onTime: 0.95, late: 0.05, afterReminder: 0.2 },
  'county-leader': { onTime: 0.9, late: 0.08, afterReminder: 0.3 },
};

/** Days between restarts of the emulator process (see Runtime.restartEmulators). */
const EMULATOR_RESTART_DAYS = 10;
/**
 * How often the simulated year runs the reconciler. On AWS it runs every 15 minutes and, with no fault to repair,
 * finds nothing: each run is the same few reads. The simulation runs it daily and the benchmark prices the AWS
 * cadence from a measured run (bench/request-cost.ts), which keeps 35,040 identical runs out of the wall time.
 */
export const SIMULATED_RECONCILE_EVERY_MS = 24 * 3_600_000;

export interface SimulateOptions {
  from: string;
  to: string;
  roster: Roster;
  seed: number;
  model?: CompletionModel;
  onProgress?: (date: string, fraction: number) => void;
}

export interface SimulateReport {
  from: string;
  to: string;
  units: number;
  executions: number;
  stateTransitions: number;
  invocations: number;
  /** Reconciler runs (included in invocations), at SIMULATED_RECONCILE_EVERY_MS. */
  reconciles: number;
  /**
   * Items read and written, and the read and write capacity units they consumed (as DynamoDB bills them);
   * writeUnits includes indexWriteUnits, the writes to global secondary indexes.
   */
  dynamodb: { reads: number; writes: number; readUnits: number; writeUnits: number; indexWriteUnits: number };
  /**
   * Emails sent (one per recipient per delivery moment), the most one address received on one day, and the
   * notices they carried (what people were owed) by kind and by duty.
   */
  emails: {
    total: number;
    maxPerAddressDay: { count: number; address?: string; day?: string };
    notices: { cycle: number; case: number; byDuty: Record<string, number> };
    deliveryRuns: number;
    deliveryInvocations: number;
  };
  submissions: { onTime: number; late: number };
  /** The same simulated events under the per-unit design (one execution per duty, unit and period). */
  alternative: { executions: number; stateTransitions: number; invocations: number; emails: number };
  wallSeconds: number;
  /** Peak resident memory of the simulator and its emulator process together. */
  peakRssMb: number;
}

/** A deterministic number in [0, 1) for (seed, key): the same unit behaves the same in every run. */
function hashUnit(seed: number, key: string): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return rng(h >>> 0)();
}

/**
 * Runs the real engine (local runtime, synthesized state machines, the same handlers, dynalite and SES local)
 * on a virtual clock from `from` to `to` as fast as it goes. Units' submissions follow a seeded model and are
 * written when the cycle starts, each batch at the instant between two stages it falls in; only stage instants
 * are observed by the workflow, so this gives the same emails as submitting at any moment in that span.
 */
export async function simulate(options: SimulateOptions): Promise<SimulateReport> {
  const started = process.hrtime.bigint();
  let peakRss = process.memoryUsage().rss;
  const model = options.model ?? DEFAULT_MODEL;
  const catalog = loadCatalog();
  const start = shanghaiInstant(options.from, '00:00');
  const end = shanghaiInstant(addDays(options.to, 1), '00:00');
  const unitsByKind = new Map<UnitKind, Unit[]>();
  for (const u of options.roster.units) {
    if (!u.active) continue;
    unitsByKind.set(u.kind, [...(unitsByKind.get(u.kind) ?? []), u]);
  }
  const counters = { onTime: 0, late: 0 };
  const base = { ...ioCounters, transitions: 0 };
  const notices = { cycle: 0, case: 0, byDuty: new Map<string, number>() };
  const delivery = { runs: 0, invocations: 0 };
  // What the handlers report is counted here, in the simulator's wrapper, never in the production path.
  const observe = (name: string, event: unknown, result: unknown) => {
    const r = result as { notices?: number; status?: string } | undefined;
    if (name === 'cycleAdvance' && r?.notices) {
      const dutyId = (event as { dutyId: string }).dutyId;
      notices.cycle += r.notices;
      notices.byDuty.set(dutyId, (notices.byDuty.get(dutyId) ?? 0) + r.notices);
    } else if (name === 'caseAdvance' && r?.notices) notices.case += r.notices;
    else if (name === 'deliver' && (event as { action?: string }).action === 'advance') {
      delivery.invocations++;
      if (r?.status === 'closed') delivery.runs++;
    }
  };
  invocationObservers.add(observe);

  /**
   * The per-unit alternative on the same events: one Standard execution per duty, unit and period that, for each
   * stage, waits, checks the unit's submission, and sends that unit's own message to every addressed position
   * (no digests); it ends at the first stage after the unit submitted, or after the last stage.
   * Transitions: start + (Wait, Check, Choice [, Send]) per stage processed + end.
   */
  const alternative = { executions: 0, stateTransitions: 0, invocations: 0, emails: 0 };
  const countAlternative = (stages: { at: string; addressed: readonly string[] }[], submittedAt: number) => {
    alternative.executions++;
    let transitions = 2;
    for (const stage of stages) {
      const missing = submittedAt > Date.parse(stage.at);
      transitions += missing ? 4 : 3;
      alternative.invocations += missing ? 2 : 1;
      if (!missing) break;
      alternative.emails += stage.addressed.length;
    }
    alternative.stateTransitions += transitions;
  };

  // Installed before the runtime starts: its first dispatch happens during start-up.
  const onExecutionStarted = (execution: LocalExecution, engine: LocalStepFunctions) => {
    const input = execution.input as { dutyId?: string; periodKey?: string };
    // Only a duty cycle's first execution: cases and delivery runs have other inputs, continuations repeat one.
    if (!input.dutyId || !input.periodKey || /_g\d+$/.test(execution.name)) return;
    const duty = catalog.require(input.dutyId);
    const plan = planCycle(duty, input.periodKey);
    const reminders = plan.stages.filter((s) => s.kind === 'reminder');
    const escalations = plan.stages.filter((s) => s.kind === 'escalation');
    const opens = Math.max(Date.parse(plan.window.opensAt), engine.nowMs());
    const deadline = Date.parse(plan.deadline);
    const firstReminder = reminders[0] ? Date.parse(reminders[0].at) : deadline;
    const lastEscalation = escalations.at(-1) ? Date.parse(escalations.at(-1)!.at) : deadline;
    const batches = new Map<number, Submission[]>();
    for (const kind of duty.responsibleKinds) {
      const b = model[kind];
      for (const unit of unitsByKind.get(kind) ?? []) {
        const r = hashUnit(options.seed, `${duty.id}|${plan.periodKey}|${unit.id}`);
        let at: number;
        if (r < b.onTime) {
          const early = r / b.onTime >= b.afterReminder;
          at = early
            ? opens + (firstReminder - opens) * (r / b.onTime)
            : firstReminder + (deadline - firstReminder) * (r / b.onTime);
        } else if (r < b.onTime + b.late) {
          at = deadline + 1 + (lastEscalation - deadline) * ((r - b.onTime) / b.late);
        } else at = Number.POSITIVE_INFINITY;
        countAlternative(plan.stages, at);
        if (at === Number.POSITIVE_INFINITY) continue;
        // Round up to the next sweep: the workflow only looks at submissions when it prepares a stage.
        const batchAt = Math.min(
          ...plan.stages.map((s) => Date.parse(s.prepareAt)).filter((t) => t >= at),
          Date.parse(escalations.at(-1)?.prepareAt ?? plan.deadline),
        );
        const late = at > deadline;
        if (late) counters.late++;
        else counters.onTime++;
        const list = batches.get(batchAt - 1) ?? [];
        list.push({
          dutyId: duty.id,
          periodKey: plan.periodKey,
          unitId: unit.id,
          submittedAt: toShanghaiIso(new Date(at)),
          late,
          note: '',
          evidence: {},
          recordedBy: 'simulator',
        });
        batches.set(batchAt - 1, list);
      }
    }
    for (const [at, subs] of batches) {
      engine.schedule(Math.max(at, engine.nowMs()), 'submissions', () => putSubmissions(subs));
    }
  };

  // DynamoDB on disk in a temporary folder: a county-year is hundreds of thousands of items, too many to hold in memory.
  const scratch = mkdtempSync(join(tmpdir(), 'safeduty-sim-'));
  const rt = await startRuntime({
    dataDir: scratch,
    port: 0,
    sesPort: 0,
    speed: 0,
    clockStart: start,
    seed: options.roster,
    scheduler: true,
    emulators: 'child',
    mail: 'count',
    reconcileEveryMs: SIMULATED_RECONCILE_EVERY_MS,
    onExecutionStarted,
  });

  try {
    const days: string[] = [];
    for (let d = options.from; compareDates(d, options.to) <= 0; d = addDays(d, 1)) days.push(d);
    for (const [i, day] of days.entries()) {
      await rt.advanceTo(shanghaiInstant(addDays(day, 1), '00:00'));
      if ((i + 1) % EMULATOR_RESTART_DAYS === 0) await rt.restartEmulators();
      // Keep the SES emulator's in-memory inbox small: the counts come from the ledger-backed counters.
      await fetch(`${rt.sesUrl}/clear-store`, { method: 'POST' });
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      options.onProgress?.(day, (i + 1) / days.length);
    }
    // Let cycles whose stages run past `to` finish, so every cycle started in the span is complete.
    rt.stopScheduler();
    // Drained in steps, restarting the emulators between them as during the span.
    for (let step = 1; step <= 60 / EMULATOR_RESTART_DAYS; step++) {
      await rt.restartEmulators();
      await rt.advanceTo(new Date(end.getTime() + step * EMULATOR_RESTART_DAYS * 24 * 3_600_000));
    }
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    // Peak resident memory of this process and of the emulators' process, as the kernel recorded it.
    const self = peakRssMb('self');
    const child = rt.emulatorPeakMb() ?? 0;
    if (self !== undefined) peakRss = Math.max(peakRss, (self + (child ?? 0)) * 1024 * 1024);
    if (process.env.SIM_DEBUG) console.error(`peak rss: simulator ${self} MiB, emulators ${child} MiB`);
  } finally {
    await rt.close();
    invocationObservers.delete(observe);
    rmSync(scratch, { recursive: true, force: true });
  }
  return {
    from: options.from,
    to: options.to,
    units: options.roster.units.length,
    executions: rt.engine.stats.executions,
    stateTransitions: rt.engine.stats.stateTransitions - base.transitions,
    invocations: rt.engine.stats.taskInvocations + rt.dispatches + rt.reconciles,
    reconciles: rt.reconciles,
    dynamodb: {
      reads: ioCounters.reads - base.reads,
      writes: ioCounters.writes - base.writes,
      readUnits: Math.round(ioCounters.readUnits - base.readUnits),
      writeUnits: Math.round(ioCounters.writeUnits - base.writeUnits),
      indexWriteUnits: Math.round(ioCounters.indexWriteUnits - base.indexWriteUnits),
    },
    emails: {
      total: rt.mail.stats.sent,
      maxPerAddressDay: rt.mail.stats.maxPerAddressDay,
      notices: {
        cycle: notices.cycle,
        case: notices.case,
        byDuty: Object.fromEntries([...notices.byDuty.entries()].sort((a, b) => b[1] - a[1])),
      },
      deliveryRuns: delivery.runs,
      deliveryInvocations: delivery.invocations,
    },
    submissions: counters,
    alternative,
    wallSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    peakRssMb: Math.round(peakRss / 1024 / 1024),
  };
}
