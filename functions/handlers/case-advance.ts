import { z } from 'zod';
import { loadCaseTypes } from '../../workflows/cases/index.ts';
import { loadDeliveryPolicy } from '../../workflows/delivery/policy.ts';
import { ensureDeliveryRun } from '../adapters/delivery-starter.ts';
import { outboxStore } from '../adapters/outbox-store.ts';
import { advanceCase, recordCaseFailure } from '../core/cases-advance.ts';
import { domainLog, logger, workflowHandler } from './common.ts';

const types = loadCaseTypes();
const policy = loadDeliveryPolicy();
const sink = { record: outboxStore.record, ensureDelivery: ensureDeliveryRun };

const inputSchema = z.discriminatedUnion('action', [
  z
    .object({
      action: z.literal('advance'),
      caseId: z.string().min(1),
      executionName: z.string().min(1).optional(),
      executionStartTime: z.string().optional(),
    })
    .strict(),
  z
    .object({
      action: z.literal('record-failure'),
      caseId: z.string().min(1),
      error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }),
    })
    .strict(),
]);

/** The case state machine's one task: advance the case to now, or record why it failed. */
export const handler = workflowHandler(inputSchema, async (input) => {
  if (input.action === 'record-failure') {
    logger.error('case workflow failed', { caseId: input.caseId, error: input.error });
    await recordCaseFailure(input.caseId, input.error);
    return { recorded: true };
  }
  const result = await advanceCase(types, input, { log: domainLog, sink, policy });
  logger.info('case advanced', { caseId: input.caseId, executionName: input.executionName, ...result });
  return result;
});
