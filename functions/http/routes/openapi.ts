import pkg from '../../../package.json' with { type: 'json' };
import { buildOpenApi } from '../openapi.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import { noQuerySchema } from '../schemas.ts';

/** GET /openapi.json: generated from the router on first request (every area has registered by then). */
export function registerOpenApiRoute(router: Router): void {
  let doc: unknown;
  router.add(
    'GET',
    '/openapi.json',
    async (req) => {
      noQuerySchema.parse(req.query);
      doc ??= buildOpenApi(router, { version: pkg.version });
      return json(200, doc, { 'cache-control': 'public, max-age=300' });
    },
    {
      summary: 'This document (OpenAPI 3.1)',
      tags: ['系统'],
      auth: 'public',
      responses: { 200: { description: 'the OpenAPI document' } },
    },
  );
}
