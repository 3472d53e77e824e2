import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { ApiEvent } from './types.ts';

/**
 * Verifies a Cognito user-pool JWT inside the function, for the one kind of route API Gateway does not authorize
 * but an administrator may call (the submission and case routes, open because unit links use them too). On every
 * other admin route the API Gateway JWT authorizer has already verified the token and put its claims in the event.
 * The checks are AWS's maintained verifier's (aws-jwt-verify): signature by a key of the pool's JWKS (fetched, cached,
 * refetched for an unknown key id, so Cognito's key rotation needs nothing from us), issuer, expiry, token use (ID or
 * access), and the app client (`aud` of an ID token, `client_id` of an access token).
 */
export interface CognitoConfig {
  userPoolId: string;
  /** The app clients whose tokens are accepted: the CLI's and the console's. */
  clientId: string | string[];
}

type Verifier = ReturnType<typeof makeVerifier>;
const makeVerifier = (c: CognitoConfig) =>
  CognitoJwtVerifier.create({ userPoolId: c.userPoolId, clientId: c.clientId, tokenUse: null });

// One verifier per pool and client, created once per container: it holds the JWKS cache.
let verifier: { key: string; v: Verifier } | undefined;
function verifierFor(c: CognitoConfig): Verifier {
  const key = `${c.userPoolId}|${String(c.clientId)}`;
  if (verifier?.key !== key) verifier = { key, v: makeVerifier(c) };
  return verifier.v;
}

/** Tests give the pool's keys instead of letting the verifier fetch them; returns a function forgetting them. */
export function useJwks(c: CognitoConfig, jwks: Parameters<Verifier['cacheJwks']>[0]): () => void {
  verifierFor(c).cacheJwks(jwks);
  return () => {
    verifier = undefined;
  };
}

/** The token's claims when it is a valid token of the pool and client; undefined otherwise (never throws). */
export async function verifyCognitoJwt(
  token: string,
  c: CognitoConfig,
): Promise<Record<string, unknown> | undefined> {
  try {
    return (await verifierFor(c).verify(token)) as unknown as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function configFromEnv(): CognitoConfig | undefined {
  const userPoolId = process.env.USER_POOL_ID;
  // USER_POOL_CLIENT_ID: one client id, or several separated by commas.
  const clientIds = (process.env.USER_POOL_CLIENT_ID ?? '').split(',').filter(Boolean);
  return userPoolId && clientIds.length > 0
    ? { userPoolId, clientId: clientIds.length === 1 ? (clientIds[0] as string) : clientIds }
    : undefined;
}

/**
 * In Cognito mode, on a route API Gateway did not authorize: a Bearer token that verifies becomes the event's
 * JWT claims, exactly as the authorizer would have set them. Anything else leaves the event as it is, and
 * requireAdmin answers 401.
 */
export async function attachVerifiedClaims(event: ApiEvent): Promise<void> {
  if (process.env.AUTH_MODE !== 'cognito' || event.requestContext.authorizer?.jwt?.claims) return;
  const header = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  const config = configFromEnv();
  if (!m?.[1] || !config) return;
  const claims = await verifyCognitoJwt(m[1], config);
  if (claims) event.requestContext.authorizer = { jwt: { claims } };
}
