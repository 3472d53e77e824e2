import { describe, expect, it } from 'vitest';
import { handlers, type HandlerSpec } from '../../functions/registry.ts';
import {
  allows,
  likePattern,
  replacesAppendOnly,
  tableRequests,
  type TableAccess,
} from '../../functions/table-access.ts';

const access = (name: keyof typeof handlers): TableAccess =>
  (handlers[name].access as HandlerSpec['access']).table as TableAccess;

const may = (name: keyof typeof handlers, command: string, input: Record<string, unknown>) =>
  tableRequests(command, input).every((r) => allows(access(name), r));

describe('table grants, as IAM evaluates them', () => {
  it('reads the leading keys of every kind of request, plain or marshalled', () => {
    expect(tableRequests('GetItemCommand', { Key: { PK: 'UNIT#a', SK: 'UNIT' } })).toEqual([
      { action: 'dynamodb:GetItem', leadingKeys: ['UNIT#a'] },
    ]);
    expect(tableRequests('PutItemCommand', { Item: { PK: { S: 'AUDIT#unit:a' }, SK: { S: 'x' } } })).toEqual([
      { action: 'dynamodb:PutItem', leadingKeys: ['AUDIT#unit:a'] },
    ]);
    expect(
      tableRequests('QueryCommand', {
        KeyConditionExpression: '#p = :v AND begins_with(SK, :s)',
        ExpressionAttributeNames: { '#p': 'PK' },
        ExpressionAttributeValues: { ':v': 'CASE#1', ':s': 'EVENT#' },
      }),
    ).toEqual([{ action: 'dynamodb:Query', leadingKeys: ['CASE#1'] }]);
    expect(
      tableRequests('QueryCommand', { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk' }),
    ).toEqual([{ action: 'dynamodb:Query', index: 'GSI1', leadingKeys: [] }]);
    expect(
      tableRequests('BatchWriteItemCommand', {
        RequestItems: {
          t: [
            { PutRequest: { Item: { PK: 'OUTBOX#1', SK: 'a' } } },
            { DeleteRequest: { Key: { PK: 'MAIL#b', SK: 'k' } } },
          ],
        },
      }),
    ).toEqual([{ action: 'dynamodb:BatchWriteItem', leadingKeys: ['OUTBOX#1', 'MAIL#b'] }]);
    // A transaction is authorized per contained operation.
    expect(
      tableRequests('TransactWriteItemsCommand', {
        TransactItems: [{ Put: { Item: { PK: 'UNIT#a' } } }, { ConditionCheck: { Key: { PK: 'LEADER#l' } } }],
      }).map((r) => r.action),
    ).toEqual(['dynamodb:PutItem', 'dynamodb:ConditionCheckItem']);
  });

  it('matches keys like IAM StringLike: * any run, ? one character, the rest literal', () => {
    expect(likePattern('OUTBOX#*').test('OUTBOX#3')).toBe(true);
    expect(likePattern('OUTBOX#*').test('OUTBOX-MOMENTS')).toBe(false);
    expect(likePattern('DELIVERY').test('DELIVERY#x')).toBe(false);
    expect(likePattern('A?C').test('ABC')).toBe(true);
    expect(likePattern('A.C').test('ABC')).toBe(false);
  });

  it('lets each function touch only its own keys, with only its own actions', () => {
    expect(may('cycleAdvance', 'UpdateItemCommand', { Key: { PK: 'CYCLE#d#p', SK: 'CYCLE' } })).toBe(true);
    expect(may('cycleAdvance', 'UpdateItemCommand', { Key: { PK: 'UNIT#a', SK: 'UNIT' } })).toBe(false);
    // Dispatch reads one unit, 安委办, to tell it of a missing holiday arrangement; it writes no unit.
    expect(may('dispatch', 'GetItemCommand', { Key: { PK: 'UNIT#a', SK: 'UNIT' } })).toBe(true);
    expect(may('dispatch', 'PutItemCommand', { Item: { PK: 'UNIT#a', SK: 'UNIT' } })).toBe(false);
    expect(may('dispatch', 'GetItemCommand', { Key: { PK: 'CYCLE#d#p', SK: 'CYCLE' } })).toBe(false);
    expect(may('deliver', 'PutItemCommand', { Item: { PK: 'UNIT#a', SK: 'UNIT' } })).toBe(false);
    expect(may('mailEvents', 'DeleteItemCommand', { Key: { PK: 'UNDELIVERABLE', SK: 'a' } })).toBe(false);
    // A bounced case email's record is rewritten under the recipient and under the case, in one batch.
    expect(
      may('mailEvents', 'BatchWriteItemCommand', {
        RequestItems: {
          t: [{ PutRequest: { Item: { PK: 'MAIL#a@b.cn' } } }, { PutRequest: { Item: { PK: 'CASE#c1' } } }],
        },
      }),
    ).toBe(true);
    // A batch passes only if every item's key is granted for it.
    const mixed = {
      RequestItems: {
        t: [{ PutRequest: { Item: { PK: 'OUTBOX#1' } } }, { PutRequest: { Item: { PK: 'UNIT#a' } } }],
      },
    };
    expect(may('cycleAdvance', 'BatchWriteItemCommand', mixed)).toBe(false);
    // Nothing may scan: a Scan has no key to narrow by.
    for (const name of Object.keys(handlers) as (keyof typeof handlers)[])
      expect(may(name, 'ScanCommand', {}), name).toBe(false);
  });

  it('lets api add audit entries but never change, remove or replace one', () => {
    const entry = { Item: { PK: 'AUDIT#unit:a', SK: '2023-02-06T09:00:00+08:00#1' } };
    expect(may('api', 'PutItemCommand', { ...entry, ConditionExpression: 'attribute_not_exists(PK)' })).toBe(
      true,
    );
    expect(replacesAppendOnly(access('api'), 'PutItemCommand', entry)).toBe(true);
    expect(
      replacesAppendOnly(access('api'), 'PutItemCommand', {
        ...entry,
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    ).toBe(false);
    expect(may('api', 'UpdateItemCommand', { Key: entry.Item })).toBe(false);
    expect(may('api', 'DeleteItemCommand', { Key: entry.Item })).toBe(false);
    expect(
      may('api', 'BatchWriteItemCommand', { RequestItems: { t: [{ DeleteRequest: { Key: entry.Item } }] } }),
    ).toBe(false);
    // Its other writes stay allowed, also in batches.
    expect(
      may('api', 'BatchWriteItemCommand', {
        RequestItems: { t: [{ PutRequest: { Item: { PK: 'UNIT#a' } } }] },
      }),
    ).toBe(true);
  });
});
