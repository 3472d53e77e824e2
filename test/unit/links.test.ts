import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  caseItem,
  cycleItem,
  parseLinkKeys,
  signLink,
  verifyLink,
  type LinkPayload,
} from '../../functions/core/links.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123';
const NOW = Date.parse('2023-02-06T10:00:00+08:00');
const payload: LinkPayload = {
  u: 'ent-a',
  i: cycleItem('risk-prejudgment-weekly', '2023-W06'),
  e: NOW / 1000 + 3600,
};
const token = signLink(payload, SECRET);
const [body = '', sig = ''] = token.split('.');

/** A token over an arbitrary body, correctly signed: only the payload check can reject it. */
const signedBody = (text: string, secret = SECRET) => {
  const b = Buffer.from(text).toString('base64url');
  return `${b}.${createHmac('sha256', secret).update(b).digest('base64url')}`;
};

/** Replaces the character at `i` with a different base64url character. */
const flip = (s: string, i: number) => `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;

describe('signed unit links', () => {
  it('round-trips: a token verifies to its payload', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyLink(token, SECRET, NOW)).toEqual({ ok: true, payload });
    const forCase = { u: 'town-a', i: caseItem('case-42'), e: NOW / 1000 + 60 };
    expect(verifyLink(signLink(forCase, SECRET), SECRET, NOW)).toEqual({ ok: true, payload: forCase });
    expect(cycleItem('d', '2023-W06')).toBe('cycle:d:2023-W06');
  });

  it('is deterministic for the same payload and secret', () => {
    expect(signLink({ ...payload }, SECRET)).toBe(token);
  });

  it('rejects a tampered payload as forged', () => {
    // Another unit, same signature.
    const other = Buffer.from(JSON.stringify({ ...payload, u: 'ent-b' })).toString('base64url');
    expect(verifyLink(`${other}.${sig}`, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
    // A later expiry, same signature.
    const later = Buffer.from(JSON.stringify({ ...payload, e: payload.e + 86_400 })).toString('base64url');
    expect(verifyLink(`${later}.${sig}`, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyLink(`${flip(body, 5)}.${sig}`, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it('rejects a tampered signature as forged', () => {
    expect(verifyLink(`${body}.${flip(sig, 0)}`, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyLink(`${body}.${flip(sig, 20)}`, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyLink(`${body}.${sig.slice(0, -4)}`, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyLink(`${body}.${sig}${sig}`, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it('rejects a token signed with another secret as forged', () => {
    expect(verifyLink(signLink(payload, `${SECRET}-other`), SECRET, NOW)).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(verifyLink(token, `${SECRET}-other`, NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it('reports an expired link with its payload, from the expiry second on', () => {
    const expiry = payload.e * 1000;
    expect(verifyLink(token, SECRET, expiry - 1)).toEqual({ ok: true, payload });
    expect(verifyLink(token, SECRET, expiry)).toEqual({ ok: false, reason: 'expired', payload });
    expect(verifyLink(token, SECRET, expiry + 30 * 86_400_000)).toEqual({
      ok: false,
      reason: 'expired',
      payload,
    });
  });

  it('checks the signature before the expiry: an expired forgery is forged', () => {
    expect(verifyLink(signLink(payload, 'someone-elses-secret'), SECRET, payload.e * 1000 + 1)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it.each([
    ['empty', ''],
    ['a dot', '.'],
    ['no signature', body],
    ['empty signature', `${body}.`],
    ['empty body', `.${sig}`],
    ['three parts', `${token}.${sig}`],
    ['spaces', ' . '],
    ['not base64', '!!!.???'],
    ['unicode', '链接.无效'],
  ])('rejects garbage as forged: %s', (_name, garbage) => {
    expect(verifyLink(garbage, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it.each([
    ['not JSON', 'not json at all'],
    ['a JSON string', '"ent-a"'],
    ['null', 'null'],
    ['missing the expiry', JSON.stringify({ u: 'ent-a', i: 'cycle:x:2023' })],
    ['an extra field', JSON.stringify({ ...payload, admin: true })],
    ['a fractional expiry', JSON.stringify({ ...payload, e: 1.5 })],
    ['a negative expiry', JSON.stringify({ ...payload, e: -1 })],
    ['an empty unit', JSON.stringify({ ...payload, u: '' })],
  ])('rejects a correctly signed body that is not a valid payload as forged: %s', (_name, text) => {
    expect(verifyLink(signedBody(text), SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
  });
});

describe('link keys: rotation', () => {
  const K1 = 'the-first-link-key-at-least-32-characters';
  const K2 = 'the-second-link-key-at-least-32-characters';
  const expiry = NOW / 1000 + 3600;

  it('reads a plain secret as key k1, and a key ring as JSON; refuses what is neither, naming the problem', () => {
    expect(parseLinkKeys(` ${K1}\n`)).toEqual({ current: 'k1', keys: { k1: K1 } });
    expect(parseLinkKeys(JSON.stringify({ current: 'k2', keys: { k2: K2, k1: K1 } }))).toEqual({
      current: 'k2',
      keys: { k2: K2, k1: K1 },
    });
    expect(() => parseLinkKeys('short')).toThrow('shorter than 32 characters');
    expect(() => parseLinkKeys('{"current":')).toThrow('not valid JSON');
    expect(() => parseLinkKeys(JSON.stringify({ current: 'k3', keys: { k2: K2 } }))).toThrow(
      'current: current must name one of keys',
    );
    expect(() => parseLinkKeys(JSON.stringify({ current: 'k2', keys: { k2: 'short' } }))).toThrow(
      'keys.k2: must be at least 32 characters',
    );
  });

  it('a link signed before rotation verifies while its key is in the ring; retired, it is as good as expired', () => {
    const old = signLink({ u: 'ent-a', i: 'case:c1', e: expiry }, K1);
    const ring = { current: 'k2', keys: { k2: K2, k1: K1 } };
    expect(verifyLink(old, ring, NOW)).toMatchObject({ ok: true, payload: { u: 'ent-a' } });
    const fresh = signLink({ u: 'ent-a', i: 'case:c1', e: expiry }, ring);
    expect(verifyLink(fresh, ring, NOW)).toMatchObject({ ok: true, payload: { k: 'k2' } });
    // Retired: k1 is gone from the ring.
    const after = { current: 'k2', keys: { k2: K2 } };
    expect(verifyLink(old, after, NOW)).toEqual({ ok: false, reason: 'retired' });
    expect(verifyLink(fresh, after, NOW)).toMatchObject({ ok: true });
    // A key id is no way around the signature: naming k2 over a body signed with another key is a forgery.
    const body = Buffer.from(JSON.stringify({ u: 'ent-a', i: 'case:c1', e: expiry, k: 'k2' })).toString(
      'base64url',
    );
    const wrong = createHmac('sha256', K1).update(body).digest('base64url');
    expect(verifyLink(`${body}.${wrong}`, after, NOW)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyLink(signedBody(JSON.stringify({ u: 'x', i: 'y', e: expiry, k: 7 })), SECRET, NOW)).toEqual({
      ok: false,
      reason: 'forged',
    });
    // Inherited properties are not keys.
    expect(
      verifyLink(signedBody(JSON.stringify({ u: 'x', i: 'y', e: expiry, k: 'toString' })), after, NOW),
    ).toEqual({
      ok: false,
      reason: 'retired',
    });
  });
});
