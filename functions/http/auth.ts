import { timingSafeEqual } from 'node:crypto';
import { linkKeys } from '../adapters/secrets.ts';
import { clock } from '../core/clock.ts';
import { ForbiddenError, GoneError, UnauthorizedError } from '../core/errors.ts';
import { verifyLink, type LinkPayload } from '../core/links.ts';
import type { ApiRequest } from './types.ts';

/** `account`: the Cognito user's `sub` when signed in (never with the local admin token, which anyone may hold). */
export type Principal =
  { kind: 'admin'; name: string; account?: string } | { kind: 'unit'; unitId: string; item: string };

const ADMIN_GROUP = process.env.ADMIN_GROUP ?? 'safeduty-admins';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Administrators: on AWS the API Gateway JWT authorizer has already verified the Cognito token and we check
 * the group claim; locally a bearer token printed by `npm start`. 401 without a valid token, 403 without the right.
 */
export function requireAdmin(req: ApiRequest): Principal & { kind: 'admin' } {
  if (process.env.AUTH_MODE === 'cognito') {
    const claims = req.event.requestContext.authorizer?.jwt?.claims;
    if (!claims) throw new UnauthorizedError('missing token', '需要管理员登录');
    const raw = claims['cognito:groups'];
    const groups = Array.isArray(raw)
      ? raw.map(String)
      : String(raw ?? '')
          .replace(/^\[|\]$/g, '')
          .split(/[ ,]+/);
    if (!groups.includes(ADMIN_GROUP)) throw new ForbiddenError('not in the admin group', '没有管理员权限');
    return {
      kind: 'admin',
      name: String(claims.email ?? claims['cognito:username'] ?? claims.sub ?? 'admin'),
      ...(claims.sub ? { account: String(claims.sub) } : {}),
    };
  }
  const expected = process.env.SAFEDUTY_ADMIN_TOKEN_LOCAL;
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m?.[1] || !expected || !sameSecret(m[1], expected)) {
    throw new UnauthorizedError('missing or bad admin token', '管理员令牌缺失或无效');
  }
  return { kind: 'admin', name: 'local-admin' };
}

/** The OAuth scope a machine client (the water or weather bureau's system) needs to issue and lift warnings. */
export const WARNING_SCOPE = 'safeduty/warnings';

/**
 * Who may issue a warning: an administrator, or on AWS a machine client of the user pool (client credentials) whose
 * token carries the warnings scope — the issuing bureau's system calls the API itself. Locally the admin token.
 */
export function requireWarningIssuer(req: ApiRequest): Principal & { kind: 'admin' } {
  const claims = req.event.requestContext.authorizer?.jwt?.claims;
  if (process.env.AUTH_MODE === 'cognito' && claims && claims['cognito:groups'] === undefined) {
    const scopes = String(claims.scope ?? '').split(' ');
    if (!scopes.includes(WARNING_SCOPE))
      throw new ForbiddenError('token lacks the warnings scope', '没有发布预警的权限');
    return { kind: 'admin', name: `integration:${String(claims.client_id ?? 'unknown')}` };
  }
  return requireAdmin(req);
}

/** A unit's signed link: 403 when forged or tampered, 410 when expired or signed with a retired key. */
export async function requireLink(token: string): Promise<LinkPayload> {
  const check = verifyLink(token, await linkKeys(), clock.nowMs());
  if (check.ok) return check.payload;
  // A link signed with a retired key is, to the person holding it, simply out of date.
  if (check.reason === 'expired' || check.reason === 'retired')
    throw new GoneError(`link ${check.reason}`, '链接已过期，请联系县安委办重新获取');
  throw new ForbiddenError('invalid link', '链接无效');
}

/** The link must be for this unit and this item: a unit cannot act on another unit's items. */
export function requireLinkFor(link: LinkPayload, unitId: string, item: string): void {
  if (link.u !== unitId || link.i !== item)
    throw new ForbiddenError('link is for another unit or item', '该链接不能用于此单位或此事项');
}
