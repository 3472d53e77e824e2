// The notification path in the one table (docs/data-model.md):
//   OUTBOX#<shard>       / <address>#<moment>#<subject>#<stage>#<part>   a notice owed (deleted once delivered)
//   OUTBOX-MOMENTS       / <moment>                                      notices were recorded for this moment
//   OUTBOX-EXPRESS       / <moment>#<address>                            an immediate notice for this address
//   DELIVERY             / LEASE                                         the one delivery lease, emails in flight
//   DELIVERY             / RUN#<execution>                               a run's progress (expires after 30 days)
//   MAIL#<address>       / <moment>#<run>#<pass>                         one email sent (or refused), its notices
//                          GSI1 MAILDAY#<date> / <sentAt>#<address>      … by day, for searches by time
//                          GSI2 MAIL-STATUS#<status> / <sentAt>#<address> … failed and suppressed only
//   CASE#<id>            / MAIL#<sentAt>#<address>                       an email that carried a notice of the case
//   UNDELIVERABLE        / <address>                                     an address the mail service refused
import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DeleteCommandInput,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { shanghaiDateOf, toShanghaiIso } from '../../workflows/calendar.ts';
import { clock } from '../core/clock.ts';
import { BadRecordError } from '../core/errors.ts';
import { addressKey, noticeId, noticeSchema, type Notice } from '../notices/model.ts';
import {
  deliveryRecordSchema,
  recordKey,
  type DeliveryRecord,
  type DeliveryStatus,
} from '../delivery/model.ts';
import {
  LeaseLostError,
  type AddressesPort,
  type InFlight,
  type LeaseAcquired,
  type ExpressMarker,
  type LeasePort,
  type MomentMarker,
  type OutboxEntry,
  type RecordsPort,
  type RunState,
} from '../delivery/ports.ts';
import { documentClient, ioCounters, tableName } from './clients.ts';
import { count, METRIC } from './metrics.ts';
import { batchDelete, batchPut, isConditionFailed, parseRecord, strip } from './store.ts';

/** Shards of the outbox: each address lives in one, so a run reads them one after the other. */
export const OUTBOX_SHARDS = 4;
const RUN_STATE_TTL_S = 30 * 24 * 3600;

/** FNV-1a: a stable shard for an address. */
export function shardOf(address: string): number {
  let h = 0x811c9dc5;
  const a = addressKey(address);
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a.charCodeAt(i), 16777619);
  return (h >>> 0) % OUTBOX_SHARDS;
}

function noticeKey(address: string, id: string): { PK: string; SK: string } {
  return { PK: `OUTBOX#${shardOf(address)}`, SK: `${addressKey(address)}#${id}` };
}

const refOf = (address: string, id: string): string => {
  const k = noticeKey(address, id);
  return `${k.PK}|${k.SK}`;
};

function keyOfRef(ref: string): { PK: string; SK: string } {
  const i = ref.indexOf('|');
  return { PK: ref.slice(0, i), SK: ref.slice(i + 1) };
}

async function query(input: Omit<QueryCommandInput, 'TableName'>) {
  const out = await documentClient().send(new QueryCommand({ ...input, TableName: tableName() }));
  ioCounters.reads += Math.max(1, out.Count ?? 0);
  return out;
}

/**
 * Outbox items as notices. One item that does not read as a notice (written by hand, or by a version that no longer
 * exists) is reported and passed over: it must not stop delivery for everyone else.
 */
function readEntries(items: readonly Record<string, unknown>[] | undefined): {
  entries: OutboxEntry[];
  bad: string[];
} {
  const entries: OutboxEntry[] = [];
  const bad: string[] = [];
  for (const item of items ?? []) {
    try {
      entries.push({ ref: `${String(item.PK)}|${String(item.SK)}`, notice: parseRecord(noticeSchema, item) });
    } catch (err) {
      if (!(err instanceof BadRecordError)) throw err;
      bad.push(err.message);
    }
  }
  return { entries, bad };
}

type MarkerCondition = Pick<
  DeleteCommandInput,
  'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

const sameToken = (token: string): MarkerCondition => ({
  ConditionExpression: '#token = :token',
  ExpressionAttributeNames: { '#token': 'token' },
  ExpressionAttributeValues: { ':token': token },
});

