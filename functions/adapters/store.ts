import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { count, METRIC } from './metrics.ts';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { z } from 'zod';
import { documentClient, ioCounters, tableName } from './clients.ts';
import {
  cycleRecordSchema,
  leaderSchema,
  submissionSchema,
  unitRecordSchema,
  type CycleRecord,
  type CycleStatus,
  type Leader,
  type Submission,
  type UnitRecord,
} from '../core/model.ts';
import { BadRecordError, ConflictError } from '../core/errors.ts';
import {
  inDutyScope,
  markedUnitSupervisors,
  type Duty,
  type SupervisorsOf,
  type UnitKind,
} from '../../workflows/catalog/schema.ts';
import { safetyOfficeUnitId } from '../core/safety-office.ts';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import { clock } from '../core/clock.ts';

/*
 * One table, generic keys (see docs/data-model.md for the access patterns):
 *   PK, SK          the item
 *   GSI1PK, GSI1SK  rosters by unit kind, cycles by duty, a unit's submissions, leaders
 *   GSI2PK, GSI2SK  cycles and cases by status (the open ones are resumed after a restart)
 */
export const keys = {
  unit: (id: string) => ({ PK: `UNIT#${id}`, SK: 'UNIT' }),
  leader: (id: string) => ({ PK: `LEADER#${id}`, SK: 'LEADER' }),
  cyclePk: (dutyId: string, periodKey: string) => `CYCLE#${dutyId}#${periodKey}`,
  cycle: (dutyId: string, periodKey: string) => ({ PK: keys.cyclePk(dutyId, periodKey), SK: 'CYCLE' }),
  submission: (dutyId: string, periodKey: string, unitId: string) => ({
    PK: keys.cyclePk(dutyId, periodKey),
    SK: `SUB#${unitId}`,
  }),
  /** A unit that had not submitted when its cycle closed: one item each, so no item grows with the roster. */
  defaulter: (dutyId: string, periodKey: string, unitId: string) => ({
    PK: keys.cyclePk(dutyId, periodKey),
    SK: `DEFAULTER#${unitId}`,
  }),
};

/** Key and housekeeping attributes: the table's, not the record's. */
const STRIP = new Set(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'expiresAt']);

export function strip(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!STRIP.has(k)) out[k] = v;
  return out;
}

/** An item read back as its record, checked: a bad one is a BadRecordError naming its key, never a crash later. */
export function parseRecord<T>(schema: z.ZodType<T>, item: Record<string, unknown>): T {
  const r = schema.safeParse(strip(item));
  if (!r.success) {
    throw new BadRecordError(
      `${String(item.PK)}/${String(item.SK)}`,
      r.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; '),
    );
  }
  return r.data;
}

export function isConditionFailed(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err as { name?: string })?.name === 'ConditionalCheckFailedException'
  );
}

/** A Query read to the end of its pages (the reads of one partition or index key). */
export async function queryAll(
  input: Omit<QueryCommandInput, 'TableName'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await documentClient().send(
      new QueryCommand({ ...input, TableName: tableName(), ExclusiveStartKey }),
    );
    ioCounters.reads += Math.max(1, out.Count ?? 0);
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

async function getItem(key: { PK: string; SK: string }): Promise<Record<string, unknown> | undefined> {
  const out = await documentClient().send(
    new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }),
  );
  ioCounters.reads += 1;
  return out.Item as Record<string, unknown> | undefined;
}

async function put(item: Record<string, unknown>, condition?: string): Promise<void> {
  await documentClient().send(
    new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: condition }),
  );
  ioCounters.writes += 1;
}

/** Put if the key is new; false when it already existed. */
async function putNew(item: { PK: string; SK: string } & Record<string, unknown>): Promise<boolean> {
  try {
    await put(item, 'attribute_not_exists(PK)');
    return true;
  } catch (err) {
    if (isConditionFailed(err)) return false;
    throw err;
  }
}

/**
 * Optimistic concurrency for a versioned record: a new item (`expectedVersion` undefined: the key must not exist),
 * or the replacement of the version read. False when another writer came first.
 */
