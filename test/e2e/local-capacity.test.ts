import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConsumedCapacity,
} from '@aws-sdk/client-dynamodb';
import { closeServer, ensureTable, startDynamo } from '../../local/emulators.ts';
import { indexWriteUnits } from '../../local/dynalite-capacity.ts';

const TABLE = 'capacity-test';
let server: Server;
let client: DynamoDBClient;

beforeAll(async () => {
  const dynamo = await startDynamo({});
  server = dynamo.server;
  await ensureTable(dynamo.endpoint, TABLE);
  client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client.destroy();
  await closeServer(server);
});

const s = (S: string): AttributeValue => ({ S });
const key = (id: string) => ({ PK: s(id), SK: s('#') });
const capacity = (c: ConsumedCapacity | undefined) => ({
  total: c?.CapacityUnits,
  table: c?.Table?.CapacityUnits,
  indexes: Object.fromEntries(
    Object.entries(c?.GlobalSecondaryIndexes ?? {}).map(([name, v]) => [name, v.CapacityUnits]),
  ),
});

describe('the local DynamoDB bills index writes as DynamoDB does', () => {
  it('puts, updates and deletes cost one write per index the item is in, two when its index key changes', async () => {
    const rc = { TableName: TABLE, ReturnConsumedCapacity: 'INDEXES' as const };

    const plain = await client.send(new PutItemCommand({ ...rc, Item: { ...key('plain'), a: s('x') } }));
    expect(capacity(plain.ConsumedCapacity)).toEqual({ total: 1, table: 1, indexes: {} });

    const indexed = await client.send(
      new PutItemCommand({ ...rc, Item: { ...key('unit'), GSI1PK: s('ROSTER#town'), GSI1SK: s('u1') } }),
    );
    expect(capacity(indexed.ConsumedCapacity)).toEqual({ total: 2, table: 1, indexes: { GSI1: 1 } });

    // A projected attribute changes: the index entry is rewritten.
    const touched = await client.send(
      new UpdateItemCommand({
        ...rc,
        Key: key('unit'),
        UpdateExpression: 'SET #n = :n',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':n': s('城关镇') },
      }),
    );
    expect(capacity(touched.ConsumedCapacity)).toEqual({ total: 2, table: 1, indexes: { GSI1: 1 } });

    // Entering a second index costs one write there.
    const entered = await client.send(
      new UpdateItemCommand({
        ...rc,
        Key: key('unit'),
        UpdateExpression: 'SET GSI2PK = :pk, GSI2SK = :sk',
        ExpressionAttributeValues: { ':pk': s('STATUS#open'), ':sk': s('u1') },
      }),
    );
    expect(capacity(entered.ConsumedCapacity)).toEqual({ total: 3, table: 1, indexes: { GSI1: 1, GSI2: 1 } });

    // Changing an index key deletes the old entry and puts a new one: two writes in that index.
    const moved = await client.send(
      new UpdateItemCommand({
        ...rc,
        Key: key('unit'),
        UpdateExpression: 'SET GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': s('STATUS#closed') },
      }),
    );
    expect(capacity(moved.ConsumedCapacity)).toEqual({ total: 4, table: 1, indexes: { GSI1: 1, GSI2: 2 } });

    const deleted = await client.send(new DeleteItemCommand({ ...rc, Key: key('unit') }));
    expect(capacity(deleted.ConsumedCapacity)).toEqual({ total: 3, table: 1, indexes: { GSI1: 1, GSI2: 1 } });
  });

  it('counts each started KB of the projected item, and index writes inside a batch', async () => {
    const big = await client.send(
      new PutItemCommand({
        TableName: TABLE,
        ReturnConsumedCapacity: 'TOTAL',
        Item: { ...key('big'), GSI1PK: s('SUBS#u1'), GSI1SK: s('2023'), note: s('x'.repeat(2500)) },
      }),
    );
    // About 2.5 KB: three write units in the table and three in the index.
    expect(big.ConsumedCapacity?.CapacityUnits).toBe(6);

    const batch = await client.send(
      new BatchWriteItemCommand({
        ReturnConsumedCapacity: 'INDEXES',
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: { ...key('s1'), GSI1PK: s('SUBS#u2'), GSI1SK: s('a') } } },
            { PutRequest: { Item: { ...key('s2'), GSI1PK: s('SUBS#u2'), GSI1SK: s('b') } } },
            { PutRequest: { Item: { ...key('s3') } } },
          ],
        },
      }),
    );
    // Three table writes and two GSI1 writes, broken down as DynamoDB reports a batch.
    expect(capacity(batch.ConsumedCapacity?.[0])).toEqual({ total: 5, table: 3, indexes: { GSI1: 2 } });

    // Reads are unchanged: a Query on the index is billed on the items it returns.
    const read = await client.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': s('SUBS#u2') },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(read.Count).toBe(2);
    expect(read.ConsumedCapacity?.CapacityUnits).toBe(0.5);
  });
});

describe('indexWriteUnits', () => {
  const index = { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' };
  const size = (item: Record<string, unknown>) => JSON.stringify(item).length;
  const inIndex = { GSI1PK: 'a', GSI1SK: 'b' };

  it('is zero for an item that is in the index neither before nor after', () => {
    expect(indexWriteUnits(index, { PK: 'x' }, { PK: 'x', a: 1 }, size)).toBe(0);
    // Half a key is not in the index.
    expect(indexWriteUnits(index, undefined, { GSI1PK: 'a' }, size)).toBe(0);
  });

  it('charges the larger item for an update in place and both for a moved key', () => {
    expect(indexWriteUnits(index, inIndex, { ...inIndex, pad: 'y'.repeat(1500) }, size)).toBe(2);
    expect(indexWriteUnits(index, inIndex, { ...inIndex, GSI1SK: 'c' }, size)).toBe(2);
    expect(indexWriteUnits(index, inIndex, undefined, size)).toBe(1);
  });
});
