import type { Catalog } from '../../../workflows/catalog/index.ts';
import { loadCaseTypes, type CaseTypes } from '../../../workflows/cases/index.ts';
import { clock } from '../../core/clock.ts';
import { gatherOverview, TREND_WEEKS } from '../../core/overview.ts';
import { requireAdmin } from '../auth.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import { noQuerySchema } from '../schemas.ts';

/** The console's first screen (总览), as one answer. */
export function registerOverviewRoutes(
  router: Router,
  catalog: Catalog,
  types: CaseTypes = loadCaseTypes(),
): void {
  router.add(
    'GET',
    '/overview',
    async (req) => {
      requireAdmin(req);
      noQuerySchema.parse(req.query);
      return json(200, await gatherOverview(catalog, types, clock.now()));
    },
    {
      summary: 'The overview (总览)',
      description:
        "Open cycles due today and this week; each duty's current period (its latest cycle) with its units on " +
        "time, late and missing; per town and per supervising department, the same over each duty's latest period " +
        'already due (worst first); the on-time ' +
        `rate of the cycles due in each of the last ${TREND_WEEKS} weeks; overdue items by escalation level; open ` +
        'cases by stage; addresses that cannot be delivered to. Rates are fractions (0–1), null when nobody owes.',
      tags: ['总览'],
      auth: 'admin',
      responses: { 200: { description: 'the overview' } },
    },
  );
}