export async function putVersioned(
  item: { PK: string; SK: string } & Record<string, unknown>,
  expectedVersion: number | undefined,
): Promise<boolean> {
  try {
    await documentClient().send(
      new PutCommand({
        TableName: tableName(),
        Item: item,
        ...(expectedVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(PK)' }
          : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      }),
    );
    ioCounters.writes += 1;
    return true;
  } catch (err) {
    if (isConditionFailed(err)) return false;
    throw err;
  }
}

// ---------------------------------------------------------------- units and leaders

function unitItem(unit: UnitRecord): Record<string, unknown> {
  return {
    ...keys.unit(unit.id),
    GSI1PK: unit.active ? `ROSTER#${unit.kind}` : `ROSTER-INACTIVE#${unit.kind}`,
    GSI1SK: unit.id,
    ...unit,
  };
}

/** Writes a unit; `joinedAt` is the caller's to keep (the first save sets it, later ones carry it over). */
export async function putUnit(unit: UnitRecord): Promise<void> {
  await put(unitItem(unit));
}

/** Writes many units in batches of 25; unprocessed items are retried. */
export async function putUnits(units: UnitRecord[]): Promise<void> {
  await batchPut(units.map(unitItem));
}

export async function batchPut(items: Record<string, unknown>[]): Promise<void> {
  await batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
}

export async function batchDelete(keys: { PK: string; SK: string }[]): Promise<void> {
  await batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
}

type WriteRequest =
  { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

/** BatchWriteItem in chunks of 25, retrying what DynamoDB leaves unprocessed. */
export async function batchWrite(all: WriteRequest[]): Promise<void> {
  for (let i = 0; i < all.length; i += 25) {
    let requests = all.slice(i, i + 25);
    for (let attempt = 0; requests.length > 0; attempt++) {
      const out = await documentClient().send(
        new BatchWriteCommand({ RequestItems: { [tableName()]: requests } }),
      );
      const left = out.UnprocessedItems?.[tableName()] ?? [];
      ioCounters.writes += requests.length - left.length;
      requests = left as typeof requests;
      if (requests.length > 0) {
        if (attempt >= 8) throw new Error('BatchWrite left items unprocessed after 8 attempts');
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }
}

export async function getUnit(id: string): Promise<UnitRecord | undefined> {
  const item = await getItem(keys.unit(id));
  return item ? parseRecord(unitRecordSchema, item) : undefined;
}

export interface RosterResult {
  units: UnitRecord[];
  /** Records that failed validation: reported, never crashed on. */
  bad: BadRecordError[];
}

/** The active roster for some unit kinds: one GSI query per kind, never a scan. */
export async function activeRoster(kinds: readonly UnitKind[]): Promise<RosterResult> {
  const units: UnitRecord[] = [];
  const bad: BadRecordError[] = [];
  for (const kind of kinds) {
    const items = await queryAll({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': `ROSTER#${kind}` },
    });
    for (const item of items) {
      try {
        units.push(parseRecord(unitRecordSchema, item));
      } catch (err) {
        if (err instanceof BadRecordError) bad.push(err);
        else throw err;
      }
    }
  }
  return { units, bad };
}

/**
 * The units responsible for a duty: the active roster of its kinds narrowed by its scope, plus units named or
 * added by id whatever their kind (an ad-hoc duty "for the towns, and the gas company").
 */
export async function dutyRoster(duty: Pick<Duty, 'responsibleKinds' | 'scope'>): Promise<RosterResult> {
  const { units, bad } = await activeRoster(duty.responsibleKinds);
  const named = [...(duty.scope?.units ?? []), ...(duty.scope?.added ?? [])];
  const have = new Set(units.map((u) => u.id));
  for (const id of new Set(named)) {
    if (have.has(id)) continue;
    const u = await getUnit(id);
    if (u?.active) units.push(u);
  }
  const supervisors = duty.scope?.supervisorsOf
    ? await supervisorsOfMarked(duty.scope.supervisorsOf)
    : undefined;
  return { units: duty.scope ? units.filter((u) => inDutyScope(duty, u, supervisors)) : units, bad };
}

/**
 * The ids of the units that supervise an active unit marked as `rule` says (`scope.supervisorsOf`): one roster query
 * per marked kind, the same reads a sweep of those kinds makes, and nothing per responsible unit.
 */
export async function supervisorsOfMarked(rule: SupervisorsOf): Promise<Set<string>> {
  const { units } = await activeRoster(rule.kinds);
  return markedUnitSupervisors(rule, units, safetyOfficeUnitId());
}

/** One page of the active roster of a kind, in id order; `next` continues it (a sweep that spans invocations). */
export async function rosterPage(
  kind: UnitKind,
  next?: Record<string, unknown>,
  limit = 1000,
): Promise<RosterResult & { next?: Record<string, unknown> }> {
  const out = await documentClient().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': `ROSTER#${kind}` },
      Limit: limit,
      ...(next ? { ExclusiveStartKey: next } : {}),
    }),
  );
  ioCounters.reads += Math.max(1, out.Count ?? 0);
  const units: UnitRecord[] = [];
  const bad: BadRecordError[] = [];
  for (const item of (out.Items ?? []) as Record<string, unknown>[]) {
    try {
      units.push(parseRecord(unitRecordSchema, item));
    } catch (err) {
      if (err instanceof BadRecordError) bad.push(err);
      else throw err;
    }
  }
  return { units, bad, ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}) };
}

