import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Signed unit links: the bearer may act for one unit on one item (a cycle or a case) until the expiry.
 * Token = base64url(payload) "." base64url(HMAC-SHA256(secret, payload)).
 */
export const linkPayloadSchema = z
  .object({
    /** unit id */
    u: z.string().min(1),
    /** item: `cycle:<dutyId>:<periodKey>`, `case:<caseId>` or `overdue:<dutyId>:<periodKey>` */
    i: z.string().min(1),
    /** expiry, epoch seconds */
    e: z.number().int().positive(),
  })
  .strict();
export type LinkPayload = z.infer<typeof linkPayloadSchema>;

export type LinkCheck =
  | { ok: true; payload: LinkPayload }
  | { ok: false; reason: 'forged' }
  | { ok: false; reason: 'expired'; payload: LinkPayload };

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

export function signLink(payload: LinkPayload, secret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

export function verifyLink(token: string, secret: string, nowMs: number): LinkCheck {
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined) return { ok: false, reason: 'forged' };
  // Compare the canonical encodings: base64url decoding is lenient, and a token should have one spelling.
  const expected = Buffer.from(mac(secret, body).toString('base64url'));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'forged' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'forged' };
  }
  const r = linkPayloadSchema.safeParse(parsed);
  if (!r.success) return { ok: false, reason: 'forged' };
  if (r.data.e * 1000 <= nowMs) return { ok: false, reason: 'expired', payload: r.data };
  return { ok: true, payload: r.data };
}

export const cycleItem = (dutyId: string, periodKey: string) => `cycle:${dutyId}:${periodKey}`;
export const caseItem = (caseId: string) => `case:${caseId}`;
/** The read-only overdue list of a cycle an escalation links to; `u` is then the scope (`department:<id>`…). */
export const overdueItem = (dutyId: string, periodKey: string) => `overdue:${dutyId}:${periodKey}`;
