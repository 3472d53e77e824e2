// The in-memory table behind the unit tests: it must refuse what it does not implement, or a test could pass
// because a condition was silently ignored.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { documentClient } from '../../functions/adapters/clients.ts';
import { leaseStore } from '../../functions/adapters/outbox-store.ts';
import { activeRoster, putUnits } from '../../functions/adapters/store.ts';
import { FakeTable } from './support/fake-table.ts';

const TABLE = 'safeduty-fake-test';
const table = new FakeTable(TABLE, 2);

beforeEach(() => {
  table.reset();
  vi.stubEnv('TABLE_NAME', TABLE);
});
afterAll(() => {
  table.restore();
  vi.unstubAllEnvs();
});

describe('the fake table', () => {
  it('evaluates the conditions the adapters write and throws ConditionalCheckFailedException', async () => {
    const db = documentClient();
    const put = (n: number) =>
      db.send(
        new PutCommand({
          TableName: TABLE,
          Item: { PK: 'X', SK: 'Y', n },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    await put(1);
    await expect(put(2)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(table.get('X', 'Y')?.n).toBe(1);
    const updateMissing = db.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { PK: 'nope', SK: 'CYCLE' },
        UpdateExpression: 'SET lastError = :e',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':e': 'x' },
      }),
    );
    await expect(updateMissing).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(table.get('nope', 'CYCLE')).toBeUndefined();
  });

  it('implements the delivery lease: one holder until it expires, emails in flight handed to the next', async () => {
    expect(await leaseStore.acquire('run-a', 1000, 5000)).toEqual({ acquired: true, inFlight: [] });
    await leaseStore.hold('run-a', [{ address: 'a@x.cn', recordKey: 'k' }], 6000);
    expect(await leaseStore.acquire('run-b', 2000, 9000)).toEqual({
      acquired: false,
      holder: 'run-a',
      until: 6000,
    });
    // run-a cannot release a lease with an email in flight; once expired, run-b takes it over with that email.
    await leaseStore.release('run-a');
    expect(await leaseStore.acquire('run-b', 7000, 9000)).toEqual({
      acquired: true,
      inFlight: [{ address: 'a@x.cn', recordKey: 'k' }],
    });
    await expect(leaseStore.hold('run-a', [], 9000)).rejects.toThrow(/no longer held by run-a/);
    await leaseStore.hold('run-b', [], 9000);
    await leaseStore.release('run-b');
    expect(table.get('DELIVERY', 'LEASE')).toBeUndefined();
  });

  it('throws on expressions and parameters it does not implement, and on unused placeholders', async () => {
    const db = documentClient();
    const put = (input: Record<string, unknown>) =>
      db.send(new PutCommand({ TableName: TABLE, Item: { PK: 'X', SK: 'Y' }, ...input }));
    await expect(put({ ConditionExpression: 'attribute_not_exists(SK)' })).rejects.toThrow(
      /unsupported ConditionExpression/,
    );
    await expect(put({ ReturnValues: 'ALL_OLD' })).rejects.toThrow(/unsupported PutCommand parameter/);
    await expect(put({ ExpressionAttributeValues: { ':unused': 1 } })).rejects.toThrow(
      /unused attribute value/,
    );
    const update = (UpdateExpression: string, ExpressionAttributeValues: Record<string, unknown>) =>
      db.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { PK: 'X', SK: 'Y' },
          UpdateExpression,
          ExpressionAttributeValues,
        }),
      );
    await expect(update('ADD n :one', { ':one': 1 })).rejects.toThrow(/unsupported UpdateExpression/);
    await expect(update('SET n = n + :one', { ':one': 1 })).rejects.toThrow(/unsupported UpdateExpression/);
    await expect(update('SET n = :v', {})).rejects.toThrow(/undefined attribute value/);
    const query = db.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':pk': 'X', ':a': 'A', ':b': 'B' },
      }),
    );
    await expect(query).rejects.toThrow(/unsupported KeyConditionExpression/);
    await expect(
      db.send(new GetCommand({ TableName: 'other-table', Key: { PK: 'X', SK: 'Y' } })),
    ).rejects.toThrow(/not found/);
  });

  it('pages queries, and the store reads every page', async () => {
    const unit = (id: string) => ({
      id,
      name: id,
      kind: 'enterprise' as const,
      contact: { name: 'c', email: `${id}.c@x.cn` },
      principal: { name: 'p', email: `${id}.p@x.cn` },
      active: true,
    });
    await putUnits(['e1', 'e2', 'e3', 'e4', 'e5'].map(unit));
    const { units, bad } = await activeRoster(['enterprise']);
    expect(units.map((u) => u.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(bad).toEqual([]);
    expect(table.mock.commandCalls(QueryCommand).length).toBe(3);
  });
});