export async function listUnits(options: {
  kinds: readonly UnitKind[];
  includeInactive: boolean;
}): Promise<UnitRecord[]> {
  const { units } = await activeRoster(options.kinds);
  if (!options.includeInactive) return units;
  for (const kind of options.kinds) {
    const items = await queryAll({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': `ROSTER-INACTIVE#${kind}` },
    });
    for (const item of items) units.push(parseRecord(unitRecordSchema, item));
  }
  return units;
}

function leaderItem(leader: Leader): Record<string, unknown> {
  return { ...keys.leader(leader.id), GSI1PK: 'LEADERS', GSI1SK: leader.id, ...leader };
}

export async function putLeader(leader: Leader): Promise<void> {
  await put(leaderItem(leader));
}

export async function putLeaders(leaders: Leader[]): Promise<void> {
  await batchPut(leaders.map(leaderItem));
}

export async function getLeader(id: string): Promise<Leader | undefined> {
  const item = await getItem(keys.leader(id));
  return item ? parseRecord(leaderSchema, item) : undefined;
}

export async function listLeaders(): Promise<Leader[]> {
  const items = await queryAll({
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': 'LEADERS' },
  });
  return items.map((i) => parseRecord(leaderSchema, i));
}

// ---------------------------------------------------------------- cycles

function cycleIndexKeys(c: { dutyId: string; periodKey: string; status: CycleStatus }) {
  return {
    GSI1PK: `CYCLES#${c.dutyId}`,
    GSI1SK: c.periodKey,
    GSI2PK: `CYCLE-STATUS#${c.status}`,
    GSI2SK: `${c.dutyId}#${c.periodKey}`,
  };
}

export async function getCycle(dutyId: string, periodKey: string): Promise<CycleRecord | undefined> {
  const item = await getItem(keys.cycle(dutyId, periodKey));
  return item ? parseRecord(cycleRecordSchema, item) : undefined;
}

/** Creates the cycle record once; a second call (a repeated start, a restart) returns the existing record. */
export async function ensureCycle(record: CycleRecord): Promise<CycleRecord> {
  const created = await putNew({
    ...keys.cycle(record.dutyId, record.periodKey),
    ...cycleIndexKeys(record),
    ...record,
  });
  if (created) return record;
  const existing = await getCycle(record.dutyId, record.periodKey);
  if (!existing) throw new Error('cycle vanished after a conditional put failed');
  return existing;
}

/**
 * When this deployment started tracking a duty (the first cycle of it created): a period whose deadline came
 * before escalates nobody (the fair start, docs/decisions.md).
 */
export async function trackDuty(dutyId: string, nowIso: string): Promise<string> {
  const key = { PK: 'TRACKING', SK: `DUTY#${dutyId}` };
  if (await putNew({ ...key, dutyId, since: nowIso })) return nowIso;
  const item = await getItem(key);
  return String(item?.since ?? nowIso);
}

