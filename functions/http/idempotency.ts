import { createHash } from 'node:crypto';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
} from '../adapters/idempotency.ts';
import { clock } from '../core/clock.ts';
import { ConflictError, UnprocessableError, ValidationError } from '../core/errors.ts';
import { requireLink, requireWarningIssuer } from './auth.ts';
import type { ApiRequest, ApiResult } from './types.ts';

/**
 * `Idempotency-Key` on POST, PUT, PATCH and DELETE. The first request with a key claims it (a conditional put
 * on `IDEMP#<key>` with a fingerprint of the request); its answer is stored if it succeeded (2xx), and a retry
 * with the same key and the same request gets that answer again — marked `idempotent-replayed: true` — without
 * running anything. The same key with a different request is 422; while the first is still running, 409.
 * A request that failed wrote nothing, so its claim is released and the key can be used again.
 *
 * The fingerprint covers the method, path, query, content type, body and the caller (a Cognito user's subject,
 * else the bearer token, and any unit link), so only the same caller replaying the same request ever sees a
 * stored answer; before it does, its credentials are checked again.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY = /^[\x21-\x7e]{1,128}$/;
/** Keys are remembered for a day. */
const TTL_SECONDS = 24 * 3600;
/** Longer than the API function's timeout: a claim older than this belongs to a request that died. */
const LEASE_MS = 60_000;
/** DynamoDB items hold at most 400 KB; larger answers are not stored (the routes that give them are idempotent). */
const MAX_STORED_BODY = 300_000;

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function fingerprint(req: ApiRequest): string {
  const claims = req.event.requestContext.authorizer?.jwt?.claims;
  const query = Object.entries(req.query).sort(([a], [b]) => a.localeCompare(b));
  return sha256(
    JSON.stringify([
      req.method,
      req.path,
      query,
      req.headers['content-type'] ?? '',
      req.rawBody,
      // The caller: a Cognito user by its subject (a refreshed token is the same caller), else the bearer token.
      claims?.sub !== undefined ? `sub:${String(claims.sub)}` : (req.headers.authorization ?? ''),
      req.headers['x-safeduty-link'] ?? '',
    ]),
  );
}

/** Before a stored answer is replayed, the credentials that earned it must still be valid. */
async function recheckCredentials(req: ApiRequest): Promise<void> {
  const link = req.headers['x-safeduty-link'];
  if (link) await requireLink(link);
  else if (req.headers.authorization || req.event.requestContext.authorizer?.jwt?.claims)
    requireWarningIssuer(req);
}

export async function withIdempotency(req: ApiRequest, run: () => Promise<ApiResult>): Promise<ApiResult> {
  const key = req.headers[IDEMPOTENCY_HEADER];
  if (key === undefined || !METHODS.has(req.method)) return run();
  if (!KEY.test(key))
    throw new ValidationError('bad idempotency key', '幂等键（Idempotency-Key）格式有误', [
      { field: 'Idempotency-Key', problem: '应为1至128个可见的ASCII字符' },
    ]);
  const fp = fingerprint(req);
  const claim = await claimIdempotencyKey(key, fp, clock.nowMs(), {
    leaseMs: LEASE_MS,
    ttlSeconds: TTL_SECONDS,
  });
  if (!claim.claimed) {
    const { existing } = claim;
    if (existing.fingerprint !== fp)
      throw new UnprocessableError(
        'idempotency key reused for another request',
        '该幂等键已用于另一个不同的请求',
        [{ field: 'Idempotency-Key', problem: '已用于另一个不同的请求' }],
      );
    if (existing.status === 'in-progress')
      throw new ConflictError(
        'request with this key in progress',
        '使用同一幂等键的请求正在处理中，请稍后重试',
        [{ field: 'Idempotency-Key', problem: '使用此键的请求仍在处理中' }],
      );
    await recheckCredentials(req);
    const r = existing.response;
    return {
      statusCode: r.statusCode,
      headers: { ...r.headers, 'idempotent-replayed': 'true' },
      body: r.body,
    };
  }
  let result: ApiResult;
  try {
    result = await run();
  } catch (err) {
    await releaseIdempotencyKey(key, fp);
    throw err;
  }
  const status = result.statusCode ?? 200;
  const body = typeof result.body === 'string' ? result.body : '';
  if (status >= 200 && status < 300 && Buffer.byteLength(body) <= MAX_STORED_BODY) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
    await completeIdempotencyKey(key, fp, { statusCode: status, headers, body });
  } else {
    await releaseIdempotencyKey(key, fp);
  }
  return result;
}
