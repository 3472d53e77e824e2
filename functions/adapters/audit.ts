import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { documentClient, ioCounters, tableName } from './clients.ts';

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
  await putNew(auditItem(entry));
}

async function putNew(item: Record<string, unknown>): Promise<void> {
  await documentClient().send(
    new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' }),
  );
  ioCounters.writes += 1;
}

/** Conditional puts in flight at once for a batch of entries. */
const AUDIT_CONCURRENCY = 16;

/**
 * Many entries at once (a roster import), as conditional puts, a few at a time. Not BatchWriteItem: its grant
 * would also allow deletes, and the api function may only add audit entries (docs/decisions.md §25).
 */
export async function appendAuditBatch(entries: AuditEntry[]): Promise<void> {
  const items = entries.map(auditItem);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await putNew(items[next++] as Record<string, unknown>);
  };
  await Promise.all(Array.from({ length: Math.min(AUDIT_CONCURRENCY, items.length) }, worker));
}

/**
 * A page of a subject's entries in time order. `from`/`to` are Shanghai dates (inclusive): sort keys start with
 * the entry's Shanghai instant, so the range is a key condition, not a filter. `after` is the sort key of the last
 * entry of the previous page; `next` that of this page's last when more follow.
 */
export async function listAudit(
  subject: string,
  options: { from?: string; to?: string; limit?: number; after?: string } = {},
): Promise<{ entries: AuditEntry[]; next?: string }> {
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
  // One more than a page, to know whether another follows.
  let ExclusiveStartKey: Record<string, unknown> | undefined =
    options.after !== undefined ? { PK: `AUDIT#${subject}`, SK: options.after } : undefined;
  do {
    const out = await documentClient().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        Limit: limit + 1 - items.length,
        ExclusiveStartKey,
      }),
    );
    ioCounters.reads += Math.max(1, out.Count ?? 0);
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey && items.length <= limit);
  const page = items.slice(0, limit);
  const entries = page.map((i) => ({
    subject: String(i.subject),
    at: String(i.at),
    actor: String(i.actor),
    action: String(i.action),
    ...(i.route ? { route: String(i.route) } : {}),
    ...(i.details ? { details: i.details as Record<string, unknown> } : {}),
  }));
  return items.length > limit ? { entries, next: String(page.at(-1)?.SK) } : { entries };
}
