import { createSign, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { requireAdmin, requireWarningIssuer } from '../../functions/http/auth.ts';
import { attachVerifiedClaims, useJwks, verifyCognitoJwt } from '../../functions/http/jwt.ts';
import type { ApiEvent, ApiRequest } from '../../functions/http/types.ts';

function request(claims?: Record<string, unknown>, headers: Record<string, string> = {}): ApiRequest {
  const event = {
    headers,
    requestContext: { ...(claims ? { authorizer: { jwt: { claims } } } : {}), http: { method: 'GET' } },
  } as unknown as ApiEvent;
  return {
    method: 'GET',
    path: '/units',
    route: '/units',
    params: {},
    query: {},
    headers,
    body: undefined,
    rawBody: '',
    rawBytes: Buffer.alloc(0),
    event,
  };
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('requireWarningIssuer: an administrator, or the issuing system with the warnings scope', () => {
  beforeEach(() => {
    process.env.AUTH_MODE = 'cognito';
  });

  it('accepts a machine client whose token carries safeduty/warnings, as itself', () => {
    expect(requireWarningIssuer(request({ client_id: 'abc123', scope: 'safeduty/warnings' }))).toEqual({
      kind: 'admin',
      name: 'integration:abc123',
    });
  });

  it('refuses a token without the scope (another client, a user outside the admin group) with 403', () => {
    expect(() => requireWarningIssuer(request({ client_id: 'abc123', scope: 'safeduty/other' }))).toThrow(
      expect.objectContaining({ messageZh: '没有发布预警的权限' }),
    );
    expect(() =>
      requireWarningIssuer(
        request({ sub: 'u1', scope: 'aws.cognito.signin.user.admin', 'cognito:username': 'li' }),
      ),
    ).toThrow(expect.objectContaining({ messageZh: '没有发布预警的权限' }));
  });

  it('takes an administrator as requireAdmin does', () => {
    expect(
      requireWarningIssuer(request({ 'cognito:groups': ['safeduty-admins'], email: 'admin@example.gov.cn' })),
    ).toEqual({ kind: 'admin', name: 'admin@example.gov.cn' });
  });
});

describe('requireAdmin with AUTH_MODE=cognito (claims from the API Gateway JWT authorizer)', () => {
  beforeEach(() => {
    process.env.AUTH_MODE = 'cognito';
  });

  it('accepts a member of safeduty-admins, whichever way API Gateway spells the groups claim', () => {
    for (const groups of [
      ['safeduty-admins'],
      '[safeduty-admins]',
      '[readers safeduty-admins]',
      'readers,safeduty-admins',
    ]) {
      expect(requireAdmin(request({ 'cognito:groups': groups, email: 'admin@example.gov.cn' }))).toEqual({
        kind: 'admin',
        name: 'admin@example.gov.cn',
      });
    }
    expect(
      requireAdmin(request({ 'cognito:groups': '[safeduty-admins]', 'cognito:username': 'wang' })).name,
    ).toBe('wang');
  });

  it('answers 403 to a valid user outside the group, and 401 without claims', () => {
    for (const claims of [
      { sub: 'u1' },
      { sub: 'u1', 'cognito:groups': '[readers]' },
      { 'cognito:groups': 'safeduty-admins-x' },
    ]) {
      expect(() => requireAdmin(request(claims))).toThrow(
        expect.objectContaining({ status: 403, code: 'forbidden' }),
      );
    }
    expect(() => requireAdmin(request())).toThrow(expect.objectContaining({ status: 401 }));
    // A bearer token alone is not a Cognito login: the local token never works on AWS.
    process.env.SAFEDUTY_ADMIN_TOKEN_LOCAL = 'local-token';
    expect(() => requireAdmin(request(undefined, { authorization: 'Bearer local-token' }))).toThrow(
      expect.objectContaining({ status: 401 }),
    );
  });
});

describe('requireAdmin locally (bearer token)', () => {
  it('accepts exactly the local admin token', () => {
    delete process.env.AUTH_MODE;
    process.env.SAFEDUTY_ADMIN_TOKEN_LOCAL = 'local-token';
    expect(requireAdmin(request(undefined, { authorization: 'Bearer local-token' })).kind).toBe('admin');
    for (const authorization of ['Bearer local-token2', 'Bearer ', 'local-token', 'Basic bG9jYWw=', '']) {
      expect(() => requireAdmin(request(undefined, { authorization }))).toThrow(
        expect.objectContaining({ status: 401 }),
      );
    }
    delete process.env.SAFEDUTY_ADMIN_TOKEN_LOCAL;
    expect(() => requireAdmin(request(undefined, { authorization: 'Bearer ' }))).toThrow(
      expect.objectContaining({ status: 401 }),
    );
  });
});

describe('Cognito JWT verification in the function (routes API Gateway leaves open)', () => {
  const config = { userPoolId: 'ap-southeast-1_Test', clientId: 'client-123' };
  const issuer = 'https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Test';
  const NOW = Date.parse('2023-02-06T09:00:00Z');
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...(pair.publicKey.export({ format: 'jwk' }) as JsonWebKey),
    kid: 'key-1',
    alg: 'RS256',
    use: 'sig',
  };

  beforeEach(() => {
    // The verifier checks expiry against the real clock; the tokens are of 2023.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const forget = useJwks(config, { keys: [jwk as never] });
    return () => {
      forget();
      vi.useRealTimers();
    };
  });

  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  function token(
    claims: Record<string, unknown>,
    options: { kid?: string; key?: typeof pair.privateKey; alg?: string } = {},
  ) {
    const head = b64({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'key-1' });
    const body = b64(claims);
    const sig = createSign('RSA-SHA256')
      .update(`${head}.${body}`)
      .sign(options.key ?? pair.privateKey)
      .toString('base64url');
    return `${head}.${body}.${sig}`;
  }
  const idClaims = {
    sub: 'u-1',
    iss: issuer,
    aud: 'client-123',
    token_use: 'id',
    exp: NOW / 1000 + 600,
    'cognito:groups': ['safeduty-admins'],
    email: 'admin@example.gov.cn',
  };

  it('accepts ID and access tokens of the pool and client', async () => {
    expect(await verifyCognitoJwt(token(idClaims), config)).toMatchObject({ sub: 'u-1' });
    const access = { ...idClaims, aud: undefined, token_use: 'access', client_id: 'client-123' };
    expect(await verifyCognitoJwt(token(access), config)).toMatchObject({ token_use: 'access' });
  });

  it('refuses other clients, issuers, expired tokens, bad signatures, other algorithms and garbage', async () => {
    const refused = [
      token({ ...idClaims, aud: 'other-client' }),
      token({ ...idClaims, iss: 'https://cognito-idp.ap-southeast-1.amazonaws.com/other-pool' }),
      token({ ...idClaims, exp: NOW / 1000 - 1 }),
      token({ ...idClaims, exp: 'never' }),
      token({ ...idClaims, token_use: 'refresh' }),
      token(idClaims, { key: other.privateKey }),
      token(idClaims, { kid: 'unknown-key' }),
      `${b64({ alg: 'none', kid: 'key-1' })}.${b64(idClaims)}.`,
      token(idClaims).replace(/\.[^.]+\./, `.${b64({ ...idClaims, sub: 'someone-else' })}.`),
      'not.a.jwt',
      'abc',
      '',
    ];
    for (const t of refused) expect(await verifyCognitoJwt(t, config), t.slice(0, 40)).toBeUndefined();
  });

  it('puts verified claims on the event in cognito mode only, so requireAdmin decides as on any admin route', async () => {
    Object.assign(process.env, {
      AUTH_MODE: 'cognito',
      USER_POOL_ID: config.userPoolId,
      USER_POOL_CLIENT_ID: config.clientId,
    });
    const good = request(undefined, { authorization: `Bearer ${token(idClaims)}` });
    await attachVerifiedClaims(good.event);
    expect(requireAdmin(good).name).toBe('admin@example.gov.cn');

    const notAdmin = request(undefined, {
      authorization: `Bearer ${token({ ...idClaims, 'cognito:groups': ['readers'] })}`,
    });
    await attachVerifiedClaims(notAdmin.event);
    expect(() => requireAdmin(notAdmin)).toThrow(expect.objectContaining({ status: 403 }));

    const forged = request(undefined, {
      authorization: `Bearer ${token(idClaims, { key: other.privateKey })}`,
    });
    await attachVerifiedClaims(forged.event);
    expect(() => requireAdmin(forged)).toThrow(expect.objectContaining({ status: 401 }));

    // Claims the authorizer already set are left alone.
    const authorized = request(
      { 'cognito:groups': '[safeduty-admins]', sub: 'x' },
      { authorization: 'Bearer junk' },
    );
    await attachVerifiedClaims(authorized.event);
    expect(requireAdmin(authorized).name).toBe('x');

    delete process.env.AUTH_MODE;
    const local = request(undefined, { authorization: `Bearer ${token(idClaims)}` });
    await attachVerifiedClaims(local.event);
    expect(local.event.requestContext.authorizer).toBeUndefined();
  });
});
