import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cycleItem, signLink } from '../../functions/core/links.ts';
import { buildRouter } from '../../functions/http/app.ts';
import type { Runtime } from '../../local/runtime.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { call, exampleRoster } from '../support/http.ts';

/**
 * GET /openapi.json: generated from the zod schemas the routes validate with. Every route is documented, every
 * body has an example, and each example is accepted three ways: by the route's zod schema, by the JSON Schema
 * in the document, and by the live route of a running local system.
 */
type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  security: Json[];
  parameters: { name: string; in: string; required: boolean; example?: unknown; schema: Json }[];
  requestBody?: { content: Record<string, { schema: Json; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

const router = buildRouter(loadCatalog());
let rt: Runtime;
let doc: {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
};

beforeAll(async () => {
  // Every example names a unit, leader or duty of the example roster and catalog, exactly as they are there.
  const { units, leaders } = exampleRoster();
  // The last Monday of February 2023: the examples name the monthly safety meeting of 2023-02 and town-001.
  rt = await startTestRuntime({ clock: '2023-02-27T09:00:00+08:00', units, leaders });
  const r = await call(rt, 'GET', '/openapi.json', { auth: false });
  expect(r.status).toBe(200);
  doc = r.json as unknown as typeof doc;
});
afterAll(async () => {
  await rt.close();
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and documents every route of the router, with its path parameters', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = operations()
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    expect(documented).toEqual(
      router
        .list()
        .map((r) => `${r.method} ${r.template}`)
        .sort(),
    );
    const ids = operations().map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, op } of operations()) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(
        op.parameters
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort(),
        path,
      ).toEqual(inPath);
      expect(
        // A success, or (GET /, which sends a browser to the console) a redirect.
        Object.keys(op.responses).some((s) => s.startsWith('2') || s === '302'),
        path,
      ).toBe(true);
      expect(op.security.length).toBeGreaterThan(0);
    }
  });

  it('resolves every $ref, and every schema compiles as JSON Schema 2020-12', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop() as string], ref).toBeDefined();
    }
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(doc, 'openapi.json');
    for (const id of Object.keys(doc.components.schemas))
      expect(ajv.getSchema(`openapi.json#/components/schemas/${id}`)).toBeDefined();
  });

  it('gives every route that takes a body a valid example, accepted by its zod schema and its JSON Schema', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(doc, 'openapi.json');
    const routes = new Map(router.list().map((r) => [`${r.method} ${r.template}`, r]));
    for (const { path, method, op } of operations()) {
      const route = routes.get(`${method} ${path}`)!;
      if (['POST', 'PUT', 'PATCH'].includes(method))
        expect(op.requestBody, `${method} ${path} takes a body`).toBeDefined();
      if (!op.requestBody) continue;
      for (const [type, media] of Object.entries(op.requestBody.content)) {
        expect(media.example, `${method} ${path} ${type}`).toBeDefined();
        if (type !== 'application/json') continue;
        const zod = route.doc!.body!.safeParse(media.example);
        expect(zod.success, `${method} ${path}: ${JSON.stringify(zod.error?.issues)}`).toBe(true);
        const ref = (media.schema.$ref as string | undefined) ?? '';
        const validate = ajv.getSchema(`openapi.json${ref}`);
        expect(validate, `${method} ${path} schema ${ref}`).toBeDefined();
        expect(validate!(media.example), `${method} ${path}: ${JSON.stringify(validate!.errors)}`).toBe(true);
      }
    }
  });
});

describe('each request example against the live route', () => {
  /**
   * What a route's example needs besides the parameter examples: the signed link of a link route, or state a
   * previous example created. Every route with a body must be listed here, so a new one cannot go unchecked.
   */
  const fixtures: Record<string, (ctx: { created: Map<string, Json> }) => Record<string, string>> = {
    'PUT /units/{id}': () => ({}),
    'POST /units/import': () => ({}),
    'PUT /leaders/{id}': () => ({}),
    'PATCH /units/{id}': () => ({}),
    'PATCH /leaders/{id}': () => ({}),
    'POST /cycles/{dutyId}/{periodKey}/submissions': () => ({}),
    'POST /links/{token}': () => ({
      token: signLink(
        {
          u: 'town-002',
          // The weekly risk prejudgment: its form has no required files, so the example needs no upload.
          i: cycleItem('risk-prejudgment-weekly', '2023-W09'),
          e: Math.floor(rt.clock.nowMs() / 1000) + 3600,
        },
        process.env.SAFEDUTY_LINK_SECRET as string,
      ),
    }),
    'POST /links/{token}/attachments': () => ({
      token: signLink(
        {
          u: 'town-001',
          i: cycleItem('monthly-safety-meeting', '2023-02'),
          e: Math.floor(rt.clock.nowMs() / 1000) + 3600,
        },
        process.env.SAFEDUTY_LINK_SECRET as string,
      ),
    }),
    'POST /cases': () => ({}),
    // A red warning to the example towns; then lifted.
    'POST /warnings': () => ({}),
    'POST /warnings/{id}/lift': ({ created }) => ({
      id: String(created.get('POST /warnings')?.warningId ?? ''),
    }),
    // A made-up 2027 (the example says so); the runtime of this file is its own.
    'PUT /calendar/{year}': () => ({}),
    'POST /duties': () => ({}),
    // The ad-hoc duty the creation example made: its units changed, its deadline extended, then cancelled.
    'POST /adhoc-duties/{id}/units': ({ created }) => ({ id: String(created.get('POST /duties')?.id ?? '') }),
    'POST /adhoc-duties/{id}/extend': ({ created }) => ({
      id: String(created.get('POST /duties')?.id ?? ''),
    }),
    'POST /adhoc-duties/{id}/cancel': ({ created }) => ({
      id: String(created.get('POST /duties')?.id ?? ''),
    }),
    // The case the open-case example created.
    'POST /cases/{id}/events': ({ created }) => ({ id: String(created.get('POST /cases')?.caseId ?? '') }),
  };

  it('accepts every example (2xx), in document order', async () => {
    const created = new Map<string, Json>();
    const failures: string[] = [];
    for (const { path, method, op } of operations()) {
      if (!op.requestBody) continue;
      const key = `${method} ${path}`;
      const fixture = fixtures[key];
      expect(fixture, `add a live fixture for ${key} to this test`).toBeDefined();
      const given = fixture!({ created });
      const params = Object.fromEntries(
        op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, given[p.name] ?? p.example]),
      );
      const url = path.replace(/\{(\w+)\}/g, (_m, n: string) => encodeURIComponent(String(params[n] ?? '')));
      const query = new URLSearchParams(
        op.parameters
          .filter((p) => p.in === 'query' && p.required)
          .map((p): [string, string] => [p.name, String(p.example)]),
      );
      const admin = op.security.some((s) => 'admin' in s);
      for (const [type, media] of Object.entries(op.requestBody.content)) {
        // A binary body (an Excel workbook) has a description for its example; test/e2e/roster-files covers it.
        if (media.schema.format === 'binary') continue;
        const body = type === 'application/json' ? JSON.stringify(media.example) : String(media.example);
        const r = await call(rt, method, `${url}${query.size ? `?${query}` : ''}`, {
          body,
          auth: admin,
          headers: { 'content-type': type },
        });
        if (r.status < 200 || r.status > 299)
          failures.push(`${key} (${type}): ${r.status} ${r.text.slice(0, 300)}`);
        else if (!created.has(key)) created.set(key, r.json);
      }
    }
    expect(failures).toEqual([]);
  });
});
