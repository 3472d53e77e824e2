import type { Catalog } from '../../workflows/catalog/index.ts';
import { json } from './respond.ts';
import { Router } from './router.ts';
import { registerAssessmentRoutes } from './routes/assessment.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerCalendarRoutes } from './routes/calendar.ts';
import { registerCaseRoutes } from './routes/cases.ts';
import { registerCycleRoutes } from './routes/cycles.ts';
import { registerDeliveryRoutes } from './routes/deliveries.ts';
import { registerDutyRoutes } from './routes/duties.ts';
import { registerOpenApiRoute } from './routes/openapi.ts';
import { registerOverdueRoutes } from './routes/overdue.ts';
import { registerOverviewRoutes } from './routes/overview.ts';
import { registerConsoleRoutes } from './routes/console.ts';
import { registerUnitRoutes } from './routes/units.ts';
import { registerWarningRoutes } from './routes/warnings.ts';

/** All routes of the HTTP API; each area registers its routes from its own module under routes/. */
export function buildRouter(catalog: Catalog): Router {
  const router = new Router();
  router.add('GET', '/health', async () => json(200, { status: 'ok' }), {
    summary: 'Liveness',
    tags: ['系统'],
    auth: 'public',
    responses: { 200: { description: '`{ status: "ok" }`' } },
  });
  registerCycleRoutes(router, catalog);
  registerUnitRoutes(router);
  registerDutyRoutes(router, catalog);
  registerOverdueRoutes(router, catalog);
  registerCaseRoutes(router);
  registerAuditRoutes(router, catalog);
  registerDeliveryRoutes(router, catalog);
  registerAssessmentRoutes(router, catalog);
  registerOverviewRoutes(router, catalog);
  registerCalendarRoutes(router, catalog);
  registerWarningRoutes(router);
  registerConsoleRoutes(router);
  registerOpenApiRoute(router);
  return router;
}
