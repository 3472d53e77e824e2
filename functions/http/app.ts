import type { Catalog } from '../../workflows/catalog/index.ts';
import { json } from './respond.ts';
import { Router } from './router.ts';
import { registerCycleRoutes } from './routes/cycles.ts';

/** All routes of the HTTP API; each area registers its routes from its own module under routes/. */
export function buildRouter(catalog: Catalog): Router {
  const router = new Router();
  router.add('GET', '/health', async () => json(200, { status: 'ok' }));
  registerCycleRoutes(router, catalog);
  return router;
}
