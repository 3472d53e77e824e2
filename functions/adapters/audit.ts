import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { documentClient, ioCounters, tableName } from './clients.ts';
import { batchPut } from './store.ts';

export interface AuditEntry {
  /** The subject record's key, e.g. `CYCLE#<duty>#<period>` or `UNIT#<id>` (see core/audit-subjects.ts). */
  subject: string;
  /** The instant, as an ISO string in Asia/Shanghai time (toShanghaiIso), so entries sort by time. */
  at: string;
  actor: string;
  action: string;
  route?: string;
  details?: Record<string, unknown>;
}

let sequence = 0;

/**
 * Sort key: the instant, then a per-process sequence so entries of the same second keep the order they were
 * written in, then a uuid so two writers never collide.
 */
function auditItem(entry: AuditEntry): Record<string, unknown> {
  sequence = (sequence + 1) % 1e9;
  const tiebreak = `${Date.now().toString(36).padStart(9, '0')}${String(sequence).padStart(9, '0')}`;
  return { PK: `AUDIT#${entry.subject}`, SK: `${entry.at}#${tiebreak}#${randomUUID()}`, ...entry };
}

/** Append-only: each entry gets a new sort key and is written only if that key is new. */
export async function appendAudit(entry: AuditEntry): Promise<void> {
  await documentClient().send(
    new PutCommand({
      TableName: tableName(),
      Item: auditItem(entry),
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  ioCounters.writes += 1;
}

/** Many entries at once (a roster import): batches of 25; every sort key is fresh, so none overwrites another. */
export async function appendAuditBatch(entries: AuditEntry[]): Promise<void> {
  await batchPut(entries.map(auditItem));
}

/**
 * A subject's entries in time order. `from`/`to` are Shanghai dates (inclusive): sort keys start with the
 * entry's Shanghai instant, so the range is a key condition, not a filter.
 */
export async function listAudit(
  subject: string,
  options: { from?: string; to?: string; limit?: number } = {},
): Promise<AuditEntry[]> {
  const limit = options.limit ?? 500;
  const values: Record<string, unknown> = { ':pk': `AUDIT#${subject}` };
  let condition = 'PK = :pk';
  if (options.from !== undefined || options.to !== undefined) {
    // '~' sorts after every character an instant or uuid uses.
    values[':from'] = options.from ?? '0000';
    values[':to'] = `${options.to ?? '9999'}~`;
    condition += ' AND SK BETWEEN :from AND :to';
  }
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await documentClient().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        Limit: limit - items.length,
        ExclusiveStartKey,
      }),
    );
    ioCounters.reads += Math.max(1, out.Count ?? 0);
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey && items.length < limit);
  return items.map((i) => ({
    subject: String(i.subject),
    at: String(i.at),
    actor: String(i.actor),
    action: String(i.action),
    ...(i.route ? { route: String(i.route) } : {}),
    ...(i.details ? { details: i.details as Record<string, unknown> } : {}),
  }));
}
