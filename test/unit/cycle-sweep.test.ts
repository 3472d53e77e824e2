// One step of a duty cycle (advanceCycle) against an in-memory table and a mocked SES: which emails go out at
// each stage, that a retried or crashed step never sends twice, SES failures, bad records and catch-up.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  MessageRejected,
  SESv2Client,
  SendEmailCommand,
  TooManyRequestsException,
  type SendEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { documentClient } from '../../functions/adapters/clients.ts';
import { setMailRetryOptions } from '../../functions/adapters/mailer.ts';
import { resetSecretCache } from '../../functions/adapters/secrets.ts';
import {
  activeRoster,
  claimNotification,
  getCycle,
  keys,
  putLeaders,
  putUnits,
  settleNotification,
} from '../../functions/adapters/store.ts';
import { clock } from '../../functions/core/clock.ts';
import { advanceCycle, type AdvanceResult } from '../../functions/core/cycle.ts';
import { verifyLink } from '../../functions/core/links.ts';
import type { Leader, Unit } from '../../functions/core/model.ts';
import { recordSubmission } from '../../functions/core/submissions.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import type { UnitKind } from '../../workflows/catalog/schema.ts';
import { FakeTable } from './support/fake-table.ts';

const TABLE = 'safeduty-unit-test';
const SECRET = 'unit-test-link-secret-0123456789abcdef';
const CONSOLE = 'https://safeduty.example.gov.cn';
const catalog = loadCatalog();
const WEEKLY = catalog.require('risk-prejudgment-weekly');
const MONTHLY_MEETING = catalog.require('monthly-safety-meeting');
const W06 = '2023-W06';
const SUBJECT_W06 = keys.cyclePk(WEEKLY.id, W06);

// A page size of 2 makes every roster and submission read go through LastEvaluatedKey paging.
const table = new FakeTable(TABLE, 2);
const ses = mockClient(SESv2Client);

// ------------------------------------------------------------------------------------------------ the county

const mail = (id: string, role: 'contact' | 'principal' | 'holder') => `${id}.${role}@example.gov.cn`;

function unit(id: string, name: string, kind: UnitKind, extra: Partial<Unit> = {}): Unit {
  return {
    id,
    name,
    kind,
    contact: { name: `${name}联络员`, email: mail(id, 'contact') },
    principal: { name: `${name}负责人`, email: mail(id, 'principal') },
    active: true,
    ...extra,
  };
}

const SUPERVISED = { supervisingDepartmentId: 'dept-emergency', leaderInChargeId: 'leader-a' };
const office = unit('county-safety-office', '县安委办', 'county-body');
const dept = unit('dept-emergency', '县应急管理局', 'county-department', { leaderInChargeId: 'leader-a' });
const leader: Leader = {
  id: 'leader-a',
  titleZh: '分管安全生产副县长',
  holder: { name: '王副县长', email: mail('leader-a', 'holder') },
};
// ent-a submits on time, ent-b late; ent-c and ent-d never do; ent-e has no supervising department (its
// escalations to that position fall back to the safety office); ent-closed is inactive and off the roster.
const enterprises = [
  unit('ent-a', '甲矿业有限公司', 'enterprise', SUPERVISED),
  unit('ent-b', '乙化工有限公司', 'enterprise', SUPERVISED),
  unit('ent-c', '丙煤业有限公司', 'enterprise', SUPERVISED),
  unit('ent-d', '丁建材有限公司', 'enterprise', SUPERVISED),
  unit('ent-e', '戊物流有限公司', 'enterprise', { leaderInChargeId: 'leader-a' }),
  unit('ent-closed', '已关停有限公司', 'enterprise', { ...SUPERVISED, active: false }),
];
const towns = [unit('town-a', '古韩镇', 'town', SUPERVISED), unit('town-b', '王桥镇', 'town', SUPERVISED)];

async function seedCounty(extra: Unit[] = []): Promise<void> {
  await putUnits([office, dept, ...extra]);
  await putLeaders([leader]);
}

// ------------------------------------------------------------------------------------------------ SES

interface Email {
  to: string;
  subject: string;
  text: string;
  html: string;
}

