// The local SMS gateway, through the real SDK client: what it accepts is kept with its virtual send time (and
// survives a restart); what AWS End User Messaging SMS would refuse comes back as the same exceptions, so the
// delivery run's classification is exercised locally as it would be on AWS. And the inbox page that shows it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PinpointSMSVoiceV2Client,
  SendTextMessageCommand,
  type SendTextMessageCommandInput,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetClients } from '../../functions/adapters/clients.ts';
import { sendSms } from '../../functions/adapters/sms.ts';
import { startApiServer } from '../../local/api-server.ts';
import { VirtualClock } from '../../local/clock.ts';
import { FaultState } from '../../local/faults.ts';
import type { SesGateway } from '../../local/ses-gateway.ts';
import { SmsGateway, smsParts } from '../../local/sms-gateway.ts';
import { linkify, smsInboxHtml } from '../../local/sms-inbox.ts';

const START = Date.parse('2023-02-06T09:00:00+08:00');
const PHONE = '+8613800000001';

let dir: string;
let clock: VirtualClock;
let faults: FaultState;
let gateway: SmsGateway;
let client: PinpointSMSVoiceV2Client;
let endpoint: string;

const file = () => join(dir, 'sms', 'sent.jsonl');
const send = (input: Partial<SendTextMessageCommandInput> = {}) =>
  client.send(
    new SendTextMessageCommand({
      DestinationPhoneNumber: PHONE,
      MessageBody: '【襄垣县应急管理局】您单位本月安全生产例会尚未报送。',
      MessageType: 'TRANSACTIONAL',
      ...input,
    }),
  );
