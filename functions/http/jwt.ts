import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { ApiEvent } from './types.ts';

/**
 * Verifies a Cognito user-pool JWT inside the function, for the one kind of route API Gateway does not
 * authorize but an administrator may call (the submission route, open because unit links use it too). On
 * every other admin route the API Gateway JWT authorizer has already verified the token and put its claims
 * in the event; here the function does the same checks: RS256 signature by a key of the pool's JWKS, issuer,
 * expiry, token use, and the app client (`aud` of an ID token, `client_id` of an access token).
 */
export interface CognitoConfig {
  region: string;
  userPoolId: string;
  clientId: string;
}

export type JwksFetcher = (url: string) => Promise<{ keys: (JsonWebKey & { kid?: string })[] }>;

const defaultFetcher: JwksFetcher = async (url) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) throw new Error(`JWKS fetch failed: ${res.status}`);
  return (await res.json()) as { keys: (JsonWebKey & { kid?: string })[] };
};

let fetcher: JwksFetcher = defaultFetcher;
let cache: { url: string; keys: Map<string, KeyObject> } | undefined;

/** Tests install their own key source; returns a function restoring the default. */
export function useJwksFetcher(f: JwksFetcher): () => void {
  fetcher = f;
  cache = undefined;
  return () => {
    fetcher = defaultFetcher;
    cache = undefined;
  };
}

export function issuerOf(c: CognitoConfig): string {
  return `https://cognito-idp.${c.region}.amazonaws.com/${c.userPoolId}`;
}

async function keyFor(c: CognitoConfig, kid: string): Promise<KeyObject | undefined> {
  const url = `${issuerOf(c)}/.well-known/jwks.json`;
  // A key the cache does not know may be a rotated one: refetch once.
  for (const fresh of [false, true]) {
    if (fresh || cache?.url !== url) {
      const { keys } = await fetcher(url);
      const map = new Map<string, KeyObject>();
      for (const k of keys)
        if (k.kid && k.kty === 'RSA') map.set(k.kid, createPublicKey({ key: k, format: 'jwk' }));
      cache = { url, keys: map };
    }
    const key = cache.keys.get(kid);
    if (key) return key;
  }
  return undefined;
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The token's claims when it is a valid token of the pool and client; undefined otherwise (never throws on bad input). */
export async function verifyCognitoJwt(
  token: string,
  c: CognitoConfig,
  nowMs: number,
): Promise<Record<string, unknown> | undefined> {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', p = '', s = ''] = parts;
  const header = decodePart(h);
  const claims = decodePart(p);
  if (!header || !claims || header.alg !== 'RS256' || typeof header.kid !== 'string') return undefined;
  let key: KeyObject | undefined;
  try {
    key = await keyFor(c, header.kid);
  } catch {
    return undefined;
  }
  if (!key) return undefined;
  const signed = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
  if (!signed) return undefined;
  if (claims.iss !== issuerOf(c)) return undefined;
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return undefined;
  if (
    claims.token_use === 'id'
      ? claims.aud !== c.clientId
      : claims.token_use === 'access'
        ? claims.client_id !== c.clientId
        : true
  )
    return undefined;
  return claims;
}

function configFromEnv(): CognitoConfig | undefined {
  const region = process.env.AWS_REGION;
  const userPoolId = process.env.USER_POOL_ID;
  const clientId = process.env.USER_POOL_CLIENT_ID;
  return region && userPoolId && clientId ? { region, userPoolId, clientId } : undefined;
}

/**
 * In Cognito mode, on a route API Gateway did not authorize: a Bearer token that verifies becomes the event's
 * JWT claims, exactly as the authorizer would have set them. Anything else leaves the event as it is, and
 * requireAdmin answers 401.
 */
export async function attachVerifiedClaims(event: ApiEvent, nowMs: number): Promise<void> {
  if (process.env.AUTH_MODE !== 'cognito' || event.requestContext.authorizer?.jwt?.claims) return;
  const header = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  const config = configFromEnv();
  if (!m?.[1] || !config) return;
  const claims = await verifyCognitoJwt(m[1], config, nowMs);
  if (claims) event.requestContext.authorizer = { jwt: { claims } };
}
