import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, ioCounters, tableName } from './clients.ts';
import { putVersioned, queryAll } from './store.ts';
import { BadRecordError } from '../core/errors.ts';
import { warningRecordSchema, type WarningRecord } from '../core/warnings-model.ts';

/*
 * Warnings in the one table (see docs/data-model.md):
 *   WARNING#<id> / WARNING     the warning: level, text, units and their cases   GSI2 WARNINGS / <issuedAt>#<id>
 * Each unit's acknowledgement is a case of type warning-response (CASE#<warningId>-<n>).
 */
const key = (id: string) => ({ PK: `WARNING#${id}`, SK: 'WARNING' });
const STRIP = new Set(['PK', 'SK', 'GSI2PK', 'GSI2SK']);

function parse(item: Record<string, unknown>): WarningRecord {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!STRIP.has(k)) plain[k] = v;
  const r = warningRecordSchema.safeParse(plain);
  if (!r.success)
    throw new BadRecordError(
      `${String(item.PK)}/${String(item.SK)}`,
      r.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; '),
    );
  return r.data;
}

export async function getWarning(id: string): Promise<WarningRecord | undefined> {
  const out = await documentClient().send(
    new GetCommand({ TableName: tableName(), Key: key(id), ConsistentRead: true }),
  );
  ioCounters.reads += 1;
  return out.Item ? parse(out.Item as Record<string, unknown>) : undefined;
}

/** Writes the warning: new (false when the id is taken), or replacing the version read. */
export function putWarning(w: WarningRecord, expectedVersion?: number): Promise<boolean> {
  return putVersioned(
    { ...key(w.warningId), GSI2PK: 'WARNINGS', GSI2SK: `${w.issuedAt}#${w.warningId}`, ...w },
    expectedVersion,
  );
}

/** Every warning, newest first (a county issues a few hundred a year). */
export async function listWarnings(): Promise<WarningRecord[]> {
  const items = await queryAll({
    IndexName: 'GSI2',
    KeyConditionExpression: 'GSI2PK = :pk',
    ExpressionAttributeValues: { ':pk': 'WARNINGS' },
    ScanIndexForward: false,
  });
  return items.map(parse);
}
