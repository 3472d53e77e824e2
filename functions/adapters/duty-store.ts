import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { dutySchema, type Duty } from '../../workflows/catalog/schema.ts';
import { ConflictError } from '../core/errors.ts';
import { documentClient, ioCounters, tableName } from './clients.ts';
import { isConditionFailed, parseRecord, queryAll } from './store.ts';

/**
 * Ad-hoc duties: created by administrators at run time, one item each in one partition (a county creates tens a
 * year, not thousands), read whole by every function that needs the catalog.
 */
const PK = 'ADHOC-DUTY';

export const adhocMetaSchema = z
  .object({
    /** What the units are asked to do, in the administrator's words. */
    instructionZh: z.string(),
    /** The document the duty comes from, e.g. 襄安办〔2023〕12号. */
    documentNo: z.string().optional(),
    createdAt: z.string(),
    createdBy: z.string(),
    status: z.enum(['active', 'cancelled']),
    cancelledAt: z.string().optional(),
    cancelReasonZh: z.string().optional(),
    /** Digest of the creating request: the same request again (a retry) is the same duty, not a conflict. */
    requestDigest: z.string().optional(),
    /** Bumped by every change, which is written only over the version it read. */
    version: z.number().int().min(1),
  })
  .strict();
export type AdhocMeta = z.infer<typeof adhocMetaSchema>;

const recordSchema = z.object({ duty: dutySchema, meta: adhocMetaSchema }).strict();
export type AdhocDuty = z.infer<typeof recordSchema>;

export async function createAdhocDuty(record: AdhocDuty): Promise<void> {
  try {
    await documentClient().send(
      new PutCommand({
        TableName: tableName(),
        Item: { PK, SK: record.duty.id, ...record },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    ioCounters.writes += 1;
  } catch (err) {
    if (isConditionFailed(err))
      throw new ConflictError(`duty ${record.duty.id} exists`, `职责编号已存在：${record.duty.id}`, [
        { field: 'id', problem: '编号已存在' },
      ]);
    throw err;
  }
}

/** Writes a changed duty over the version it was read at (409 when someone changed it meanwhile). */
export async function replaceAdhocDuty(record: AdhocDuty, readVersion: number): Promise<void> {
  try {
    await documentClient().send(
      new PutCommand({
        TableName: tableName(),
        Item: { PK, SK: record.duty.id, ...record },
        ConditionExpression: 'meta.version = :v',
        ExpressionAttributeValues: { ':v': readVersion },
      }),
    );
    ioCounters.writes += 1;
  } catch (err) {
    if (isConditionFailed(err))
      throw new ConflictError(`duty ${record.duty.id} changed`, '该职责刚被他人修改，请刷新后重试', [
        { field: 'id', problem: '已被他人修改' },
      ]);
    throw err;
  }
}

/** A record as stored, with `adhoc` on duties created before it existed (so they can be changed too). */
function parseDuty(item: Record<string, unknown>): AdhocDuty {
  const r = parseRecord(recordSchema, item);
  return r.duty.adhoc ? r : { ...r, duty: { ...r.duty, adhoc: { changes: [] } } };
}

// Read consistently: a cycle woken to tell a change must see the duty as changed, not as it was a moment before.
export async function getAdhocDuty(id: string): Promise<AdhocDuty | undefined> {
  const out = await documentClient().send(
    new GetCommand({ TableName: tableName(), Key: { PK, SK: id }, ConsistentRead: true }),
  );
  ioCounters.reads += 1;
  return out.Item ? parseDuty(out.Item) : undefined;
}

export async function listAdhocDuties(): Promise<AdhocDuty[]> {
  const items = await queryAll({
    KeyConditionExpression: 'PK = :pk',
    ExpressionAttributeValues: { ':pk': PK },
    ConsistentRead: true,
  });
  return items.map(parseDuty);
}

/** The ad-hoc duties as catalog entries (a cancelled one stays, disabled, so its cycle can still be shown). */
export async function adhocCatalogDuties(): Promise<Duty[]> {
  return (await listAdhocDuties()).map((r) =>
    r.meta.status === 'active' ? r.duty : { ...r.duty, enabled: false },
  );
}
