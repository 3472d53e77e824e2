import type { z } from 'zod';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, ioCounters, tableName } from './clients.ts';
import { putVersioned, queryAll } from './store.ts';
import { BadRecordError } from '../core/errors.ts';
import {
  caseEventItemSchema,
  caseRecordSchema,
  type CaseEventItem,
  type CaseRecord,
  type CaseStatus,
} from '../core/cases-model.ts';

/*
 * Cases in the one table (see docs/data-model.md):
 *   CASE#<id> / CASE                 the case record      GSI1 CASE-TOWN#<type>#<town> / <id>
 *                                                         GSI2 CASE-STATUS#<status> / <type>#<id>
 *   CASE#<id> / EVENT#<seq>          one event's full body
 *   CASE#<id> / NOTE#<step>#<to>     the notification ledger (subject CASE#<id>, written by notify.ts)
 */
export const caseKeys = {
  pk: (caseId: string) => `CASE#${caseId}`,
  record: (caseId: string) => ({ PK: `CASE#${caseId}`, SK: 'CASE' }),
  event: (caseId: string, seq: number) => ({
    PK: `CASE#${caseId}`,
    SK: `EVENT#${String(seq).padStart(6, '0')}`,
  }),
};

const STRIP = new Set(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK']);

function parse<T>(schema: z.ZodType<T>, item: Record<string, unknown>): T {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!STRIP.has(k)) plain[k] = v;
  const r = schema.safeParse(plain);
  if (!r.success) {
    throw new BadRecordError(
      `${String(item.PK)}/${String(item.SK)}`,
      r.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; '),
    );
  }
  return r.data;
}

function recordItem(c: CaseRecord): { PK: string; SK: string } & Record<string, unknown> {
  return {
    ...caseKeys.record(c.caseId),
    GSI1PK: `CASE-TOWN#${c.typeId}#${c.townId}`,
    GSI1SK: c.caseId,
    GSI2PK: `CASE-STATUS#${c.status}`,
    GSI2SK: `${c.typeId}#${c.caseId}`,
    ...c,
  };
}

export async function getCase(caseId: string): Promise<CaseRecord | undefined> {
  const out = await documentClient().send(
    new GetCommand({ TableName: tableName(), Key: caseKeys.record(caseId), ConsistentRead: true }),
  );
  ioCounters.reads += 1;
  return out.Item ? parse(caseRecordSchema, out.Item as Record<string, unknown>) : undefined;
}

/** Creates a case record; false when the id is taken. */
export function putNewCase(c: CaseRecord): Promise<boolean> {
  return putVersioned(recordItem(c), undefined);
}

/**
 * Replaces the record if it is still at `expectedVersion` (the new record carries the next version); false when
 * someone else wrote first, and the caller re-reads and recomputes.
 */
export async function replaceCase(c: CaseRecord, expectedVersion: number): Promise<boolean> {
  if (c.version !== expectedVersion + 1) throw new Error('a case write must carry the next version');
  return putVersioned(recordItem(c), expectedVersion);
}

export async function putCaseEvent(e: CaseEventItem): Promise<void> {
  await documentClient().send(
    new PutCommand({ TableName: tableName(), Item: { ...caseKeys.event(e.caseId, e.seq), ...e } }),
  );
  ioCounters.writes += 1;
}

export async function listCaseEvents(caseId: string): Promise<CaseEventItem[]> {
  const items = await queryAll({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': caseKeys.pk(caseId), ':p': 'EVENT#' },
  });
  return items.map((i) => parse(caseEventItemSchema, i));
}

export interface CaseListing {
  cases: CaseRecord[];
  bad: BadRecordError[];
}

function parseAll(items: Record<string, unknown>[]): CaseListing {
  const cases: CaseRecord[] = [];
  const bad: BadRecordError[] = [];
  for (const item of items) {
    try {
      cases.push(parse(caseRecordSchema, item));
    } catch (err) {
      if (err instanceof BadRecordError) bad.push(err);
      else throw err;
    }
  }
  return { cases, bad };
}

/** Cases by workflow status, optionally of one type: one GSI2 query per status, never a scan. */
export async function listCasesByStatus(
  statuses: readonly CaseStatus[],
  typeId?: string,
): Promise<CaseListing> {
  const items: Record<string, unknown>[] = [];
  for (const status of statuses) {
    items.push(
      ...(await queryAll({
        IndexName: 'GSI2',
        KeyConditionExpression: typeId ? 'GSI2PK = :pk AND begins_with(GSI2SK, :t)' : 'GSI2PK = :pk',
        ExpressionAttributeValues: {
          ':pk': `CASE-STATUS#${status}`,
          ...(typeId ? { ':t': `${typeId}#` } : {}),
        },
      })),
    );
  }
  return parseAll(items);
}

/** The cases of one type in one town (the reconciliation view): one GSI1 query. */
export async function listCasesInTown(typeId: string, townId: string): Promise<CaseListing> {
  return parseAll(
    await queryAll({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': `CASE-TOWN#${typeId}#${townId}` },
    }),
  );
}

export async function getCaseEvent(caseId: string, seq: number): Promise<CaseEventItem | undefined> {
  const out = await documentClient().send(
    new GetCommand({ TableName: tableName(), Key: caseKeys.event(caseId, seq), ConsistentRead: true }),
  );
  ioCounters.reads += 1;
  return out.Item ? parse(caseEventItemSchema, out.Item as Record<string, unknown>) : undefined;
}
