import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { cycleRecordSchema, type CycleRecord } from '../core/model.ts';
import { documentClient, ioCounters, tableName } from './clients.ts';

/**
 * Cycles of one duty from a period on: a range on GSI1 (`CYCLES#<duty>` / period key). Period keys of one kind
 * sort in time order, so this reads only the recent cycles, never the whole history.
 */
export async function listCyclesFrom(dutyId: string, fromPeriodKey: string): Promise<CycleRecord[]> {
  const out: CycleRecord[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK >= :from',
        ExpressionAttributeValues: { ':pk': `CYCLES#${dutyId}`, ':from': fromPeriodKey },
        ExclusiveStartKey,
      }),
    );
    ioCounters.reads += Math.max(1, page.Count ?? 0);
    for (const item of page.Items ?? []) {
      const r = cycleRecordSchema.safeParse(item);
      if (r.success) out.push(r.data);
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}
