import { z } from 'zod';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { adhocCatalogDuties } from '../adapters/duty-store.ts';
import { liveCatalog } from '../core/duty-catalog.ts';
import { count, METRIC } from '../adapters/metrics.ts';
import { reconcile } from '../core/reconcile.ts';
import { domainLog, logger, workflowHandler } from './common.ts';

const catalog = liveCatalog(loadCatalog(), adhocCatalogDuties);

/** Run by the scheduler every 15 minutes (locally too, and once at start-up): see functions/core/reconcile.ts. */
export const handler = workflowHandler(z.object({}).strict(), async () => {
  await catalog.refresh({ force: true });
  const report = await reconcile(catalog.duties, domainLog);
  count(METRIC.cyclesOpen, report.cyclesOpen);
  count(
    METRIC.executionsResumed,
    report.cyclesResumed.length + report.casesResumed.length + (report.deliveryStarted ? 1 : 0),
  );
  const acted =
    report.dispatchedDays.length + report.cyclesResumed.length + report.casesResumed.length > 0 ||
    report.deliveryStarted;
  // Every 15 minutes: a line only when it found something to do, so the log shows the incidents.
  if (acted) logger.warn('reconciled: work was missing and has been restarted', { ...report });
  else logger.debug('reconciled', { ...report });
  return report;
});