function toEmail(input: SendEmailCommandInput): Email {
  const simple = input.Content?.Simple;
  return {
    to: (input.Destination?.ToAddresses ?? []).join(','),
    subject: simple?.Subject?.Data ?? '',
    text: simple?.Body?.Text?.Data ?? '',
    html: simple?.Body?.Html?.Data ?? '',
  };
}

/** Every SendEmail call, delivered or not, and the ones SES accepted. */
let attempts: Email[] = [];
let delivered: Email[] = [];
/** Decides a call's fate: an error to throw, or undefined to accept it. */
let sesOutcome: (email: Email, attempt: number) => Error | undefined = () => undefined;

function installSes(): void {
  ses.reset();
  ses.on(SendEmailCommand).callsFake(async (input: SendEmailCommandInput) => {
    const email = toEmail(input);
    attempts.push(email);
    const error = sesOutcome(email, attempts.length);
    if (error) throw error;
    delivered.push(email);
    return { MessageId: `ses-${delivered.length}`, $metadata: {} };
  });
}

const kindOf = (e: Email) =>
  e.subject.startsWith('【提醒】') ? 'reminder' : e.subject.startsWith('【逾期】') ? 'escalation' : 'other';
/** Numbered lines of a digest: `1. 丙煤业有限公司：…`. */
const listedUnits = (e: Email) => [...e.text.matchAll(/^\d+\. (\S+?)：/gm)].map((m) => m[1]);
/** `kind recipient [units]`, sorted: the order of concurrent sends is not part of the contract. */
const summary = (emails: Email[]) =>
  emails
    .map((e) => {
      const units = listedUnits(e);
      return `${kindOf(e)} ${e.to}${units.length > 0 ? ` [${units.join(',')}]` : ''}`;
    })
    .sort();

// ------------------------------------------------------------------------------------------------ clock and steps

let now = 0;
let restoreClock: (() => void) | undefined;
const setClock = (iso: string) => {
  now = Date.parse(iso);
};
const log = { warn: vi.fn() };

/** Runs one step at `iso`; returns its result and the emails SES accepted during it. */
async function step(
  iso: string,
  duty = WEEKLY,
  periodKey = W06,
): Promise<{ result: AdvanceResult; emails: Email[] }> {
  setClock(iso);
  const before = delivered.length;
  const result = await advanceCycle(duty, { dutyId: duty.id, periodKey }, log);
  return { result, emails: delivered.slice(before) };
}

/** A step expected to fail. Sends it started concurrently finish in microtasks: wait them out before going on. */
async function failingStep(iso: string, message: string, duty = WEEKLY, periodKey = W06): Promise<void> {
  setClock(iso);
  await expect(advanceCycle(duty, { dutyId: duty.id, periodKey }, log)).rejects.toThrow(message);
  await new Promise((r) => setTimeout(r, 20));
}

async function submit(unitId: string, iso: string, duty = WEEKLY, periodKey = W06) {
  setClock(iso);
  return recordSubmission(catalog, {
    dutyId: duty.id,
    periodKey,
    unitId,
    note: '',
    evidence: {},
    recordedBy: 'unit-link',
    route: 'test',
  });
}

/** The notification ledger of a cycle. */
const ledger = (subject: string) => table.partition(subject, 'NOTE#');
/** The stage ids the ledger holds entries for. */
const ledgerStages = (subject: string) => new Set(ledger(subject).map((n) => String(n.SK).split('#')[1]));

beforeEach(() => {
  table.reset();
  attempts = [];
  delivered = [];
  sesOutcome = () => undefined;
  installSes();
  log.warn.mockReset();
  vi.stubEnv('TABLE_NAME', TABLE);
  vi.stubEnv('SENDER_ADDRESS', 'noreply@safeduty.example.gov.cn');
  vi.stubEnv('SAFEDUTY_LINK_SECRET', SECRET);
  vi.stubEnv('CONSOLE_URL', `${CONSOLE}/`);
  vi.stubEnv('SES_CONFIGURATION_SET', '');
  vi.stubEnv('SAFETY_OFFICE_UNIT_ID', 'county-safety-office');
  resetSecretCache();
  setMailRetryOptions({ sleep: async () => {} });
  restoreClock = clock.use(() => now);
});

afterEach(() => {
  restoreClock?.();
  vi.unstubAllEnvs();
});

afterAll(() => {
  setMailRetryOptions({});
  resetSecretCache();
  table.restore();
  ses.restore();
});