/** Deletes a marker unless it was written again since it was read: then the condition fails, and it stays. */
async function deleteMarker(key: { PK: string; SK: string }, condition: MarkerCondition): Promise<void> {
  await documentClient()
    .send(new DeleteCommand({ TableName: tableName(), Key: key, ...condition }))
    .catch((err: unknown) => {
      if (!isConditionFailed(err)) throw err;
    });
  ioCounters.writes += 1;
}

// ---------------------------------------------------------------- the outbox

export const outboxStore = {
  shards: OUTBOX_SHARDS,

  /**
   * Writes notices; the same notice written again overwrites itself (a re-run records nothing new). A marker per
   * moment lets the reconciler see, with one read, whether anything recorded a while ago is still undelivered.
   */
  async record(notices: readonly Notice[]): Promise<void> {
    await batchPut(notices.map((n) => ({ ...noticeKey(n.recipient.address, noticeId(n)), ...n })));
    count(METRIC.noticesRecorded, notices.length);
    // The markers after the notices, with a token of this write: a run clears a marker only if the token is the one
    // it read before its scan (which then saw these notices); written again since, the marker stays. A token, not
    // a time: the local clock stands still while an instant's work runs, so times written in it are all equal.
    const recordedAt = clock.nowMs();
    const token = randomUUID();
    await batchPut(
      [...new Set(notices.map((n) => n.at))].map((at) => ({
        PK: 'OUTBOX-MOMENTS',
        SK: at,
        recordedAt,
        token,
      })),
    );
    // Notices that must go at once also mark their reader for the express lane (docs/delivery.md).
    const express = new Set(
      notices
        .filter((n) => n.urgency === 'immediate')
        .map((n) => `${n.at}#${addressKey(n.recipient.address)}`),
    );
    if (express.size > 0)
      await batchPut([...express].map((sk) => ({ PK: 'OUTBOX-EXPRESS', SK: sk, recordedAt, token })));
  },

  async expressUpTo(nowMs: number): Promise<ExpressMarker[]> {
    const markers: ExpressMarker[] = [];
    let next: Record<string, unknown> | undefined;
    do {
      const out = await query({
        // `<moment>#<address>`: every marker of a moment up to now sorts before `<now>$`.
        KeyConditionExpression: 'PK = :pk AND SK < :t',
        ExpressionAttributeValues: { ':pk': 'OUTBOX-EXPRESS', ':t': `${toShanghaiIso(new Date(nowMs))}$` },
        ConsistentRead: true,
        ...(next ? { ExclusiveStartKey: next } : {}),
      });
      for (const item of (out.Items ?? []) as Record<string, unknown>[]) {
        const sk = String(item.SK);
        const i = sk.indexOf('#');
        markers.push({ at: sk.slice(0, i), address: sk.slice(i + 1), token: String(item.token) });
      }
      next = out.LastEvaluatedKey;
    } while (next);
    return markers;
  },

  async recipient(address: string): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = [];
    let next: unknown;
    do {
      const out = await query({
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :a)',
        ExpressionAttributeValues: {
          ':pk': `OUTBOX#${shardOf(address)}`,
          ':a': `${addressKey(address)}#`,
        },
        ConsistentRead: true,
        ...(next ? { ExclusiveStartKey: next as Record<string, unknown> } : {}),
      });
      entries.push(...readEntries(out.Items).entries);
      next = out.LastEvaluatedKey;
    } while (next);
    return entries;
  },

  async clearExpress(seen: readonly ExpressMarker[]): Promise<void> {
    for (const m of seen)
      await deleteMarker({ PK: 'OUTBOX-EXPRESS', SK: `${m.at}#${m.address}` }, sameToken(m.token));
  },

  /** The earliest moment with notices recorded and not yet cleared by a finished delivery run. */
  async oldestMoment(): Promise<string | undefined> {
    const out = await query({
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': 'OUTBOX-MOMENTS' },
      Limit: 1,
    });
    const item = out.Items?.[0] as Record<string, unknown> | undefined;
    return item ? String(item.SK) : undefined;
  },

  async markersUpTo(nowMs: number): Promise<MomentMarker[]> {
    const markers: MomentMarker[] = [];
    let next: Record<string, unknown> | undefined;
    do {
      const out = await query({
        KeyConditionExpression: 'PK = :pk AND SK <= :t',
        ExpressionAttributeValues: { ':pk': 'OUTBOX-MOMENTS', ':t': toShanghaiIso(new Date(nowMs)) },
        ConsistentRead: true,
        ...(next ? { ExclusiveStartKey: next } : {}),
      });
      for (const item of (out.Items ?? []) as Record<string, unknown>[])
        // A marker written before tokens is known by its time.
        markers.push({ moment: String(item.SK), token: String(item.token ?? `t${String(item.recordedAt)}`) });
      next = out.LastEvaluatedKey;
    } while (next);
    return markers;
  },

  async clearMoments(seen: readonly MomentMarker[]): Promise<void> {
    for (const m of seen) {
      const legacy = /^t(\d+)$/.exec(m.token)?.[1];
      await deleteMarker(
        { PK: 'OUTBOX-MOMENTS', SK: m.moment },
        legacy
          ? {
              ConditionExpression: 'attribute_not_exists(#token) AND recordedAt = :r',
              ExpressionAttributeNames: { '#token': 'token' },
              ExpressionAttributeValues: { ':r': Number(legacy) },
            }
          : sameToken(m.token),
      );
    }
  },

  async page(
    shard: number,
    afterAddress: string | undefined,
    next?: unknown,
  ): Promise<{ entries: OutboxEntry[]; next?: unknown; bad?: string[] }> {
    const out = await query({
      KeyConditionExpression: afterAddress ? 'PK = :pk AND SK > :after' : 'PK = :pk',
      ExpressionAttributeValues: {
        ':pk': `OUTBOX#${shard}`,
        // Every key of the address starts with `<address>#`; `$` sorts right after `#`.
        ...(afterAddress ? { ':after': `${addressKey(afterAddress)}$` } : {}),
      },
      ConsistentRead: true,
      Limit: 500,
      ...(next ? { ExclusiveStartKey: next as Record<string, unknown> } : {}),
    });
    const { entries, bad } = readEntries(out.Items);
    return {
      entries,
      ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}),
      ...(bad.length > 0 ? { bad } : {}),
    };
  },

  async remove(refs: readonly string[]): Promise<void> {
    await batchDelete([...new Set(refs)].map(keyOfRef));
  },

  refOf,
};