export async function markStagesDone(dutyId: string, periodKey: string, stageIds: string[]): Promise<void> {
  if (stageIds.length === 0) return;
  await documentClient().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.cycle(dutyId, periodKey),
      UpdateExpression: 'SET stagesDone = list_append(if_not_exists(stagesDone, :empty), :ids)',
      ExpressionAttributeValues: { ':ids': stageIds, ':empty': [] },
    }),
  );
  ioCounters.writes += 1;
}

/**
 * An administrator's change to a running ad-hoc cycle: the new deadline, a new execution generation (the waiting
 * execution ends at its next wake and the new one acts at once) and, for a cancellation, the status. Refused
 * (ConflictError) once the cycle has closed.
 */
export async function reviseCycle(
  dutyId: string,
  periodKey: string,
  change: { deadline: string; revision: number; generation: number; cancelledAt?: string },
): Promise<void> {
  const cancel = change.cancelledAt !== undefined;
  try {
    await documentClient().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.cycle(dutyId, periodKey),
        UpdateExpression:
          'SET deadline = :d, revision = :r, generation = :g, generationAt = :now' +
          (cancel ? ', #s = :cancelled, closedAt = :now, GSI2PK = :gsi' : ''),
        // A cancellation again (a retried request) finds it cancelled; anything else needs it open.
        ConditionExpression: cancel ? '#s IN (:open, :cancelled)' : '#s = :open',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':d': change.deadline,
          ':r': change.revision,
          ':g': change.generation,
          ':now': change.cancelledAt ?? toShanghaiIso(clock.now()),
          ':open': 'open',
          ...(cancel ? { ':cancelled': 'cancelled', ':gsi': 'CYCLE-STATUS#cancelled' } : {}),
        },
      }),
    );
    ioCounters.writes += 1;
  } catch (err) {
    if (isConditionFailed(err))
      throw new ConflictError(`cycle ${dutyId}/${periodKey} closed`, '该工作周期已经结束，不能再修改', [
        { field: 'id', problem: '已结束' },
      ]);
    throw err;
  }
}

/** The deadline a revised duty now has, where its cycle record still names the old one (a change half-applied). */
export async function setCycleDeadline(
  dutyId: string,
  periodKey: string,
  deadline: string,
  revision: number,
): Promise<void> {
  await documentClient()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.cycle(dutyId, periodKey),
        UpdateExpression: 'SET deadline = :d, revision = :r',
        // Never back to an older revision (a reader that saw the duty before a change).
        ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(revision) OR revision <= :r)',
        ExpressionAttributeValues: { ':d': deadline, ':r': revision },
      }),
    )
    .catch((err: unknown) => {
      if (!isConditionFailed(err)) throw err;
    });
  ioCounters.writes += 1;
}

/** A cancelled duty's cycle still open (the cancellation reached the duty but not the cycle): cancelled now. */
export async function markCycleCancelled(dutyId: string, periodKey: string, at: string): Promise<void> {
  await documentClient()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.cycle(dutyId, periodKey),
        UpdateExpression: 'SET #s = :cancelled, closedAt = :at, GSI2PK = :gsi',
        ConditionExpression: 'attribute_exists(PK) AND #s = :open',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':cancelled': 'cancelled',
          ':open': 'open',
          ':at': at,
          ':gsi': 'CYCLE-STATUS#cancelled',
        },
      }),
    )
    .catch((err: unknown) => {
      if (!isConditionFailed(err)) throw err;
    });
  ioCounters.writes += 1;
}

/**
 * Closes an open cycle with its defaulters. False when the cycle is no longer open in the generation that read it
 * (an administrator cancelled or revised it meanwhile): the newer generation decides.
 */