// ------------------------------------------------------------------------------------------------ the fake itself

describe('the fake table', () => {
  it('evaluates the conditions store.ts writes and throws ConditionalCheckFailedException', async () => {
    const db = documentClient();
    await db.send(
      new PutCommand({
        TableName: TABLE,
        Item: { PK: 'X', SK: 'Y', n: 1 },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    const again = db.send(
      new PutCommand({
        TableName: TABLE,
        Item: { PK: 'X', SK: 'Y', n: 2 },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    await expect(again).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(table.get('X', 'Y')?.n).toBe(1);
    const closeMissing = db.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { PK: 'nope', SK: 'CYCLE' },
        UpdateExpression: 'SET lastError = :e',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':e': 'x' },
      }),
    );
    await expect(closeMissing).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(table.get('nope', 'CYCLE')).toBeUndefined();
  });

  it('throws on expressions and parameters it does not implement, and on unused placeholders', async () => {
    const db = documentClient();
    const put = (input: Record<string, unknown>) =>
      db.send(new PutCommand({ TableName: TABLE, Item: { PK: 'X', SK: 'Y' }, ...input }));
    await expect(put({ ConditionExpression: 'attribute_not_exists(SK)' })).rejects.toThrow(
      /unsupported ConditionExpression/,
    );
    await expect(put({ ReturnValues: 'ALL_OLD' })).rejects.toThrow(/unsupported PutCommand parameter/);
    await expect(put({ ExpressionAttributeValues: { ':unused': 1 } })).rejects.toThrow(
      /unused attribute value/,
    );
    const update = (UpdateExpression: string, ExpressionAttributeValues: Record<string, unknown>) =>
      db.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { PK: 'X', SK: 'Y' },
          UpdateExpression,
          ExpressionAttributeValues,
        }),
      );
    await expect(update('ADD n :one', { ':one': 1 })).rejects.toThrow(/unsupported UpdateExpression/);
    await expect(update('SET n = n + :one', { ':one': 1 })).rejects.toThrow(/unsupported UpdateExpression/);
    await expect(update('SET n = :v', {})).rejects.toThrow(/undefined attribute value/);
    const query = db.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'PK = :pk AND SK > :s',
        ExpressionAttributeValues: { ':pk': 'X', ':s': 'A' },
      }),
    );
    await expect(query).rejects.toThrow(/unsupported KeyConditionExpression/);
    await expect(
      db.send(new GetCommand({ TableName: 'other-table', Key: { PK: 'X', SK: 'Y' } })),
    ).rejects.toThrow(/not found/);
  });

  it('pages queries, and the store reads every page', async () => {
    await putUnits(enterprises);
    const { units, bad } = await activeRoster(['enterprise']);
    expect(units.map((u) => u.id)).toEqual(['ent-a', 'ent-b', 'ent-c', 'ent-d', 'ent-e']);
    expect(bad).toEqual([]);
    // Five active units with pages of two: three pages, the last one short.
    expect(table.mock.commandCalls(QueryCommand).length).toBe(3);
  });

  it('implements the ledger claim: fresh claims block, stale and failed ones are reclaimed, sent ones never', async () => {
    const t0 = '2023-02-06T10:00:00.000Z';
    const plus = (minutes: number) => new Date(Date.parse(t0) + minutes * 60_000).toISOString();
    expect(await claimNotification('S', 'st', 'a@x.cn', {}, t0)).toBe('claimed');
    expect(await claimNotification('S', 'st', 'A@X.cn', {}, plus(1))).toBe('in-flight');
    expect(await claimNotification('S', 'st', 'a@x.cn', {}, plus(6))).toBe('claimed');
    await settleNotification('S', 'st', 'a@x.cn', { status: 'sent', messageId: 'm', at: plus(6) });
    expect(await claimNotification('S', 'st', 'a@x.cn', {}, plus(60))).toBe('already-sent');
    expect(await claimNotification('S', 'st', 'b@x.cn', {}, t0)).toBe('claimed');
    await settleNotification('S', 'st', 'b@x.cn', { status: 'failed', error: 'boom', at: t0 });
    expect(await claimNotification('S', 'st', 'b@x.cn', {}, t0)).toBe('claimed');
  });
});

// ------------------------------------------------------------------------------------------------ a whole cycle