// ---------------------------------------------------------------- the lease and the runs' progress

const LEASE_KEY = { PK: 'DELIVERY', SK: 'LEASE' };

export const leaseStore: Omit<LeasePort, never> = {
  async acquire(holder: string, nowMs: number, untilMs: number): Promise<LeaseAcquired> {
    try {
      const out = await documentClient().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: LEASE_KEY,
          UpdateExpression: 'SET holder = :me, #until = :until, inFlight = if_not_exists(inFlight, :none)',
          ConditionExpression: 'attribute_not_exists(PK) OR holder = :me OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':me': holder, ':until': untilMs, ':now': nowMs, ':none': [] },
          ReturnValues: 'ALL_NEW',
        }),
      );
      ioCounters.writes += 1;
      return { acquired: true, inFlight: (out.Attributes?.inFlight as InFlight[] | undefined) ?? [] };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const out = await documentClient().send(
      new GetCommand({ TableName: tableName(), Key: LEASE_KEY, ConsistentRead: true }),
    );
    ioCounters.reads += 1;
    return { acquired: false, holder: String(out.Item?.holder ?? ''), until: Number(out.Item?.until ?? 0) };
  },

  async hold(holder: string, inFlight: readonly InFlight[], untilMs: number): Promise<void> {
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: LEASE_KEY,
          UpdateExpression: 'SET inFlight = :f, #until = :until',
          ConditionExpression: 'holder = :me',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':f': inFlight, ':until': untilMs, ':me': holder },
        }),
      );
      ioCounters.writes += 1;
    } catch (err) {
      if (isConditionFailed(err))
        throw new LeaseLostError(`the delivery lease is no longer held by ${holder}`);
      throw err;
    }
  },

  async release(holder: string): Promise<void> {
    try {
      await documentClient().send(
        new DeleteCommand({
          TableName: tableName(),
          Key: LEASE_KEY,
          // Never drop emails in flight: only an empty lease is released.
          ConditionExpression: 'holder = :me AND size(inFlight) = :zero',
          ExpressionAttributeValues: { ':me': holder, ':zero': 0 },
        }),
      );
      ioCounters.writes += 1;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  },

  async loadRun(holder: string): Promise<RunState | undefined> {
    const out = await documentClient().send(
      new GetCommand({
        TableName: tableName(),
        Key: { PK: 'DELIVERY', SK: `RUN#${holder}` },
        ConsistentRead: true,
      }),
    );
    ioCounters.reads += 1;
    return out.Item ? (strip(out.Item).state as RunState) : undefined;
  },

  async saveRun(holder: string, state: RunState): Promise<void> {
    await documentClient().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          PK: 'DELIVERY',
          SK: `RUN#${holder}`,
          state,
          expiresAt: Math.floor(Date.now() / 1000) + RUN_STATE_TTL_S,
        },
      }),
    );
    ioCounters.writes += 1;
  },
};

