import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { documentClient, ioCounters, tableName } from './clients.ts';

export interface AuditEntry {
  subject: string;
  at: string;
  actor: string;
  action: string;
  route?: string;
  details?: Record<string, unknown>;
}

/** Append-only: each entry gets a new sort key and is written only if that key is new. */
export async function appendAudit(entry: AuditEntry): Promise<void> {
  await documentClient().send(
    new PutCommand({
      TableName: tableName(),
      Item: { PK: `AUDIT#${entry.subject}`, SK: `${entry.at}#${randomUUID()}`, ...entry },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  ioCounters.writes += 1;
}

export async function listAudit(subject: string, limit = 500): Promise<AuditEntry[]> {
  const out = await documentClient().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': `AUDIT#${subject}` },
      Limit: limit,
    }),
  );
  ioCounters.reads += Math.max(1, out.Count ?? 0);
  return (out.Items ?? []).map((i) => ({
    subject: String(i.subject),
    at: String(i.at),
    actor: String(i.actor),
    action: String(i.action),
    ...(i.route ? { route: String(i.route) } : {}),
    ...(i.details ? { details: i.details as Record<string, unknown> } : {}),
  }));
}
