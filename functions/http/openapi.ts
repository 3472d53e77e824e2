import { z } from 'zod';
import { MAX_BODY_BYTES } from './schemas.ts';
import type { RouteAuth, RouteDoc, Router } from './router.ts';

/**
 * The OpenAPI 3.1 document of the API, generated from the router: each route's own zod schemas (path, query,
 * body) become its parameters and request body, and every schema with an `id` becomes a component. OpenAPI
 * 3.1 uses JSON Schema 2020-12, which is what z.toJSONSchema produces.
 */
type Json = Record<string, unknown>;

const REF = (id: string) => `#/components/schemas/${id}`;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Json {
  // A schema with ids inside gets them as local $defs: still one self-contained JSON Schema.
  const out = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

/** Components: every schema registered with an id (request bodies and any the areas add). */
function components(): Record<string, Json> {
  const all = z.toJSONSchema(z.globalRegistry, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    uri: REF,
  }) as {
    schemas: Record<string, Json>;
  };
  const out: Record<string, Json> = {};
  for (const [id, s] of Object.entries(all.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = s;
    out[id] = rest;
  }
  return out;
}

/** A schema's `id` in the global registry, if it has one. */
function idOf(schema: z.ZodType): string | undefined {
  const meta = z.globalRegistry.get(schema) as { id?: string } | undefined;
  return meta?.id;
}

function exampleOf(schema: z.ZodType): unknown {
  return (z.globalRegistry.get(schema) as { example?: unknown } | undefined)?.example;
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const js = jsonSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, prop]) => {
    const { description, example, ...rest } = prop as Json & { description?: string; example?: unknown };
    return {
      name,
      in: where,
      required: where === 'path' || (js.required ?? []).includes(name),
      ...(description ? { description } : {}),
      ...(example !== undefined ? { example } : {}),
      schema: rest,
    };
  });
}

const SECURITY: Record<RouteAuth, Json[]> = {
  admin: [{ admin: [] }],
  link: [{}],
  'admin-or-link': [{ admin: [] }, { unitLink: [] }],
  'admin-or-integration': [{ admin: [] }, { integration: ['safeduty/warnings'] }],
  public: [{}],
};

const ERROR_TEXT: Record<number, string> = {
  400: 'bad input: `{ error, message, issues: [{ field, problem }] }`',
  401: 'missing or bad administrator credentials',
  403: 'forbidden: not an administrator, or a forged link, or a link for another unit or item',
  404: 'unknown unit, leader, duty, cycle or case',
  405: 'method not allowed (the `Allow` header lists the allowed ones)',
  409: 'conflict (e.g. a request with the same Idempotency-Key still running)',
  410: 'the unit link has expired',
  413: `request body over ${MAX_BODY_BYTES} bytes`,
  415: 'unsupported request media type',
  422: 'well-formed but not acceptable (e.g. an Idempotency-Key reused for another request)',
};

function operation(method: string, template: string, doc: RouteDoc): Json {
  const errors = new Set<number>([400, ...(doc.auth === 'public' ? [] : [401, 403]), ...(doc.errors ?? [])]);
  const mutating = method !== 'GET';
  if (mutating) errors.add(409).add(422);
  if (doc.body || doc.altBodies) errors.add(413).add(415);
  const responses: Json = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    const type = r.contentType ?? 'application/json';
    responses[status] = {
      description: r.description,
      content: { [type]: r.schema ? { schema: jsonSchema(r.schema, 'output') } : {} },
    };
  }
  for (const status of [...errors].sort()) {
    responses[String(status)] = {
      description: ERROR_TEXT[status] ?? 'error',
      content: { 'application/json': { schema: { $ref: REF('Error') } } },
    };
  }
  const op: Json = {
    operationId: `${method.toLowerCase()}${template.replace(/\{(\w+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    ...(doc.tags ? { tags: doc.tags } : {}),
    security: SECURITY[doc.auth],
    parameters: [
      ...parameters(doc.params, 'path'),
      ...parameters(doc.query, 'query'),
      ...(mutating
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'Retry-safe requests: the first successful answer is stored for a day and returned again for the ' +
                'same key and request, without recording anything twice; the same key with another request is 422.',
              schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
            },
          ]
        : []),
      ...(doc.auth === 'admin-or-link'
        ? [
            {
              name: 'x-safeduty-link',
              in: 'header',
              required: false,
              description: 'a unit link token',
              schema: { type: 'string' },
            },
          ]
        : []),
    ],
    responses,
  };
  if (doc.body || doc.altBodies) {
    const content: Json = {};
    if (doc.body) {
      const id = idOf(doc.body);
      content['application/json'] = {
        schema: id ? { $ref: REF(id) } : jsonSchema(doc.body),
        example: exampleOf(doc.body),
      };
    }
    for (const alt of doc.altBodies ?? []) {
      content[alt.contentType] = {
        schema: {
          type: 'string',
          ...(alt.binary ? { format: 'binary' } : {}),
          ...(alt.description ? { description: alt.description } : {}),
        },
        example: alt.example,
      };
    }
    op.requestBody = { required: true, content };
  }
  return op;
}

export function buildOpenApi(router: Router, info: { version: string }): Json {
  const paths: Record<string, Json> = {};
  for (const r of router.list()) {
    if (!r.doc) continue;
    const path = (paths[r.template] ??= {});
    path[r.method.toLowerCase()] = operation(r.method, r.template, r.doc);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'safeduty API',
      version: info.version,
      description:
        'Administrators (县安委办) manage units and county leaders, read cycles, the overdue ledger and the ' +
        'audit trail; responsible units record what they did through the signed link in a reminder email. ' +
        'Every error body is `{ error, message (Chinese), issues: [{ field, problem }] }`.',
    },
    paths,
    components: {
      schemas: {
        ...components(),
        Error: {
          type: 'object',
          required: ['error', 'message', 'issues'],
          properties: {
            error: { type: 'string', description: 'a stable code, e.g. invalid-request, not-found' },
            message: { type: 'string', description: 'for people, in Chinese' },
            issues: {
              type: 'array',
              items: {
                type: 'object',
                required: ['field', 'problem'],
                properties: {
                  field: { type: 'string' },
                  problem: { type: 'string' },
                  row: { type: 'integer', description: 'CSV line of a roster import (header = 1)' },
                },
              },
            },
          },
        },
      },
      securitySchemes: {
        admin: {
          type: 'http',
          scheme: 'bearer',
          description:
            'On AWS a Cognito user-pool token (ID or access token) of a member of the safeduty-admins group; ' +
            'locally the admin token `npm start` prints.',
        },
        integration: {
          type: 'oauth2',
          description:
            'On AWS: a machine client of the Cognito user pool (client credentials, scope `safeduty/warnings`), ' +
            "for the issuing bureau's own system; its access token goes in `Authorization: Bearer`. Locally the " +
            'admin token stands in for it.',
          flows: {
            clientCredentials: {
              tokenUrl: '<CognitoDomain>/oauth2/token',
              scopes: { 'safeduty/warnings': 'issue and lift warnings' },
            },
          },
        },
        unitLink: {
          type: 'apiKey',
          in: 'header',
          name: 'x-safeduty-link',
          description: 'the signed link token from a reminder email (bound to one unit and one item)',
        },
      },
    },
  };
}