export async function closeCycle(
  dutyId: string,
  periodKey: string,
  defaulters: string[],
  at: string,
  generation: number,
): Promise<boolean> {
  // The defaulters first, one item each (a city's 16,000 ids would not fit one 400 KB item): a crash before the
  // record says closed re-runs the close, writing the same items again.
  await batchPut(defaulters.map((unitId) => ({ ...keys.defaulter(dutyId, periodKey, unitId), unitId })));
  const closed = await documentClient()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.cycle(dutyId, periodKey),
        UpdateExpression: 'SET #s = :closed, defaulterCount = :n, closedAt = :at, GSI2PK = :gsi',
        ConditionExpression:
          'attribute_exists(PK) AND #s IN (:open, :closed) AND ' +
          (generation === 1 ? '(attribute_not_exists(generation) OR generation = :g)' : 'generation = :g'),
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':closed': 'closed',
          ':open': 'open',
          ':g': generation,
          ':n': defaulters.length,
          ':at': at,
          ':gsi': 'CYCLE-STATUS#closed',
        },
      }),
    )
    .then(
      () => true,
      (err: unknown) => {
        if (isConditionFailed(err)) return false;
        throw err;
      },
    );
  ioCounters.writes += 1;
  if (closed) count(METRIC.unitsOverdueAtClose, defaulters.length);
  return closed;
}

/** The units that had not submitted when the cycle closed, by id (a record of before kept them in a list). */
export async function listDefaulters(cycle: CycleRecord): Promise<string[]> {
  if (cycle.defaulters) return [...cycle.defaulters];
  const items = await queryAll({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :d)',
    ExpressionAttributeValues: { ':pk': keys.cyclePk(cycle.dutyId, cycle.periodKey), ':d': 'DEFAULTER#' },
  });
  return items.map((i) => String(i.unitId));
}

/** How many units had not submitted when the cycle closed. */
export function defaulterCount(cycle: CycleRecord): number {
  return cycle.defaulterCount ?? cycle.defaulters?.length ?? 0;
}

/** Where a stage's sweep continues in the next invocation; undefined when it is finished. */
export async function saveSweepProgress(
  dutyId: string,
  periodKey: string,
  sweep: CycleRecord['sweep'],
): Promise<void> {
  await documentClient().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.cycle(dutyId, periodKey),
      ...(sweep
        ? { UpdateExpression: 'SET sweep = :s', ExpressionAttributeValues: { ':s': sweep } }
        : { UpdateExpression: 'REMOVE sweep' }),
    }),
  );
  ioCounters.writes += 1;
}

/** When the cycle's execution next wakes (the reconciler looks for cycles past it with no execution). */
export async function setCyclePlannedWake(dutyId: string, periodKey: string, at: string): Promise<void> {
  await documentClient().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.cycle(dutyId, periodKey),
      UpdateExpression: 'SET plannedWakeAt = :w',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':w': at },
    }),
  );
  ioCounters.writes += 1;
}

export async function clearCycleFailure(dutyId: string, periodKey: string): Promise<void> {
  await documentClient().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.cycle(dutyId, periodKey),
      UpdateExpression: 'REMOVE lastError',
    }),
  );
  ioCounters.writes += 1;
}

/**
 * The dispatch state in one read: the last day dispatch started the cycles of (Asia/Shanghai date), if it ever ran,
 * and the cycles it held because their deadline falls in a year without the official holiday arrangement
 * (`dutyId|periodKey`), which every later dispatch tries again.
 */
export async function getDispatchState(): Promise<{ through: string | undefined; held: string[] }> {
  const item = await getItem({ PK: 'DISPATCH', SK: 'STATE' });
  return {
    through: item?.through ? String(item.through) : undefined,
    held: Array.isArray(item?.held) ? item.held.map(String) : [],
  };
}

export async function getDispatchedThrough(): Promise<string | undefined> {
  return (await getDispatchState()).through;
}

export async function setDispatchedThrough(day: string): Promise<void> {
  await documentClient()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: 'DISPATCH', SK: 'STATE' },
        UpdateExpression: 'SET through = :d',
        ConditionExpression: 'attribute_not_exists(through) OR through < :d',
        ExpressionAttributeValues: { ':d': day },
      }),
    )
    .catch((err: unknown) => {
      if (!isConditionFailed(err)) throw err;
    });
  ioCounters.writes += 1;
}

export async function setHeldCycles(held: readonly string[]): Promise<void> {
  await documentClient().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { PK: 'DISPATCH', SK: 'STATE' },
      UpdateExpression: 'SET held = :h',
      ExpressionAttributeValues: { ':h': [...held] },
    }),
  );
  ioCounters.writes += 1;
}

