// Nothing waits for a person to notice: every 15 minutes the reconciler finds open work with no execution driving
// it (failed, timed out, aborted, lost) and starts it again under a new execution name, makes up a lost daily
// dispatch, and starts a delivery run for notices nobody is delivering. The same code runs locally, at start-up
// and on the same schedule, so local runs show what AWS would do.
import { ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Duty } from '../../workflows/catalog/schema.ts';
import { shanghaiDateOf, shanghaiInstant, toShanghaiIso } from '../../workflows/calendar.ts';
import { listCasesByStatus } from '../adapters/case-store.ts';
import { sfnClient } from '../adapters/clients.ts';
import { ensureDeliveryRun } from '../adapters/delivery-starter.ts';
import { outboxStore } from '../adapters/outbox-store.ts';
import { getDispatchedThrough, listCycles, setCycleGeneration } from '../adapters/store.ts';
import { caseExecutionName, resumeCase } from './cases.ts';
import { clock } from './clock.ts';
import { dispatchThrough } from './dispatch-run.ts';
import { cycleExecutionName } from './dispatch.ts';
import { changeStageId } from '../notices/cycle-notices.ts';

/** Work younger than this may still be starting: the reconciler leaves it alone. */
const GRACE_MS = 5 * 60_000;
/** The daily dispatch runs at 00:05; if it has not covered today by this time, the reconciler does. */
const DISPATCH_LATE_AFTER = '00:30';

export interface ReconcileReport {
  dispatchedDays: string[];
  cyclesResumed: string[];
  casesResumed: string[];
  deliveryStarted: boolean;
  /** Open cycles seen (an operator's gauge of the work in progress). */
  cyclesOpen: number;
}

/** The names of a machine's running executions (one or a few ListExecutions pages). */
async function running(stateMachineArn: string): Promise<Set<string>> {
  const names = new Set<string>();
  let nextToken: string | undefined;
  do {
    const out = await sfnClient().send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
    );
    for (const e of out.executions ?? []) if (e.name) names.add(e.name);
    nextToken = out.nextToken;
  } while (nextToken);
  return names;
}

/** Changed this recently (created, or a new generation started): its execution may still be starting. */
function recent(iso: string | undefined, nowMs: number): boolean {
  return iso !== undefined && nowMs - Date.parse(iso) < GRACE_MS;
}

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

export async function reconcile(
  duties: readonly Duty[],
  log: { warn(message: string, extra?: Record<string, unknown>): void },
): Promise<ReconcileReport> {
  const now = clock.now();
  const report: ReconcileReport = {
    dispatchedDays: [],
    cyclesResumed: [],
    casesResumed: [],
    deliveryStarted: false,
    cyclesOpen: 0,
  };
  const cycleArn = requireEnv('CYCLE_STATE_MACHINE_ARN');
  const caseArn = requireEnv('CASE_STATE_MACHINE_ARN');
  const deliveryArn = requireEnv('DELIVERY_STATE_MACHINE_ARN');

  // A lost daily dispatch (its schedule failed, the region was down): make it up.
  const today = shanghaiDateOf(now);
  const through = await getDispatchedThrough();
  if (
    through !== undefined &&
    through < today &&
    now.getTime() >= shanghaiInstant(today, DISPATCH_LATE_AFTER).getTime()
  ) {
    const d = await dispatchThrough(duties, now);
    report.dispatchedDays = d.days;
    log.warn('the daily dispatch had not run: made up', { days: d.days, started: d.started });
  }

  // Open cycles whose execution is not running (failed, timed out, aborted, lost).
  const cyclesRunning = await running(cycleArn);
  const openCycles = await listCycles({ status: 'open' });
  report.cyclesOpen = openCycles.length;
  // Cancelled cycles whose cancellation the units have not been told yet (the new execution did not start).
  const byId = new Map(duties.map((d) => [d.id, d]));
  const untold = (await listCycles({ status: 'cancelled' })).filter((c) =>
    (byId.get(c.dutyId)?.adhoc?.changes ?? []).some(
      (ch) => ch.periodKey === c.periodKey && !c.stagesDone.includes(changeStageId(ch)),
    ),
  );
  for (const c of [...openCycles, ...untold]) {
    if (cyclesRunning.has(cycleExecutionName(c.dutyId, c.periodKey, c.generation))) continue;
    if (!c.lastError && (recent(c.createdAt, now.getTime()) || recent(c.generationAt, now.getTime())))
      continue;
    const generation = c.generation + 1;
    await setCycleGeneration(c.dutyId, c.periodKey, generation);
    await sfnClient().send(
      new StartExecutionCommand({
        stateMachineArn: cycleArn,
        name: cycleExecutionName(c.dutyId, c.periodKey, generation),
        input: JSON.stringify({ dutyId: c.dutyId, periodKey: c.periodKey }),
      }),
    );
    report.cyclesResumed.push(`${c.dutyId}/${c.periodKey}`);
    log.warn('resumed a cycle whose execution was not running', { cycle: `${c.dutyId}/${c.periodKey}` });
  }

  // Open cases that expect an execution (one is planned to wake, or the last one failed) but have none running.
  // Idle cases (every level escalated) wait for an event, not for an execution.
  const casesRunning = await running(caseArn);
  for (const c of (await listCasesByStatus(['open'])).cases) {
    if (!c.plannedWakeAt && !c.lastError) continue;
    if (casesRunning.has(caseExecutionName(c.caseId, c.generation))) continue;
    if (
      !c.lastError &&
      recent(c.plannedWakeAt, now.getTime()) &&
      Date.parse(c.plannedWakeAt ?? '') <= now.getTime()
    )
      continue;
    if (await resumeCase(c.caseId)) {
      report.casesResumed.push(c.caseId);
      log.warn('resumed a case whose execution was not running', { caseId: c.caseId });
    }
  }

  // Notices recorded a while ago that no finished delivery run has cleared: is a run taking care of them?
  const oldest = await outboxStore.oldestMoment();
  if (oldest !== undefined && Date.parse(oldest) < now.getTime() - GRACE_MS) {
    // Runs waiting for a later moment do not deliver what is owed now.
    const due = [...(await running(deliveryArn))].filter((name) => {
      const m = momentOfDeliveryExecution(name);
      return m === undefined || m <= now.getTime();
    });
    if (due.length === 0) {
      await ensureDeliveryRun(toShanghaiIso(now));
      report.deliveryStarted = true;
      log.warn('started a delivery run for notices nobody was delivering', { oldest });
    }
  }
  return report;
}

/** The moment a delivery execution is named after (`delivery-20230206T0900…`, seconds optional). */
export function momentOfDeliveryExecution(name: string): number | undefined {
  const m = /^delivery-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?/.exec(name);
  if (!m) return undefined;
  return Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}+08:00`);
}
