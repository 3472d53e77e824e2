import { z } from 'zod';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { adhocCatalogDuties } from '../adapters/duty-store.ts';
import { clock } from '../core/clock.ts';
import { liveCatalog } from '../core/duty-catalog.ts';
import { dispatchThrough } from '../core/dispatch-run.ts';
import { logger, workflowHandler } from './common.ts';

// With the ad-hoc duties: a recurring one ("every Friday during the flood season") starts its periods here too.
const catalog = liveCatalog(loadCatalog(), adhocCatalogDuties);

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
  await catalog.refresh({ force: true });
  const report = await dispatchThrough(catalog.duties, asOf, { onlyThatDay: input.asOf !== undefined });
  logger.info('dispatched cycles', { asOf: asOf.toISOString(), ...report });
  return report;
});