export async function recordCycleFailure(
  dutyId: string,
  periodKey: string,
  message: string,
  at: string,
): Promise<void> {
  await documentClient().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.cycle(dutyId, periodKey),
      UpdateExpression: 'SET lastError = :e',
      ExpressionAttributeValues: { ':e': { at, message } },
    }),
  );
  ioCounters.writes += 1;
}

export async function setCycleGeneration(
  dutyId: string,
  periodKey: string,
  generation: number,
): Promise<void> {
  await documentClient()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.cycle(dutyId, periodKey),
        UpdateExpression: 'SET generation = :g, generationAt = :at',
        ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(generation) OR generation < :g)',
        ExpressionAttributeValues: { ':g': generation, ':at': toShanghaiIso(clock.now()) },
      }),
    )
    .catch((err: unknown) => {
      if (!isConditionFailed(err)) throw err;
    });
  ioCounters.writes += 1;
}

export async function listCycles(filter: {
  dutyId?: string;
  status?: CycleStatus;
  /** With a duty: only periods whose keys start with one of these years (a key's first four characters). */
  years?: { from: number; to: number };
}): Promise<CycleRecord[]> {
  let items: Record<string, unknown>[];
  if (filter.dutyId && filter.years) {
    items = await queryAll({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': `CYCLES#${filter.dutyId}`,
        ':from': String(filter.years.from),
        // '~' sorts after every character of a period key: every key of the last year.
        ':to': `${filter.years.to}~`,
      },
    });
  } else if (filter.dutyId) {
    items = await queryAll({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': `CYCLES#${filter.dutyId}` },
    });
  } else {
    const statuses: CycleStatus[] = filter.status
      ? [filter.status]
      : ['open', 'closed', 'failed', 'cancelled'];
    items = [];
    for (const s of statuses) {
      items.push(
        ...(await queryAll({
          IndexName: 'GSI2',
          KeyConditionExpression: 'GSI2PK = :pk',
          ExpressionAttributeValues: { ':pk': `CYCLE-STATUS#${s}` },
        })),
      );
    }
  }
  const cycles = items.map((i) => parseRecord(cycleRecordSchema, i));
  return filter.status ? cycles.filter((c) => c.status === filter.status) : cycles;
}

// ---------------------------------------------------------------- submissions and stage records

function submissionItem(s: Submission): Record<string, unknown> {
  return {
    ...keys.submission(s.dutyId, s.periodKey, s.unitId),
    GSI1PK: `UNIT-SUBS#${s.unitId}`,
    GSI1SK: `${s.dutyId}#${s.periodKey}`,
    ...s,
  };
}

/** Records a submission once: a repeated submission for the same unit and cycle returns the first one. */
export async function putSubmission(s: Submission): Promise<{ created: boolean; submission: Submission }> {
  const created = await putNew(submissionItem(s) as { PK: string; SK: string });
  if (created) return { created, submission: s };
  const item = await getItem(keys.submission(s.dutyId, s.periodKey, s.unitId));
  if (!item) throw new Error('submission vanished after a conditional put failed');
  return { created: false, submission: parseRecord(submissionSchema, item) };
}

/** Bulk submissions for the simulator; not conditional (the simulator never repeats one). */
export async function putSubmissions(subs: Submission[]): Promise<void> {
  await batchPut(subs.map(submissionItem));
}

/** Who reported for a cycle and when: only those attributes, not the notes and evidence (the assessment's reads). */
export async function listSubmissionTimes(
  dutyId: string,
  periodKey: string,
): Promise<{ unitId: string; submittedAt: string }[]> {
  const items = await queryAll({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sub)',
    ExpressionAttributeValues: { ':pk': keys.cyclePk(dutyId, periodKey), ':sub': 'SUB#' },
    ProjectionExpression: 'unitId, submittedAt',
  });
  return items.map((i) => ({ unitId: String(i.unitId), submittedAt: String(i.submittedAt) }));
}

export async function listSubmissions(dutyId: string, periodKey: string): Promise<Submission[]> {
  const items = await queryAll({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sub)',
    ExpressionAttributeValues: { ':pk': keys.cyclePk(dutyId, periodKey), ':sub': 'SUB#' },
  });
  return items.map((i) => parseRecord(submissionSchema, i));
}
