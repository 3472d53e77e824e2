import { z } from 'zod';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { sfnClient } from '../adapters/clients.ts';
import { cyclesStartingBy } from '../core/dispatch.ts';
import { clock } from '../core/clock.ts';
import { logger, workflowHandler } from './common.ts';

const catalog = loadCatalog();

const inputSchema = z
  .object({
    /** Dispatch as of this instant instead of now (backfill after an outage). */
    asOf: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/**
 * Run by the scheduler: starts the execution of every cycle whose period has begun. The execution name is
 * derived from (duty, period), so a repeated start is harmless.
 */
export const handler = workflowHandler(inputSchema, async (input) => {
  const stateMachineArn = process.env.CYCLE_STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new Error('CYCLE_STATE_MACHINE_ARN is not set');
  const asOf = input.asOf ? new Date(input.asOf) : clock.now();
  let started = 0;
  let existing = 0;
  for (const start of cyclesStartingBy(catalog.duties, asOf)) {
    try {
      await sfnClient().send(
        new StartExecutionCommand({
          stateMachineArn,
          name: start.executionName,
          input: JSON.stringify({ dutyId: start.dutyId, periodKey: start.periodKey }),
        }),
      );
      started++;
    } catch (err) {
      if (
        err instanceof ExecutionAlreadyExists ||
        (err as { name?: string }).name === 'ExecutionAlreadyExists'
      ) {
        existing++;
        continue;
      }
      throw err;
    }
  }
  logger.info('dispatched cycles', { asOf: asOf.toISOString(), started, existing });
  return { started, existing };
});