// ---------------------------------------------------------------- delivery records

function recordItems(r: DeliveryRecord): Record<string, unknown>[] {
  const address = addressKey(r.address);
  const key = recordKey(r.moment, r.run, r.pass, r.invocation);
  const items: Record<string, unknown>[] = [
    {
      PK: `MAIL#${address}`,
      SK: key,
      GSI1PK: `MAILDAY#${shanghaiDateOf(new Date(r.sentAt))}`,
      GSI1SK: `${r.sentAt}#${address}#${key}`,
      ...(r.status !== 'sent'
        ? { GSI2PK: `MAIL-STATUS#${r.status}`, GSI2SK: `${r.sentAt}#${address}#${key}` }
        : {}),
      ...r,
    },
  ];
  // A case's page lists the emails about it.
  for (const subject of r.subjects.filter((s) => s.startsWith('CASE#')))
    items.push({
      PK: subject,
      SK: `MAIL#${r.sentAt}#${address}#${key}`,
      address: r.address,
      name: r.name,
      sentAt: r.sentAt,
      status: r.status,
      subjectLine: r.subjectLine,
      kinds: [...new Set(r.carried.filter((c) => c.subject === subject).map((c) => c.kind))],
    });
  return items;
}

export const recordsStore: RecordsPort & {
  markRefused(
    address: string,
    key: string,
    error: string,
    reasonZh: string,
  ): Promise<DeliveryRecord | undefined>;
} = {
  async put(records: readonly DeliveryRecord[]): Promise<void> {
    await batchPut(records.flatMap(recordItems));
  },
  /** An email SES accepted and later reported refused (a bounce, a complaint): its record says so now. */
  async markRefused(address, key, error, reasonZh) {
    const found = await this.get(address, key);
    if (!found) return undefined;
    const refused: DeliveryRecord = { ...found, status: 'failed', error, reasonZh };
    await batchPut(recordItems(refused));
    return refused;
  },
  async get(address: string, key: string): Promise<DeliveryRecord | undefined> {
    const out = await documentClient().send(
      new GetCommand({
        TableName: tableName(),
        Key: { PK: `MAIL#${addressKey(address)}`, SK: key },
        ConsistentRead: true,
      }),
    );
    ioCounters.reads += 1;
    return out.Item ? parseRecord(deliveryRecordSchema, out.Item) : undefined;
  },
  async carriedSince(address: string, sinceMoment: string): Promise<Set<string>> {
    const ids = new Set<string>();
    let next: Record<string, unknown> | undefined;
    do {
      const out = await query({
        KeyConditionExpression: 'PK = :pk AND SK >= :since',
        ExpressionAttributeValues: { ':pk': `MAIL#${addressKey(address)}`, ':since': sinceMoment },
        ProjectionExpression: 'carried',
        ConsistentRead: true,
        ...(next ? { ExclusiveStartKey: next } : {}),
      });
      for (const item of (out.Items ?? []) as { carried?: { id?: unknown }[] }[])
        for (const c of item.carried ?? []) if (typeof c.id === 'string') ids.add(c.id);
      next = out.LastEvaluatedKey;
    } while (next);
    return ids;
  },
};

export interface DeliveryQuery {
  from: string;
  to: string;
  recipient?: string;
  status?: DeliveryStatus;
  subject?: string;
  limit: number;
  cursor?: DeliveryCursor;
}

/** Where a listing continues: the day (for time listings) and DynamoDB's key within it. */
export interface DeliveryCursor {
  day?: string;
  key?: Record<string, unknown>;
}

/**
 * Emails by time (newest first): one recipient's history, the failed or suppressed ones, or every email of each
 * day from `to` back to `from`. `subject` narrows to emails that carried a notice of that cycle or case.
 */
