// One step of a duty cycle (advanceCycle) against an in-memory table: which notices it records at each stage,
// that a re-run records nothing new, catch-up, the fair start, bad records, and sweeps that span invocations.
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureDeliveryRun } from '../../functions/adapters/delivery-starter.ts';
import { outboxStore } from '../../functions/adapters/outbox-store.ts';
import { getCycle, listDefaulters, putLeaders, putUnits } from '../../functions/adapters/store.ts';
import { clock } from '../../functions/core/clock.ts';
import { advanceCycle, type AdvanceResult } from '../../functions/core/cycle.ts';
import { UNADDRESSED_MESSAGE } from '../../functions/core/directory.ts';
import type { Leader, UnitRecord } from '../../functions/core/model.ts';
import { recordSubmission } from '../../functions/core/submissions.ts';
import type { Notice } from '../../functions/notices/model.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { loadDeliveryPolicy } from '../../workflows/delivery/policy.ts';
import type { UnitKind } from '../../workflows/catalog/schema.ts';
import { FakeTable } from './support/fake-table.ts';

const TABLE = 'safeduty-unit-test';
const catalog = loadCatalog();
const WEEKLY = catalog.require('risk-prejudgment-weekly');
const MEETING = catalog.require('monthly-safety-meeting');
const W06 = '2023-W06';
const DELIVERY_ARN = 'arn:aws:states:ap-southeast-1:000000000000:stateMachine:SafedutyStateless-delivery';

// A page size of 2 makes every roster and submission read go through LastEvaluatedKey paging.
const table = new FakeTable(TABLE, 2);
const sfn = mockClient(SFNClient);
/** Delivery executions started, as `name moment`. */
let started: string[] = [];

const mail = (id: string, role: string) => `${id}.${role}@example.gov.cn`;
function unit(id: string, kind: UnitKind, extra: Partial<UnitRecord> = {}): UnitRecord {
  return {
    id,
    name: `${id}有限公司`,
    kind,
    contact: { name: `${id}联络员`, email: mail(id, 'contact') },
    principal: { name: `${id}负责人`, email: mail(id, 'principal') },
    active: true,
    joinedAt: '2023-01-01T00:00:00+08:00',
    ...extra,
  };
}
const SUPERVISED = { supervisingDepartmentId: 'dept', leaderInChargeId: 'leader-a' };
const office = unit('county-safety-office', 'county-body');
const dept = unit('dept', 'county-department', { leaderInChargeId: 'leader-a' });
const leader: Leader = {
  id: 'leader-a',
  titleZh: '副县长',
  holder: { name: '王副县长', email: 'leader-a@example.gov.cn' },
};
// ent-e has no supervising department: its escalations to that position go to 安委办.
const enterprises = [
  ...['ent-a', 'ent-b', 'ent-c', 'ent-d'].map((id) => unit(id, 'enterprise', SUPERVISED)),
  unit('ent-e', 'enterprise', { leaderInChargeId: 'leader-a' }),
  unit('ent-closed', 'enterprise', { ...SUPERVISED, active: false }),
];

let now = 0;
let restore: (() => void) | undefined;
const log = { warn: vi.fn() };
let remaining = () => 600_000;
const sink = { record: outboxStore.record, ensureDelivery: ensureDeliveryRun };
// The weekly duty's two Monday reminders, at 09:00 and 14:30 (the default policy puts both at 09:00, one
// reminder): two stages on one day show units dropping out between them.
const policy = { ...loadDeliveryPolicy(), reminderMoment: 'latest' as const };

async function step(
  iso: string,
  duty = WEEKLY,
  periodKey = W06,
  executionStartTime?: string,
): Promise<AdvanceResult> {
  now = Date.parse(iso);
  return advanceCycle(
    duty,
    { dutyId: duty.id, periodKey, ...(executionStartTime ? { executionStartTime } : {}) },
    { log, sink, remainingMs: () => remaining(), policy },
  );
}