describe('a weekly cycle, stage by stage (risk-prejudgment-weekly 2023-W06)', () => {
  it('reminds the missing units, escalates as digests, and closes with the defaulters', async () => {
    await seedCounty(enterprises);

    // The execution starts when the window opens: the record is created, nothing is due yet.
    let s = await step('2023-02-06T00:00:05+08:00');
    expect(s.result).toEqual({
      status: 'waiting',
      wakeAt: '2023-02-06T10:00:00+08:00',
      generation: 1,
      sent: 0,
      missing: -1,
    });
    expect(s.emails).toEqual([]);
    expect(await getCycle(WEEKLY.id, W06)).toMatchObject({
      status: 'open',
      deadline: '2023-02-06T18:00:00+08:00',
      stagesDone: [],
    });

    expect((await submit('ent-a', '2023-02-06T09:00:00+08:00')).submission.late).toBe(false);

    // Monday 10:00 and 16:00: one reminder per missing unit, to its contact, with its own link.
    s = await step('2023-02-06T10:00:00+08:00');
    expect(s.result).toEqual({
      status: 'waiting',
      wakeAt: '2023-02-06T16:00:00+08:00',
      generation: 1,
      sent: 4,
      missing: 4,
    });
    expect(summary(s.emails)).toEqual(
      ['ent-b', 'ent-c', 'ent-d', 'ent-e'].map((id) => `reminder ${mail(id, 'contact')}`),
    );
    for (const e of s.emails) {
      const unitId = e.to.split('.')[0];
      const token = new RegExp(`${CONSOLE}/links/([\\w.-]+)`).exec(e.text)?.[1] ?? '';
      const check = verifyLink(token, SECRET, now);
      expect(check).toMatchObject({ ok: true, payload: { u: unitId, i: `cycle:${WEEKLY.id}:${W06}` } });
      expect(e.subject).toContain(WEEKLY.titleZh);
    }

    s = await step('2023-02-06T16:00:00+08:00');
    expect(s.result).toMatchObject({ status: 'waiting', wakeAt: '2023-02-07T09:00:00+08:00', sent: 4 });
    expect(summary(s.emails)).toEqual(
      ['ent-b', 'ent-c', 'ent-d', 'ent-e'].map((id) => `reminder ${mail(id, 'contact')}`),
    );

    // Tuesday 09:00, level 1 (contact): a one-unit digest to each contact.
    s = await step('2023-02-07T09:00:00+08:00');
    expect(s.result).toMatchObject({
      status: 'waiting',
      wakeAt: '2023-02-08T09:00:00+08:00',
      sent: 4,
      missing: 4,
    });
    expect(summary(s.emails)).toEqual([
      `escalation ${mail('ent-b', 'contact')} [乙化工有限公司]`,
      `escalation ${mail('ent-c', 'contact')} [丙煤业有限公司]`,
      `escalation ${mail('ent-d', 'contact')} [丁建材有限公司]`,
      `escalation ${mail('ent-e', 'contact')} [戊物流有限公司]`,
    ]);
    for (const e of s.emails) {
      expect(e.subject).toMatch(/^【逾期】.*1个单位逾期未完成（第1级督办）$/);
      expect(e.text).toContain('已逾期1个工作日');
    }

    // ent-b submits after the deadline, before the next stage: recorded as late, and no longer chased.
    expect((await submit('ent-b', '2023-02-07T15:00:00+08:00')).submission.late).toBe(true);

    // Wednesday 09:00, level 2 (contact, principal).
    s = await step('2023-02-08T09:00:00+08:00');
    expect(s.result).toMatchObject({
      status: 'waiting',
      wakeAt: '2023-02-10T09:00:00+08:00',
      sent: 6,
      missing: 3,
    });
    expect(summary(s.emails)).toEqual([
      `escalation ${mail('ent-c', 'contact')} [丙煤业有限公司]`,
      `escalation ${mail('ent-c', 'principal')} [丙煤业有限公司]`,
      `escalation ${mail('ent-d', 'contact')} [丁建材有限公司]`,
      `escalation ${mail('ent-d', 'principal')} [丁建材有限公司]`,
      `escalation ${mail('ent-e', 'contact')} [戊物流有限公司]`,
      `escalation ${mail('ent-e', 'principal')} [戊物流有限公司]`,
    ]);

    // Friday 09:00, level 3 (principal, supervising department), the last stage: the department head gets ONE
    // digest listing both of its overdue units; ent-e's missing department falls back to the safety office.
    s = await step('2023-02-10T09:00:00+08:00');
    expect(s.result).toEqual({ status: 'closed', defaulters: 3, sent: 5 });
    expect(summary(s.emails)).toEqual([
      `escalation ${mail('county-safety-office', 'contact')} [戊物流有限公司]`,
      `escalation ${mail('dept-emergency', 'principal')} [丙煤业有限公司,丁建材有限公司]`,
      `escalation ${mail('ent-c', 'principal')} [丙煤业有限公司]`,
      `escalation ${mail('ent-d', 'principal')} [丁建材有限公司]`,
      `escalation ${mail('ent-e', 'principal')} [戊物流有限公司]`,
    ]);
    const digest = s.emails.find((e) => e.to === mail('dept-emergency', 'principal'));
    expect(digest?.subject).toMatch(
      /^【逾期】基层单位安全风险隐患周预判（2023年第6周（2月6日至2月12日））2个单位逾期未完成（第3级督办）$/,
    );
    expect(digest?.text).toContain('县应急管理局负责人（行业监管部门负责人）');
    expect(digest?.text).toContain(
      '丙煤业有限公司：基层单位安全风险隐患周预判，已逾期4个工作日，督办级别：第3级',
    );
    expect(digest?.html).toContain('<td>丁建材有限公司</td>');

    const cycle = await getCycle(WEEKLY.id, W06);
    expect(cycle).toMatchObject({
      status: 'closed',
      defaulters: ['ent-c', 'ent-d', 'ent-e'],
      closedAt: '2023-02-10T09:00:00+08:00',
    });
    expect(cycle?.stagesDone).toEqual([
      'reminder-1',
      'reminder-2',
      'escalation-1',
      'escalation-2',
      'escalation-3',
    ]);
    expect(table.get(SUBJECT_W06, 'CYCLE')?.GSI2PK).toBe('CYCLE-STATUS#closed');
    const stages = table.partition(SUBJECT_W06, 'STAGE#');
    expect(stages.map((r) => r.stageId)).toEqual([
      'escalation-1',
      'escalation-2',
      'escalation-3',
      'reminder-1',
      'reminder-2',
    ]);
    expect(stages.find((r) => r.stageId === 'escalation-3')?.missing).toEqual(['ent-c', 'ent-d', 'ent-e']);

    // Every accepted email has exactly one settled ledger entry; nothing is left claimed.
    const notes = ledger(SUBJECT_W06);
    expect(notes.length).toBe(delivered.length);
    expect(delivered.length).toBe(23);
    expect(new Set(notes.map((n) => n.status))).toEqual(new Set(['sent']));
    // ent-e has no supervising department: its level-3 digest went to 安委办, and that was reported.
    expect(log.warn).toHaveBeenCalledWith(
      'escalation position not held',
      expect.objectContaining({ detail: expect.stringContaining('ent-e') }),
    );

    // A closed cycle stays closed and silent.
    s = await step('2023-02-13T09:00:00+08:00');
    expect(s.result).toEqual({ status: 'closed', defaulters: 3, sent: 0 });
    expect(s.emails).toEqual([]);
  });

  it('closes early, without escalating, once every unit has submitted', async () => {
    await seedCounty(enterprises.slice(0, 2));
    await step('2023-02-06T00:00:05+08:00');
    await submit('ent-a', '2023-02-06T09:00:00+08:00');
    await submit('ent-b', '2023-02-06T19:00:00+08:00');
    const s = await step('2023-02-07T09:00:00+08:00');
    expect(s.result).toEqual({ status: 'closed', defaulters: 0, sent: 0 });
    expect(s.emails).toEqual([]);
    expect(await getCycle(WEEKLY.id, W06)).toMatchObject({ status: 'closed', defaulters: [] });
  });
});