export async function queryDeliveries(
  q: DeliveryQuery,
): Promise<{ records: DeliveryRecord[]; cursor?: DeliveryCursor }> {
  const records: DeliveryRecord[] = [];
  const filter = q.subject
    ? { FilterExpression: 'contains(subjects, :subject)', values: { ':subject': q.subject } }
    : undefined;
  const statusFilter =
    q.status && q.recipient ? { expr: '#st = :st', values: { ':st': q.status } } : undefined;
  const filterExpression = [filter?.FilterExpression, statusFilter?.expr].filter(Boolean).join(' AND ');
  const values = { ...(filter?.values ?? {}), ...(statusFilter?.values ?? {}) };
  const common = {
    ScanIndexForward: false,
    ...(filterExpression ? { FilterExpression: filterExpression } : {}),
    ...(statusFilter ? { ExpressionAttributeNames: { '#st': 'status' } } : {}),
  };
  const take = async (input: Omit<QueryCommandInput, 'TableName'>, start?: Record<string, unknown>) => {
    let key = start;
    do {
      const out = await query({
        ...input,
        Limit: q.limit - records.length,
        ...(key ? { ExclusiveStartKey: key } : {}),
      });
      for (const item of (out.Items ?? []) as Record<string, unknown>[])
        records.push(parseRecord(deliveryRecordSchema, item));
      key = out.LastEvaluatedKey;
    } while (key && records.length < q.limit);
    return key;
  };
  const fromIso = `${q.from}T00:00:00+08:00`;
  const toIso = `${q.to}T23:59:59+08:00~`;

  if (q.recipient || q.status) {
    const input: Omit<QueryCommandInput, 'TableName'> = q.recipient
      ? {
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': `MAIL#${addressKey(q.recipient)}`,
            ':from': fromIso,
            ':to': toIso,
            ...values,
          },
          ...common,
        }
      : {
          IndexName: 'GSI2',
          KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': `MAIL-STATUS#${q.status}`,
            ':from': fromIso,
            ':to': toIso,
            ...values,
          },
          ...common,
        };
    const key = await take(input, q.cursor?.key);
    return { records, ...(key ? { cursor: { key } } : {}) };
  }

  // Day by day, newest first.
  let day = q.cursor?.day ?? q.to;
  let start = q.cursor?.key;
  while (day >= q.from) {
    const key = await take(
      {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': `MAILDAY#${day}`, ...values },
        ...common,
      },
      start,
    );
    if (key) return { records, cursor: { day, key } };
    start = undefined;
    day = previousDay(day);
    if (records.length >= q.limit) return day >= q.from ? { records, cursor: { day } } : { records };
  }
  return { records };
}

function previousDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** The emails that carried notices of a case (its page). */
export async function caseDeliveries(caseId: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let key: Record<string, unknown> | undefined;
  do {
    const page = await query({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': `CASE#${caseId}`, ':p': 'MAIL#' },
      ...(key ? { ExclusiveStartKey: key } : {}),
    });
    out.push(...((page.Items ?? []) as Record<string, unknown>[]).map((i) => strip(i)));
    key = page.LastEvaluatedKey;
  } while (key);
  return out;
}

// ---------------------------------------------------------------- undeliverable addresses

export const addressesStore: AddressesPort = {
  async undeliverable() {
    const out = new Map<string, { reasonZh: string; since: string }>();
    let key: Record<string, unknown> | undefined;
    do {
      const page = await query({
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': 'UNDELIVERABLE' },
        ...(key ? { ExclusiveStartKey: key } : {}),
      });
      for (const item of (page.Items ?? []) as Record<string, unknown>[])
        out.set(String(item.SK), { reasonZh: String(item.reasonZh ?? ''), since: String(item.since ?? '') });
      key = page.LastEvaluatedKey;
    } while (key);
    return out;
  },
  async markUndeliverable(address: string, reasonZh: string, error: string, atIso: string) {
    await documentClient().send(
      new PutCommand({
        TableName: tableName(),
        Item: { PK: 'UNDELIVERABLE', SK: addressKey(address), address, reasonZh, error, since: atIso },
      }),
    );
    ioCounters.writes += 1;
  },
};

/**
 * Lets mail go to these addresses again: a roster entry saved with them means 安委办 has checked them (the
 * 无法送达 report asks for exactly that). Returns the addresses that were undeliverable.
 */
export async function releaseAddresses(addresses: readonly string[]): Promise<string[]> {
  const wanted = new Set(addresses.map(addressKey));
  const known = await addressesStore.undeliverable();
  const released = [...known.keys()].filter((a) => wanted.has(a));
  for (const SK of released) {
    await documentClient().send(
      new DeleteCommand({ TableName: tableName(), Key: { PK: 'UNDELIVERABLE', SK } }),
    );
    ioCounters.writes += 1;
  }
  return released;
}
