import { z } from 'zod';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { adhocCatalogDuties } from '../adapters/duty-store.ts';
import { liveCatalog } from '../core/duty-catalog.ts';
import { loadDeliveryPolicy } from '../../workflows/delivery/policy.ts';
import { ensureDeliveryRun } from '../adapters/delivery-starter.ts';
import { outboxStore } from '../adapters/outbox-store.ts';
import { advanceCycle, recordFailure } from '../core/cycle.ts';
import { domainLog, logger, workflowHandler } from './common.ts';

const catalog = liveCatalog(loadCatalog(), adhocCatalogDuties);
const policy = loadDeliveryPolicy();
const sink = { record: outboxStore.record, ensureDelivery: ensureDeliveryRun };

const inputSchema = z.discriminatedUnion('action', [
  z
    .object({
      action: z.literal('advance'),
      dutyId: z.string().min(1),
      periodKey: z.string().min(1),
      executionStartTime: z.string().optional(),
      executionName: z.string().optional(),
    })
    .strict(),
  z
    .object({
      action: z.literal('record-failure'),
      dutyId: z.string().min(1),
      periodKey: z.string().min(1),
      error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }),
    })
    .strict(),
]);

/** The duty-cycle state machine's one task: advance the cycle to now, or record why it failed. */
export const handler = workflowHandler(inputSchema, async (input, context) => {
  if (input.action === 'record-failure') {
    logger.error('cycle failed', { dutyId: input.dutyId, periodKey: input.periodKey, error: input.error });
    await recordFailure(input, input.error);
    return { recorded: true };
  }
  // An ad-hoc duty created or changed since this container last looked is read at once (its cycle wakes a
  // handful of times, so one query each time costs nothing).
  const seen = catalog.get(input.dutyId);
  await catalog.refresh({ force: seen === undefined || seen.adhoc !== undefined });
  const duty = catalog.require(input.dutyId);
  const result = await advanceCycle(duty, input, {
    log: domainLog,
    sink,
    policy,
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  logger.info('cycle advanced', { dutyId: input.dutyId, periodKey: input.periodKey, ...result });
  return result;
});
