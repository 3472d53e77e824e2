import middy from '@middy/core';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { tracer } from '../adapters/tracing.ts';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { refreshOfficialCalendar } from '../adapters/calendar-store.ts';
import { adhocCatalogDuties } from '../adapters/duty-store.ts';
import { liveCatalog } from '../core/duty-catalog.ts';
import { PayloadTooLargeError, ValidationError } from '../core/errors.ts';
import { buildRouter } from '../http/app.ts';
import { withIdempotency } from '../http/idempotency.ts';
import { attachVerifiedClaims } from '../http/jwt.ts';
import { errorResponse, json } from '../http/respond.ts';
import { errorPage, wantsHtml } from '../http/pages.ts';
import { Router, type RouteDoc } from '../http/router.ts';
import { MAX_BODY_BYTES } from '../http/schemas.ts';
import type { ApiEvent, ApiRequest, ApiResult } from '../http/types.ts';
import { logger } from './common.ts';
import { useChineseValidationMessages } from '../core/zod-zh.ts';

useChineseValidationMessages();

// Ad-hoc duties another container created are seen within seconds; this container's own at once.
const catalog = liveCatalog(loadCatalog(), adhocCatalogDuties, { ttlMs: 5_000 });
const router = buildRouter(catalog);

/** Turns the API Gateway event into a request: size limit, body decoding and JSON parsing, all as 4xx. */
function toRequest(event: ApiEvent): Omit<ApiRequest, 'route' | 'params'> {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError('body too large', `请求体超过 ${MAX_BODY_BYTES / 1024 / 1024} MiB 上限`, [
      { field: '(body)', problem: `不能超过 ${MAX_BODY_BYTES} 字节` },
    ]);
  }
  const rawBody = bytes.toString('utf8');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  let body: unknown;
  const type = headers['content-type'] ?? '';
  if (rawBody.trim() !== '' && (type === '' || type.includes('json'))) {
    try {
      body = JSON.parse(rawBody);
    } catch {
      throw new ValidationError('malformed JSON', '请求体不是有效的 JSON', [
        { field: '(body)', problem: '不是有效的 JSON' },
      ]);
    }
  }
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query,
    headers,
    body,
    rawBody,
    rawBytes: bytes,
    event,
  };
}

async function route(event: ApiEvent): Promise<ApiResult> {
  let request: ApiRequest | undefined;
  let doc: RouteDoc | undefined;
  try {
    await attachVerifiedClaims(event);
    await catalog.refresh();
    await refreshOfficialCalendar();
    const partial = toRequest(event);
    const match = router.match(partial.method, partial.path);
    if (!match) return json(404, { error: 'not-found', message: '请求的地址不存在', issues: [] });
    if ('allowed' in match) {
      return json(
        405,
        { error: 'method-not-allowed', message: '不支持该请求方法', issues: [] },
        { allow: match.allowed.join(', ') },
      );
    }
    doc = match.route.doc;
    Router.checkMediaType(doc, partial.headers['content-type'], partial.rawBody);
    const req: ApiRequest = { ...partial, route: match.route.template, params: match.params };
    request = req;
    return await withIdempotency(req, () => match.route.handler(req));
  } catch (err) {
    const log = (e: unknown) => logger.error('unhandled error', e as Error);
    // A unit's browser gets the same answer as a page it can read.
    if (request && doc?.page && wantsHtml(request))
      return errorPage(err, log, { back: doc.page.back(request), labels: doc.page.labels ?? {} });
    return errorResponse(err, log);
  }
}

/** The HTTP API: one function behind API Gateway (and the local server), routing inside. */
export const handler = middy<ApiEvent, ApiResult>()
  // Responses carry units' data and link tokens: traced without them.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(route);