/** What the call was refused with: the exception's name, HTTP status, fault and reason. */
const refusal = async (p: Promise<unknown>) => {
  const err = (await p.then(
    () => expect.unreachable('accepted'),
    (e: unknown) => e,
  )) as { name: string; $fault?: string; $metadata?: { httpStatusCode?: number }; Reason?: string };
  return { name: err.name, status: err.$metadata?.httpStatusCode, fault: err.$fault, reason: err.Reason };
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'safeduty-sms-'));
  clock = new VirtualClock(new Date(START));
  faults = new FaultState();
  gateway = new SmsGateway({ clock, faults, keep: 'all', file: file() });
  endpoint = await gateway.start();
  client = new PinpointSMSVoiceV2Client({
    endpoint,
    region: 'ap-southeast-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterEach(async () => {
  client.destroy();
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SMS gateway', () => {
  it('keeps an accepted text with its virtual send time, identity and record, and keeps it across a restart', async () => {
    const out = await send({
      OriginationIdentity: 'pool-safedutylocal',
      ConfigurationSetName: 'safeduty-sms',
      Context: { record: 'MAIL#sms:+8613800000001|1' },
    });
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    clock.set(START + 90_000);
    await send({ DestinationPhoneNumber: '+8613800000002', MessageBody: 'hello' });
    expect(gateway.messages({ to: PHONE })).toEqual([
      {
        messageId: out.MessageId,
        to: PHONE,
        text: '【襄垣县应急管理局】您单位本月安全生产例会尚未报送。',
        from: 'pool-safedutylocal',
        configurationSet: 'safeduty-sms',
        ref: 'MAIL#sms:+8613800000001|1',
        parts: 1,
        at: START,
      },
    ]);
    expect(gateway.messages({ since: START + 1 }).map((m) => [m.to, m.at])).toEqual([
      ['+8613800000002', START + 90_000],
    ]);
    expect(gateway.stats.sent).toBe(2);
    expect(readFileSync(file(), 'utf8').trim().split('\n')).toHaveLength(2);
    const again = new SmsGateway({ clock, faults, keep: 'all', file: file() });
    expect(again.sent).toEqual(gateway.sent);
  });

  it('refuses a destination that is not E.164, and a missing body, as the service validates them', async () => {
    for (const to of ['13800000001', '+86 138 0000 0001', '008613800000001', '+0123'])
      expect(await refusal(send({ DestinationPhoneNumber: to }))).toEqual({
        name: 'ValidationException',
        status: 400,
        fault: 'client',
        reason: 'FIELD_VALIDATION_FAILED',
      });
    expect(await refusal(send({ MessageBody: '' }))).toMatchObject({
      name: 'ValidationException',
      reason: 'MISSING_PARAMETER',
    });
    expect(gateway.sent).toEqual([]);
    expect(gateway.stats.invalid).toBe(5);
  });

  it('refuses a rejected number for good, and an opted-out one with the opt-out reason', async () => {
    faults.apply({ sms: { rejectNumbers: [PHONE], optedOutNumbers: ['+8613800000009'] } });
    expect(await refusal(send())).toEqual({
      name: 'ValidationException',
      status: 400,
      fault: 'client',
      reason: 'INVALID_PARAMETER',
    });
    expect(await refusal(send({ DestinationPhoneNumber: '+8613800000009' }))).toEqual({
      name: 'ConflictException',
      status: 400,
      fault: 'client',
      reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT',
    });
    await send({ DestinationPhoneNumber: '+8613800000002' });
    expect(gateway.sent.map((m) => m.to)).toEqual(['+8613800000002']);
    expect(gateway.stats).toMatchObject({ rejected: 1, optedOut: 1, sent: 1 });
  });

  it('drops connections while down, until the virtual instant given', async () => {
    faults.apply({ sms: { downUntil: '2023-02-06T09:05:00+08:00' } });
    const err = (await send().catch((e: unknown) => e)) as Error & { $metadata?: unknown };
    // A network error, not a service answer: no HTTP status, no modeled exception.
    expect(err).toBeInstanceOf(Error);
    expect(err.name).not.toMatch(/Exception$/);
    expect(gateway.stats.refusedWhileDown).toBe(1);
    clock.set(Date.parse('2023-02-06T09:05:00+08:00'));
    await send();
    expect(gateway.sent).toHaveLength(1);
  });

  it('throttles past the send rate within one virtual second, and accepts again a second later', async () => {
    faults.apply({ sms: { maxSendRate: 2 } });
    await send();
    await send();
    expect(await refusal(send())).toEqual({
      name: 'ThrottlingException',
      status: 400,
      fault: 'client',
      reason: undefined,
    });
    clock.set(START + 1000);
    await send();
    expect(gateway.stats).toMatchObject({ sent: 3, throttled: 1 });
  });

  it('fails a seeded share of sends with InternalServerException (500)', async () => {
    faults.apply({ sms: { transientErrorRate: 1 } });
    expect(await refusal(send())).toEqual({
      name: 'InternalServerException',
      status: 500,
      fault: 'server',
      reason: undefined,
    });
    faults.apply({ sms: { transientErrorRate: 0.5, seed: 7 } });
    const tenSends = async (c: PinpointSMSVoiceV2Client, from: number) => {
      const outcomes: boolean[] = [];
      for (let i = 0; i < 10; i++) {
        clock.set(from + i * 1000);
        outcomes.push(
          await c
            .send(new SendTextMessageCommand({ DestinationPhoneNumber: PHONE, MessageBody: '测试' }))
            .then(
              () => true,
              () => false,
            ),
        );
      }
      return outcomes;
    };
    const outcomes = await tenSends(client, START + 1000);
    // Seeded: another gateway with the same seed fails the same sends.
    const twin = new SmsGateway({ clock, faults, keep: 'stats' });
    const twinClient = new PinpointSMSVoiceV2Client({
      endpoint: await twin.start(),
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const again = await tenSends(twinClient, START + 20_000);
    twinClient.destroy();
    await twin.close();
    expect(again).toEqual(outcomes);
    expect(outcomes.filter(Boolean).length).toBeGreaterThan(0);
    expect(outcomes.filter((x) => !x).length).toBeGreaterThan(0);
  });

  it("receives the adapter's texts where the local runtime points the SDK (AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2)", async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2', endpoint);
    vi.stubEnv('AWS_REGION', 'ap-southeast-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    vi.stubEnv('SMS_ORIGINATION_IDENTITY', 'pool-safedutylocal');
    resetClients();
    try {
      const id = await sendSms({ to: PHONE, text: '测试', ref: 'r-1' });
      expect(gateway.sent).toEqual([
        expect.objectContaining({ messageId: id, from: 'pool-safedutylocal', ref: 'r-1' }),
      ]);
    } finally {
      vi.unstubAllEnvs();
      resetClients();
    }
  });

  it('counts billed parts as carriers do: 70 Chinese characters in one, 67 a part beyond', () => {
    expect(smsParts('测'.repeat(70))).toBe(1);
    expect(smsParts('测'.repeat(71))).toBe(2);
    expect(smsParts('a'.repeat(160))).toBe(1);
    expect(smsParts('a'.repeat(161))).toBe(2);
  });
});

describe('SMS inbox', () => {
  it('shows each number newest first, in Chinese, with Shanghai times and clickable links, escaped', () => {
    const html = smsInboxHtml(
      [
        { messageId: 'a', to: PHONE, text: '第一条 <b>', parts: 1, at: START },
        { messageId: 'b', to: '+8613800000002', text: '另一号码', parts: 1, at: START + 1000 },
        {
          messageId: 'c',
          to: PHONE,
          text: '请报送：https://safeduty.example.gov.cn/u/abc?x=1&y=2。谢谢',
          parts: 1,
          at: START + 2000,
        },
      ],
      {},
      'tok',
    );
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('短信收件箱');
    expect(html).toContain('共 3 条短信，2 个手机号。');
    expect(html).toContain('发送时间：2023年2月6日 09:00:02');
    expect(html).toContain(
      '<a href="https://safeduty.example.gov.cn/u/abc?x=1&amp;y=2">https://safeduty.example.gov.cn/u/abc?x=1&amp;y=2</a>。谢谢',
    );
    expect(html).toContain('第一条 &lt;b&gt;');
    expect(html).not.toContain('<b>');
    // The number texted last comes first; within a number, the newest message first.
    expect(html.indexOf(`>${PHONE}<`)).toBeLessThan(html.indexOf('>+8613800000002<'));
    expect(html.indexOf('请报送')).toBeLessThan(html.indexOf('第一条'));
    expect(linkify('见 http://a.cn/x).')).toBe('见 <a href="http://a.cn/x">http://a.cn/x</a>).');
  });

  it('is served at /_local/sms to administrators, as a page or as JSON', async () => {
    await send({ MessageBody: '第一条' });
    clock.set(START + 60_000);
    await send({ MessageBody: '第二条 https://safeduty.example.gov.cn/u/t' });
    const api = await startApiServer({
      port: 0,
      clock,
      advanceTo: async () => undefined,
      adminToken: 'admin-token',
      faults,
      mail: {} as SesGateway,
      sms: gateway,
    });
    try {
      expect((await fetch(`${api.url}/_local/sms`)).status).toBe(401);
      const denied = await fetch(`${api.url}/_local/sms?format=json&token=wrong`);
      expect(denied.status).toBe(401);
      expect(await denied.json()).toMatchObject({ message: '需要管理员令牌' });

      const page = await fetch(`${api.url}/_local/sms?token=admin-token&to=${encodeURIComponent(PHONE)}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await page.text();
      expect(html).toContain(`${PHONE} 共收到 2 条短信。`);
      expect(html).toContain('<a href="https://safeduty.example.gov.cn/u/t">');

      const json = await fetch(`${api.url}/_local/sms?format=json&limit=1`, {
        headers: { authorization: 'Bearer admin-token' },
      });
      expect(await json.json()).toMatchObject({
        count: 2,
        messages: [{ to: PHONE, text: '第二条 https://safeduty.example.gov.cn/u/t', at: START + 60_000 }],
      });
      const since = await fetch(`${api.url}/_local/sms?format=json&token=admin-token&since=${START + 1}`);
      expect(((await since.json()) as { count: number }).count).toBe(1);
    } finally {
      await new Promise((resolve) => api.server.close(resolve));
    }
  });
});