// ------------------------------------------------------------------------------------------------ retries

describe('a retried step sends nothing twice', () => {
  beforeEach(async () => {
    await seedCounty(enterprises);
    await step('2023-02-06T00:00:05+08:00');
  });

  it('repeating a step at the same instant sends nothing', async () => {
    const first = await step('2023-02-06T10:00:00+08:00');
    expect(first.result).toMatchObject({ status: 'waiting', sent: 5 });
    const second = await step('2023-02-06T10:00:00+08:00');
    expect(second.result).toEqual({
      status: 'waiting',
      wakeAt: '2023-02-06T16:00:00+08:00',
      generation: 1,
      sent: 0,
      missing: -1,
    });
    expect(second.emails).toEqual([]);
    expect(delivered.length).toBe(5);
  });

  it('a step that sent everything but crashed before marking the stage done sends nothing on retry', async () => {
    table.failOn(
      'UpdateCommand',
      (i) => String(i.UpdateExpression).startsWith('SET stagesDone'),
      new Error('crash'),
    );
    await failingStep('2023-02-06T10:00:00+08:00', 'crash');
    expect(delivered.length).toBe(5);
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual([]);

    const retry = await step('2023-02-06T10:00:00+08:00');
    expect(retry.emails).toEqual([]);
    expect(retry.result).toMatchObject({
      status: 'waiting',
      wakeAt: '2023-02-06T16:00:00+08:00',
      sent: 0,
      missing: 5,
    });
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual(['reminder-1']);
    expect(attempts.length).toBe(5);
  });

  it('a crash after SES accepted a message but before the ledger was settled holds the stage until the lease ends', async () => {
    const toC = `NOTE#reminder-1#ent-c/${mail('ent-c', 'contact')}`;
    const settleToC = (i: Record<string, unknown>) =>
      (i.Key as { SK?: string }).SK === toC &&
      (i.ExpressionAttributeValues as Record<string, unknown>)[':s'] === 'sent';
    table.failOn('UpdateCommand', settleToC, new Error('lambda died'));

    await failingStep('2023-02-06T10:00:00+08:00', 'lambda died');
    expect(delivered.map((e) => e.to)).toContain(mail('ent-c', 'contact'));
    expect(delivered.length).toBe(5);
    expect(table.get(SUBJECT_W06, toC)?.status).toBe('claimed');

    // The state machine retries within seconds: the claim is still leased, so ent-c is not written to again,
    // and the step fails (to be retried) rather than mark the stage done with a message unsettled.
    await failingStep('2023-02-06T10:00:07+08:00', 'claimed but not settled');
    expect(attempts.length).toBe(5);
    // Past the lease the claim is taken over: at-least-once, so ent-c may hear twice but is never lost.
    const retry = await step('2023-02-06T10:06:00+08:00');
    expect(retry.emails.map((e) => e.to)).toEqual([mail('ent-c', 'contact')]);
    expect(retry.result).toMatchObject({ status: 'waiting', sent: 1 });
    expect(table.get(SUBJECT_W06, toC)?.status).toBe('sent');
    // Later stages are unaffected.
    const next = await step('2023-02-06T16:00:00+08:00');
    expect(next.emails.length).toBe(5);
  });
});

