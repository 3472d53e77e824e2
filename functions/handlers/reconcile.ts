import { z } from 'zod';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { reconcile } from '../core/reconcile.ts';
import { domainLog, logger, workflowHandler } from './common.ts';

const catalog = loadCatalog();

/** Run by the scheduler every 15 minutes (locally too, and once at start-up): see functions/core/reconcile.ts. */
export const handler = workflowHandler(z.object({}).strict(), async () => {
  const report = await reconcile(catalog.duties, domainLog);
  logger.info('reconciled', { ...report });
  return report;
});