async function submit(unitId: string, iso: string, duty = WEEKLY, periodKey = W06) {
  now = Date.parse(iso);
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

/** Every notice in the outbox, as `stage recipient [units]`, sorted. */
function outbox(): string[] {
  const out: string[] = [];
  for (let shard = 0; shard < outboxStore.shards; shard++)
    for (const item of table.partition(`OUTBOX#${shard}`)) {
      const n = item as unknown as Notice;
      const units = 'units' in n.body ? n.body.units.map((u) => u.id).join(',') : '';
      out.push(`${n.stage} ${n.recipient.address} [${units}] @${n.at.slice(11, 16)}`);
    }
  return out.sort();
}
const clearOutbox = () => {
  for (let shard = 0; shard < outboxStore.shards; shard++)
    for (const item of table.partition(`OUTBOX#${shard}`)) table.remove(String(item.PK), String(item.SK));
};

beforeEach(async () => {
  table.reset();
  sfn.reset();
  started = [];
  sfn.on(StartExecutionCommand).callsFake(async (input: { name: string; input: string }) => {
    started.push(`${input.name} ${(JSON.parse(input.input) as { moment: string }).moment}`);
    return { executionArn: `${DELIVERY_ARN}:${input.name}`, startDate: new Date(), $metadata: {} };
  });
  log.warn.mockReset();
  remaining = () => 600_000;
  vi.stubEnv('TABLE_NAME', TABLE);
  vi.stubEnv('DELIVERY_STATE_MACHINE_ARN', DELIVERY_ARN);
  vi.stubEnv('SAFETY_OFFICE_UNIT_ID', 'county-safety-office');
  restore = clock.use(() => now);
  await putUnits([office, dept, ...enterprises]);
  await putLeaders([leader]);
});
afterEach(() => {
  restore?.();
  vi.unstubAllEnvs();
});
afterAll(() => {
  table.restore();
  sfn.restore();
});

describe('a weekly cycle, stage by stage (risk-prejudgment-weekly 2023-W06)', () => {
  it('records what each person is owed at each stage, and closes with the defaulters', async () => {
    // Started when the week opens: the record exists, nothing is due before 08:50 (ten minutes before 09:00).
    expect(await step('2023-02-06T00:05:00+08:00')).toEqual({
      status: 'waiting',
      wakeAt: '2023-02-06T08:50:00+08:00',
      generation: 1,
      notices: 0,
      missing: -1,
    });
    expect(await getCycle(WEEKLY.id, W06)).toMatchObject({
      status: 'open',
      trackedSince: '2023-02-06T00:05:00+08:00',
      plannedWakeAt: '2023-02-06T08:50:00+08:00',
    });

    await submit('ent-a', '2023-02-06T08:00:00+08:00');
    expect(await step('2023-02-06T08:50:00+08:00')).toMatchObject({
      status: 'waiting',
      wakeAt: '2023-02-06T14:20:00+08:00',
      notices: 4,
    });
    expect(outbox()).toEqual(
      ['ent-b', 'ent-c', 'ent-d', 'ent-e'].map((u) => `reminder-1 ${mail(u, 'contact')} [${u}] @09:00`),
    );
    // The delivery run of the 09:00 moment is made sure of, by name: every producer of the moment gets the same one.
    expect(started).toEqual(['delivery-20230206T0900 2023-02-06T09:00:00+08:00']);

    // A retry of the same step at the same instant records nothing new.
    clearOutbox();
    await submit('ent-b', '2023-02-06T14:00:00+08:00');
    await step('2023-02-06T14:20:00+08:00');
    expect(outbox()).toEqual(
      ['ent-c', 'ent-d', 'ent-e'].map((u) => `reminder-2 ${mail(u, 'contact')} [${u}] @14:30`),
    );
    const before = sfn.commandCalls(StartExecutionCommand).length;
    await step('2023-02-06T14:20:00+08:00');
    expect(outbox()).toHaveLength(3);
    expect(sfn.commandCalls(StartExecutionCommand).length).toBe(before);

    // Tuesday 09:00, level 1: each late unit's own contact.
    clearOutbox();
    await step('2023-02-07T08:50:00+08:00');
    expect(outbox()).toEqual(
      ['ent-c', 'ent-d', 'ent-e'].map((u) => `escalation-1.own-${u} ${mail(u, 'contact')} [${u}] @09:00`),
    );

    // Friday 09:00, level 3: principals about their own unit, the department (or 安委办 in its place) about theirs.
    clearOutbox();
    await step('2023-02-08T08:50:00+08:00');
    clearOutbox();
    const last = await step('2023-02-10T08:50:00+08:00');
    expect(outbox()).toEqual([
      `escalation-3.department-dept ${mail('dept', 'principal')} [ent-c,ent-d] @09:00`,
      `escalation-3.office-county-safety-office ${mail('county-safety-office', 'contact')} [ent-e] @09:00`,
      `escalation-3.own-ent-c ${mail('ent-c', 'principal')} [ent-c] @09:00`,
      `escalation-3.own-ent-d ${mail('ent-d', 'principal')} [ent-d] @09:00`,
      `escalation-3.own-ent-e ${mail('ent-e', 'principal')} [ent-e] @09:00`,
    ]);
    expect(last).toEqual({ status: 'closed', defaulters: 3, notices: 5 });
    const closed = await getCycle(WEEKLY.id, W06);
    expect(closed).toMatchObject({ status: 'closed', defaulterCount: 3 });
    expect(closed?.defaulters).toBeUndefined();
    expect(await listDefaulters(closed!)).toEqual(['ent-c', 'ent-d', 'ent-e']);
    expect(log.warn).toHaveBeenCalledWith('escalation position not held', expect.anything());
  });

  it('closes early, without escalating, once every unit has submitted', async () => {
    await step('2023-02-06T00:05:00+08:00');
    for (const u of ['ent-a', 'ent-b', 'ent-c', 'ent-d', 'ent-e'])
      await submit(u, '2023-02-06T08:00:00+08:00');
    expect(await step('2023-02-06T08:50:00+08:00')).toEqual({ status: 'closed', defaulters: 0, notices: 0 });
    expect(outbox()).toEqual([]);
  });
});

describe('a retried step', () => {
  it('that crashed after recording its notices but before marking the stage done records the same notices', async () => {
    await step('2023-02-06T00:05:00+08:00');
    table.failOn(
      'UpdateCommand',
      (input) => String(input.UpdateExpression).includes('stagesDone'),
      new Error('crash'),
    );
    await expect(step('2023-02-06T08:50:00+08:00')).rejects.toThrow('crash');
    const first = outbox();
    expect(first).toHaveLength(5);
    await step('2023-02-06T08:51:00+08:00');
    expect(outbox()).toEqual(first);
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual(['reminder-1']);
  });
});

describe('catch-up after an outage', () => {
  it('long after every stage: one notice per person, the last level addressing every collapsed one', async () => {
    await step('2023-02-06T00:05:00+08:00');
    const r = await step('2023-02-13T10:00:00+08:00');
    expect(r).toMatchObject({ status: 'closed', defaulters: 5 });
    const stages = new Set(outbox().map((l) => l.split(' ')[0]?.split('.')[0]));
    expect([...stages]).toEqual(['escalation-3']);
    // Levels 1–3 collapsed: the contacts (level 1 and 2) hear once too, at the catch-up's moment.
    expect(outbox().filter((l) => l.includes('ent-c'))).toEqual([
      `escalation-3.department-dept ${mail('dept', 'principal')} [ent-a,ent-b,ent-c,ent-d] @09:00`,
      `escalation-3.own-ent-c ${mail('ent-c', 'contact')} [ent-c] @09:00`,
      `escalation-3.own-ent-c ${mail('ent-c', 'principal')} [ent-c] @09:00`,
    ]);
    // The moment passed: the run is started now.
    expect(started.at(-1)).toBe('delivery-20230213T1000 2023-02-13T10:00:00+08:00');
  });

  it('before the deadline, only the latest missed reminder; after it, no reminder at all', async () => {
    await step('2023-02-06T00:05:00+08:00');
    await step('2023-02-06T15:00:00+08:00');
    expect(new Set(outbox().map((l) => l.split(' ')[0]))).toEqual(new Set(['reminder-2']));
    clearOutbox();
    await step('2023-02-06T00:05:00+08:00', WEEKLY, '2023-W07');
    await step('2023-02-13T20:00:00+08:00', WEEKLY, '2023-W07');
    expect(outbox()).toEqual([]);
  });
});

describe('a fair start', () => {
  it('a period whose deadline passed before the duty was tracked reminds and escalates nobody', async () => {
    // First tracked on 13 February: the February meeting is due on the 28th, last week's weekly was not.
    expect(await step('2023-02-13T10:00:00+08:00', WEEKLY, W06)).toMatchObject({
      status: 'closed',
      notices: 0,
    });
    expect(outbox()).toEqual([]);
    expect(await step('2023-02-13T10:00:00+08:00', MEETING, '2023-02')).toMatchObject({ status: 'waiting' });
  });

  it('a unit that joined after the deadline is not escalated for that period', async () => {
    await putUnits([unit('ent-new', 'enterprise', { ...SUPERVISED, joinedAt: '2023-02-07T12:00:00+08:00' })]);
    await step('2023-02-06T00:05:00+08:00');
    await step('2023-02-08T08:50:00+08:00');
    expect(outbox().some((l) => l.includes('ent-new'))).toBe(false);
  });
});

describe('robustness', () => {
  it('a notice with nobody to go to (vacant position, no 安委办 unit) is logged for the alarm, not dropped silently', async () => {
    table.remove('UNIT#county-safety-office', 'UNIT');
    for (const at of [
      '2023-02-06T00:05:00+08:00',
      '2023-02-06T08:50:00+08:00',
      '2023-02-07T08:50:00+08:00',
      '2023-02-08T08:50:00+08:00',
      '2023-02-10T08:50:00+08:00',
    ])
      await step(at);
    // ent-e has no supervising department: its level-2 escalation would fall back to the safety office.
    expect(log.warn).toHaveBeenCalledWith(UNADDRESSED_MESSAGE, {
      detail: 'ent-e: no holder for supervising-department, and no safety office unit county-safety-office',
    });
  });

  it('a bad unit record is reported through log.warn and skipped; the others are still owed their notices', async () => {
    table.seed({
      PK: 'UNIT#ent-bad',
      SK: 'UNIT',
      GSI1PK: 'ROSTER#enterprise',
      GSI1SK: 'ent-bad',
      id: 'ent-bad',
      kind: 'enterprise',
    });
    await step('2023-02-06T00:05:00+08:00');
    await step('2023-02-06T08:50:00+08:00');
    expect(outbox()).toHaveLength(5);
    expect(log.warn).toHaveBeenCalledWith(
      'skipping a unit record that does not match its schema',
      expect.objectContaining({ key: 'UNIT#ent-bad/UNIT' }),
    );
  });

  it('a sweep too large for one invocation stops before the budget and continues in the next', async () => {
    const many = Array.from({ length: 2500 }, (_, i) =>
      unit(`town-${String(i).padStart(4, '0')}`, 'town', SUPERVISED),
    );
    await putUnits(many);
    await step('2023-02-06T00:05:00+08:00');
    // Too little time left after the first chunk of 1,000 units (every invocation does at least one).
    remaining = () => 10_000;
    const first = await step('2023-02-06T08:50:00+08:00');
    expect(first).toMatchObject({ status: 'waiting', wakeAt: '2023-02-06T08:50:00+08:00', notices: 1000 });
    expect((await getCycle(WEEKLY.id, W06))?.sweep).toMatchObject({ stageId: 'reminder-1', page: 1 });
    remaining = () => 600_000;
    const rest = await step('2023-02-06T08:50:00+08:00');
    expect(rest).toMatchObject({ status: 'waiting', wakeAt: '2023-02-06T14:20:00+08:00', notices: 1505 });
    expect(outbox()).toHaveLength(2505);
    expect((await getCycle(WEEKLY.id, W06))?.sweep).toBeUndefined();
    expect((await getCycle(WEEKLY.id, W06))?.stagesDone).toEqual(['reminder-1']);
  });

  it('waits until the execution span limit, then continues in a new generation', async () => {
    const YEAR_END = catalog.require('year-end-safety-report');
    const start = '2023-01-01T00:10:00+08:00';
    const r1 = await step(start, YEAR_END, '2023', start);
    expect(r1).toMatchObject({ status: 'waiting', wakeAt: '2023-11-27T00:10:00+08:00' });
    const r2 = await step('2023-11-27T00:10:00+08:00', YEAR_END, '2023', start);
    expect(r2).toMatchObject({
      status: 'continue',
      generation: 2,
      nextExecutionName: 'year-end-safety-report_2023_g2',
    });
  });
});

describe("an administrator's change that reached the duty but not the cycle", () => {
  it('a cancellation: the next wake tells the units still owing it, and the cycle ends cancelled, nobody escalated', async () => {
    await step('2023-02-06T08:00:00+08:00');
    await submit('ent-a', '2023-02-06T08:30:00+08:00');
    clearOutbox();
    const at = '2023-02-06T10:00:00+08:00';
    const cancelled = {
      ...WEEKLY,
      enabled: false,
      adhoc: {
        changes: [
          {
            seq: 1,
            kind: 'cancelled' as const,
            periodKey: W06,
            at,
            deadline: '2023-02-06T18:00:00+08:00',
            reasonZh: '并入专项检查',
          },
        ],
        cancelled: { at, reasonZh: '并入专项检查' },
      },
    };
    const result = await step('2023-02-06T10:05:00+08:00', cancelled);
    expect(result).toMatchObject({ status: 'closed', defaulters: 0 });
    expect((await getCycle(WEEKLY.id, W06))?.status).toBe('cancelled');
    const told = outbox();
    expect(told.every((n) => n.startsWith('change-1 '))).toBe(true);
    expect(told.map((n) => n.split(' ')[1])).toEqual(
      ['ent-b', 'ent-c', 'ent-d', 'ent-e'].map((id) => mail(id, 'contact')),
    );
    // Again: told once, and still nothing else.
    clearOutbox();
    await step('2023-02-07T09:00:00+08:00', cancelled);
    expect(outbox()).toEqual([]);
  });
});