// ------------------------------------------------------------------------------------------------ SES failures

describe('SES failures', () => {
  beforeEach(async () => {
    await seedCounty([enterprises[2] as Unit, enterprises[3] as Unit]);
    await step('2023-02-06T00:00:05+08:00');
  });

  it('retries throttling and sends the email once', async () => {
    const throttled = () =>
      new TooManyRequestsException({
        message: 'Maximum sending rate exceeded.',
        $metadata: { httpStatusCode: 429 },
      });
    let throttles = 0;
    sesOutcome = (e) => (e.to === mail('ent-c', 'contact') && throttles++ < 2 ? throttled() : undefined);
    const s = await step('2023-02-06T10:00:00+08:00');
    expect(s.result).toMatchObject({ status: 'waiting', sent: 2 });
    expect(attempts.filter((e) => e.to === mail('ent-c', 'contact')).length).toBe(3);
    expect(summary(delivered)).toEqual([
      `reminder ${mail('ent-c', 'contact')}`,
      `reminder ${mail('ent-d', 'contact')}`,
    ]);
    expect(ledger(SUBJECT_W06).map((n) => n.status)).toEqual(['sent', 'sent']);
  });

  it('marks a rejected email failed, rethrows, and the next step sends it (and only it)', async () => {
    let reject = true;
    sesOutcome = (e) =>
      reject && e.to === mail('ent-c', 'contact')
        ? new MessageRejected({
            message: 'Email address is not verified.',
            $metadata: { httpStatusCode: 400 },
          })
        : undefined;
    await failingStep('2023-02-06T10:00:00+08:00', 'Email address is not verified.');
    // Not transient: one attempt only.
    expect(attempts.filter((e) => e.to === mail('ent-c', 'contact')).length).toBe(1);
    const entry = table.get(SUBJECT_W06, `NOTE#reminder-1#ent-c/${mail('ent-c', 'contact')}`);
    expect(entry).toMatchObject({
      status: 'failed',
      error: 'MessageRejected: Email address is not verified.',
    });
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual([]);
    expect(summary(delivered)).toEqual([`reminder ${mail('ent-d', 'contact')}`]);

    reject = false;
    const retry = await step('2023-02-06T10:00:10+08:00');
    expect(retry.result).toMatchObject({ status: 'waiting', sent: 1 });
    expect(summary(retry.emails)).toEqual([`reminder ${mail('ent-c', 'contact')}`]);
    expect(ledger(SUBJECT_W06).map((n) => n.status)).toEqual(['sent', 'sent']);
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual(['reminder-1']);
  });
});

