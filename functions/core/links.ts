import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Signed unit links: the bearer may act for one unit on one item (a cycle or a case) until the expiry.
 * Token = base64url(payload) "." base64url(HMAC-SHA256(key, payload)); the payload names the key (`k`), so keys can
 * be rotated while links signed with the previous one stay valid (docs/decisions.md §23).
 */
export const linkPayloadSchema = z
  .object({
    /** unit id */
    u: z.string().min(1),
    /** item: `cycle:<dutyId>:<periodKey>`, `case:<caseId>` or `overdue:<dutyId>:<periodKey>` */
    i: z.string().min(1),
    /** expiry, epoch seconds */
    e: z.number().int().positive(),
    /** the signing key's id; absent in links signed before keys had ids (they were signed with key `k1`) */
    k: z.string().optional(),
  })
  .strict();
export type LinkPayload = z.infer<typeof linkPayloadSchema>;

export type LinkCheck =
  | { ok: true; payload: LinkPayload }
  | { ok: false; reason: 'forged' }
  | { ok: false; reason: 'expired'; payload: LinkPayload }
  /** Signed with a key that has been retired from the key ring: to its holder, as good as expired. */
  | { ok: false; reason: 'retired' };

/** The id a plain secret (no key ring) has, and the id links without one were signed with. */
export const FIRST_KEY_ID = 'k1';
const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
const MIN_KEY_LENGTH = 32;

/** Link keys: `current` signs; every key in `keys` verifies (the current one and those not yet retired). */
export interface LinkKeys {
  current: string;
  keys: Record<string, string>;
}

const keyRingSchema = z
  .object({
    current: z.string().regex(KEY_ID, 'must be 1–32 letters, digits, dots, hyphens or underscores'),
    keys: z
      .record(
        z.string().regex(KEY_ID, 'key ids are 1–32 letters, digits, dots, hyphens or underscores'),
        z.string().min(MIN_KEY_LENGTH, `must be at least ${MIN_KEY_LENGTH} characters`),
      )
      .refine((k) => Object.keys(k).length <= 10, 'at most 10 keys'),
  })
  .strict()
  .refine((r) => r.current in r.keys, { message: 'current must name one of keys', path: ['current'] });

/**
 * The link keys from their stored form: a key ring as JSON (`{"current":"k2","keys":{"k2":"…","k1":"…"}}`), or a
 * plain secret, which is key `k1`. Throws with the problem (never the key) when it is neither.
 */
export function parseLinkKeys(value: string): LinkKeys {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) {
    if (trimmed.length < MIN_KEY_LENGTH)
      throw new Error(`the link secret is shorter than ${MIN_KEY_LENGTH} characters`);
    return { current: FIRST_KEY_ID, keys: { [FIRST_KEY_ID]: trimmed } };
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new Error('the link key ring is not valid JSON');
  }
  const r = keyRingSchema.safeParse(json);
  if (!r.success)
    throw new Error(
      `the link key ring is invalid: ${r.error.issues.map((i) => `${i.path.join('.') || '(ring)'}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

const asKeys = (k: LinkKeys | string): LinkKeys =>
  typeof k === 'string' ? { current: FIRST_KEY_ID, keys: { [FIRST_KEY_ID]: k } } : k;

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** Signs with the current key; a plain secret signs as key `k1` without naming it (the links of before). */
export function signLink(payload: Omit<LinkPayload, 'k'>, keys: LinkKeys | string): string {
  const ring = asKeys(keys);
  const secret = ring.keys[ring.current] as string;
  const named: LinkPayload = typeof keys === 'string' ? payload : { ...payload, k: ring.current };
  const body = Buffer.from(JSON.stringify(named)).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

export function verifyLink(token: string, keys: LinkKeys | string, nowMs: number): LinkCheck {
  const ring = asKeys(keys);
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined) return { ok: false, reason: 'forged' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'forged' };
  }
  // The key id is read before the signature is checked, only to choose the key; nothing else of an unverified
  // payload is used, and an unknown id gets the same answer as an expired link.
  const kid = (parsed as { k?: unknown } | null)?.k ?? FIRST_KEY_ID;
  if (typeof kid !== 'string') return { ok: false, reason: 'forged' };
  const secret = Object.hasOwn(ring.keys, kid) ? ring.keys[kid] : undefined;
  if (secret === undefined) return { ok: false, reason: 'retired' };
  // Compare the canonical encodings: base64url decoding is lenient, and a token should have one spelling.
  const expected = Buffer.from(mac(secret, body).toString('base64url'));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'forged' };
  const r = linkPayloadSchema.safeParse(parsed);
  if (!r.success) return { ok: false, reason: 'forged' };
  if (r.data.e * 1000 <= nowMs) return { ok: false, reason: 'expired', payload: r.data };
  return { ok: true, payload: r.data };
}

export const cycleItem = (dutyId: string, periodKey: string) => `cycle:${dutyId}:${periodKey}`;
export const caseItem = (caseId: string) => `case:${caseId}`;
/** The read-only overdue list of a cycle an escalation links to; `u` is then the scope (`department:<id>`…). */
export const overdueItem = (dutyId: string, periodKey: string) => `overdue:${dutyId}:${periodKey}`;
