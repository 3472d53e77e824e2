import { z } from 'zod';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { clock } from '../core/clock.ts';
import { dispatchThrough } from '../core/dispatch-run.ts';
import { logger, workflowHandler } from './common.ts';

const catalog = loadCatalog();

const inputSchema = z
  .object({
    /** Dispatch as of this instant instead of now (an operator's backfill). */
    asOf: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/**
 * Run by the scheduler: starts the execution of every cycle whose period has begun, making up days a failed or
 * lost dispatch missed. The execution name is derived from (duty, period), so a repeated start is harmless.
 */
export const handler = workflowHandler(inputSchema, async (input) => {
  const asOf = input.asOf ? new Date(input.asOf) : clock.now();
  const report = await dispatchThrough(catalog.duties, asOf, { onlyThatDay: input.asOf !== undefined });
  logger.info('dispatched cycles', { asOf: asOf.toISOString(), ...report });
  return report;
});