// ------------------------------------------------------------------------------------------------ bad records

describe('a bad unit record in the roster', () => {
  it('is reported through log.warn and skipped; the other units still get their emails', async () => {
    await seedCounty(enterprises.slice(2, 4));
    const { contact: _contact, ...noContact } = unit('ent-bad', '坏记录有限公司', 'enterprise');
    table.seed(
      { PK: 'UNIT#ent-bad', SK: 'UNIT', GSI1PK: 'ROSTER#enterprise', GSI1SK: 'ent-bad', ...noContact },
      {
        PK: 'UNIT#ent-bad-mail',
        SK: 'UNIT',
        GSI1PK: 'ROSTER#enterprise',
        GSI1SK: 'ent-bad-mail',
        ...unit('ent-bad-mail', '错邮箱有限公司', 'enterprise', {
          contact: { name: '某人', email: 'not an address' },
        }),
      },
    );
    await step('2023-02-06T00:00:05+08:00');
    const s = await step('2023-02-06T10:00:00+08:00');
    expect(summary(s.emails)).toEqual([
      `reminder ${mail('ent-c', 'contact')}`,
      `reminder ${mail('ent-d', 'contact')}`,
    ]);
    expect(s.result).toMatchObject({ status: 'waiting', sent: 2, missing: 2 });
    expect(log.warn).toHaveBeenCalledTimes(2);
    expect(log.warn).toHaveBeenCalledWith('skipping a unit record that does not match its schema', {
      key: 'UNIT#ent-bad/UNIT',
      problems: expect.stringContaining('contact'),
    });
    expect(log.warn).toHaveBeenCalledWith('skipping a unit record that does not match its schema', {
      key: 'UNIT#ent-bad-mail/UNIT',
      problems: expect.stringContaining('contact.email'),
    });
  });
});

// ------------------------------------------------------------------------------------------------ catch-up

