import type { Context } from 'aws-lambda';
import { count, METRIC } from '../adapters/metrics.ts';
import { z } from 'zod';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { planCycle } from '../../workflows/plan.ts';
import { adhocCatalogDuties } from '../adapters/duty-store.ts';
import { liveCatalog } from '../core/duty-catalog.ts';
import { DeliverySchedule, loadDeliveryPolicy } from '../../workflows/delivery/policy.ts';
import { getCase } from '../adapters/case-store.ts';
import { ensureDeliveryRun } from '../adapters/delivery-starter.ts';
import { maxSendRate, sendEmail } from '../adapters/mailer.ts';
import { sendSms, smsEnabled } from '../adapters/sms.ts';
import { addressesStore, leaseStore, outboxStore, recordsStore } from '../adapters/outbox-store.ts';
import { linkKeys } from '../adapters/secrets.ts';
import { getCycle, getUnit, listSubmissions } from '../adapters/store.ts';
import { clock } from '../core/clock.ts';
import { safetyOfficeUnitId } from '../core/directory.ts';
import { caseItem, cycleItem, overdueItem, signLink } from '../core/links.ts';
import { workdaysOverdue } from '../core/overdue.ts';
import type { DeliveryPorts } from '../delivery/ports.ts';
import { runDelivery } from '../delivery/run.ts';
import { logger, workflowHandler } from './common.ts';

const catalog = liveCatalog(loadCatalog(), adhocCatalogDuties);
const schedule = new DeliverySchedule(loadDeliveryPolicy());
/** How long an escalation's overdue link stays valid. */
const OVERDUE_LINK_MS = 90 * 24 * 3_600_000;

const inputSchema = z.discriminatedUnion('action', [
  z
    .object({
      action: z.literal('advance'),
      moment: z.iso.datetime({ offset: true }),
      executionName: z.string().min(1),
      executionStartTime: z.string().optional(),
    })
    .strict(),
  z
    .object({
      action: z.literal('record-failure'),
      moment: z.string(),
      error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }),
    })
    .strict(),
]);

function baseUrl(): string {
  return (process.env.CONSOLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
}

function ports(context: Context): DeliveryPorts {
  return {
    outbox: { ...outboxStore, ensureDelivery: ensureDeliveryRun },
    lease: leaseStore,
    records: {
      ...recordsStore,
      // What this invocation sent, refused and suppressed, as the operator's figures.
      put: async (records) => {
        await recordsStore.put(records);
        const by = (status: string) => records.filter((r) => r.status === status).length;
        count(METRIC.emailsSent, by('sent'));
        count(METRIC.emailsFailed, by('failed'));
        count(METRIC.emailsSuppressed, by('suppressed'));
      },
    },
    addresses: addressesStore,
    facts: {
      submittedUnits: async (dutyId, periodKey) =>
        new Set((await listSubmissions(dutyId, periodKey)).map((s) => s.unitId)),
      cycleState: async (dutyId, periodKey) => {
        const c = await getCycle(dutyId, periodKey);
        const removed = catalog.get(dutyId)?.scope?.removed;
        return c
          ? { status: c.status, revision: c.revision ?? 1, ...(removed ? { removed: new Set(removed) } : {}) }
          : undefined;
      },
      caseState: async (caseId) => {
        const c = await getCase(caseId);
        return c
          ? {
              status: c.status,
              stage: c.stage,
              visit: c.visit,
              ...(c.request ? { requestSeq: c.request.seq } : {}),
            }
          : undefined;
      },
    },
    mail: {
      send: sendEmail,
      maxSendRate: () => maxSendRate(clock.nowMs()),
      ...(process.env.SENDER_ADDRESS ? { sender: process.env.SENDER_ADDRESS } : {}),
    },
    // Text messages only where the deployment has an origination identity (docs/delivery.md, "Text messages").
    ...(smsEnabled() ? { sms: { send: sendSms } } : {}),
    clock: {
      now: () => clock.nowMs(),
      sleep: (ms) => clock.sleep(ms),
      remainingMs: () => context.getRemainingTimeInMillis(),
    },
    log: {
      info: (m, e = {}) => logger.info(m, e),
      warn: (m, e = {}) => logger.warn(m, e),
      error: (m, e = {}) => logger.error(m, e),
    },
    roster: {
      positions: async (ids) => {
        const units = await Promise.all(ids.map((id) => getUnit(id)));
        return new Map(
          units.filter((u): u is NonNullable<typeof u> => u !== undefined && u.active).map((u) => [u.id, u]),
        );
      },
    },
    safetyOffice: async () => (await getUnit(safetyOfficeUnitId()))?.contact,
  };
}

/** The delivery state machine's task: one invocation of a delivery run, or why the run failed. */
export const handler = workflowHandler(inputSchema, async (input, context) => {
  if (input.action === 'record-failure') {
    logger.error('delivery run failed', { moment: input.moment, error: input.error });
    return { recorded: true };
  }
  await catalog.refresh();
  const keys = await linkKeys();
  const url = baseUrl();
  const sign = (u: string, i: string, expiresMs: number) =>
    signLink({ u, i, e: Math.floor(expiresMs / 1000) }, keys);
  const result = await runDelivery(
    {
      moment: input.moment,
      holder: input.executionName,
      ...(input.executionStartTime ? { executionStartTime: input.executionStartTime } : {}),
    },
    ports(context),
    {
      schedule,
      stageAddressed: (notice, position) => {
        // Only a unit's own notices: a supervisor's stage addressing "principal" means the late unit's, not theirs.
        const b = notice.body;
        if (b.type !== 'cycle-reminder' && !(b.type === 'cycle-escalation' && b.audience === 'own'))
          return false;
        const duty = catalog.get(b.dutyId);
        const stageId = notice.stage.split('.')[0];
        return (
          duty !== undefined &&
          planCycle(duty, b.periodKey).stages.some((s) => s.id === stageId && s.addressed.includes(position))
        );
      },
      compose: {
        duty: (id) => catalog.get(id),
        workdaysOverdue,
        links: {
          unit: (unitId, dutyId, periodKey, expires) =>
            `${url}/links/${sign(unitId, cycleItem(dutyId, periodKey), Date.parse(expires))}`,
          overdue: (scope, dutyId, periodKey) =>
            `${url}/escalations/${sign(`${scope.kind}:${scope.id}`, overdueItem(dutyId, periodKey), clock.nowMs() + OVERDUE_LINK_MS)}`,
          caseLink: (caseId, unitId, expires) =>
            `${url}/cases/${caseId}?link=${sign(unitId, caseItem(caseId), Date.parse(expires))}`,
        },
      },
    },
  );
  logger.info('delivery advanced', { moment: input.moment, ...result });
  return result;
});