describe('catch-up after an outage', () => {
  it('long after every stage: one message per recipient, the last escalation addressing every collapsed level', async () => {
    await seedCounty(enterprises);
    await step('2023-02-06T00:00:05+08:00');
    await submit('ent-a', '2023-02-06T09:00:00+08:00');
    // Nothing ran from Monday morning until Friday 09:30: five stages are due at once.
    const s = await step('2023-02-10T09:30:00+08:00');
    expect(s.result).toEqual({ status: 'closed', defaulters: 4, sent: 10 });
    // escalation-3 with the union of contact (levels 1, 2), principal (2, 3) and supervising department (3).
    expect(summary(s.emails)).toEqual([
      `escalation ${mail('county-safety-office', 'contact')} [戊物流有限公司]`,
      `escalation ${mail('dept-emergency', 'principal')} [乙化工有限公司,丙煤业有限公司,丁建材有限公司]`,
      ...['ent-b', 'ent-c', 'ent-d', 'ent-e'].flatMap((id) => {
        const name = enterprises.find((u) => u.id === id)?.name;
        return [
          `escalation ${mail(id, 'contact')} [${name}]`,
          `escalation ${mail(id, 'principal')} [${name}]`,
        ];
      }),
    ]);
    for (const e of s.emails) expect(e.subject).toMatch(/（第3级督办）$/);
    expect(ledgerStages(SUBJECT_W06)).toEqual(new Set(['escalation-3']));
    expect(table.partition(SUBJECT_W06, 'STAGE#').map((r) => r.stageId)).toEqual(['escalation-3']);
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual([
      'reminder-1',
      'reminder-2',
      'escalation-1',
      'escalation-2',
      'escalation-3',
    ]);
  });

  it('before the deadline, only the latest missed reminder goes out', async () => {
    await seedCounty(enterprises.slice(2, 4));
    const s = await step('2023-02-06T17:00:00+08:00');
    expect(summary(s.emails)).toEqual([
      `reminder ${mail('ent-c', 'contact')}`,
      `reminder ${mail('ent-d', 'contact')}`,
    ]);
    expect(ledgerStages(SUBJECT_W06)).toEqual(new Set(['reminder-2']));
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual(['reminder-1', 'reminder-2']);
  });

  it('after the deadline, missed reminders are dropped rather than sent late', async () => {
    await seedCounty(enterprises.slice(2, 4));
    const s = await step('2023-02-06T20:00:00+08:00');
    expect(s.emails).toEqual([]);
    expect(s.result).toEqual({
      status: 'waiting',
      wakeAt: '2023-02-07T09:00:00+08:00',
      generation: 1,
      sent: 0,
      missing: 2,
    });
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual(['reminder-1', 'reminder-2']);
  });

  it('a monthly meeting caught up at its last level: the leader and the safety office get one digest each', async () => {
    // monthly-safety-meeting is owed by towns and county bodies, so the safety office itself is on the roster.
    await seedCounty(towns);
    const s = await step('2023-10-16T10:00:00+08:00', MONTHLY_MEETING, '2023-09');
    expect(s.result).toEqual({ status: 'closed', defaulters: 3, sent: 8 });
    expect(summary(s.emails)).toEqual([
      `escalation ${mail('county-safety-office', 'contact')} [县安委办,古韩镇,王桥镇]`,
      `escalation ${mail('county-safety-office', 'principal')} [县安委办]`,
      `escalation ${mail('dept-emergency', 'principal')} [古韩镇,王桥镇]`,
      `escalation ${mail('leader-a', 'holder')} [古韩镇,王桥镇]`,
      `escalation ${mail('town-a', 'contact')} [古韩镇]`,
      `escalation ${mail('town-a', 'principal')} [古韩镇]`,
      `escalation ${mail('town-b', 'contact')} [王桥镇]`,
      `escalation ${mail('town-b', 'principal')} [王桥镇]`,
    ]);
    const toLeader = s.emails.find((e) => e.to === mail('leader-a', 'holder'));
    expect(toLeader?.text).toContain('王副县长（分管县领导）');
    // 2023-09-28 → 2023-10-16: the make-up working days 10-07 and 10-08 count, the National Day holiday does not.
    expect(toLeader?.text).toContain('已逾期8个工作日');
    expect(toLeader?.subject).toMatch(/（第5级督办）$/);
  });
});

// ------------------------------------------------------------------------------------------------ long cycles

describe('a cycle whose next stage is beyond one execution', () => {
  it('waits until the execution span limit, then continues in a new generation', async () => {
    await seedCounty(enterprises.slice(2, 3));
    const duty = catalog.require('year-end-safety-report');
    const input = { dutyId: duty.id, periodKey: '2023', executionStartTime: '2023-01-01T00:00:05+08:00' };
    setClock('2023-01-01T00:00:10+08:00');
    // The first reminder (11-29) is beyond 330 days of this execution: wait until the limit instead.
    expect(await advanceCycle(duty, input, log)).toEqual({
      status: 'waiting',
      wakeAt: '2023-11-27T00:00:05+08:00',
      generation: 1,
      sent: 0,
      missing: -1,
    });
    setClock('2023-11-27T00:00:05+08:00');
    expect(await advanceCycle(duty, input, log)).toEqual({
      status: 'continue',
      wakeAt: '2023-11-29T09:00:00+08:00',
      generation: 2,
      nextExecutionName: 'year-end-safety-report_2023_g2',
      sent: 0,
      missing: -1,
    });
    expect((await getCycle(duty.id, '2023'))?.generation).toBe(2);
    expect(delivered).toEqual([]);
  });
});
