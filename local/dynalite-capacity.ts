import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';

type Item = Record<string, unknown>;
interface ConsumedCapacity {
  CapacityUnits: number;
  TableName: string;
  Table?: { CapacityUnits: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits: number }>;
}
interface DynaliteDb {
  itemSize(item: Item): number;
  addConsumedCapacity(
    data: { ReturnConsumedCapacity?: string; TableName: string },
    isRead: boolean,
    before?: Item,
    after?: Item,
  ): ConsumedCapacity | undefined;
}

export interface IndexKeys {
  name: string;
  partitionKey: string;
  sortKey: string;
}

type BatchWriteItem = (
  store: unknown,
  data: { ReturnConsumedCapacity?: string },
  cb: (err: unknown, res?: { ConsumedCapacity?: ConsumedCapacity[] }) => void,
) => void;

const require = createRequire(import.meta.url);
let patched = false;
/** Index write units of the BatchWriteItem being served, per table and index. */
const batchIndexUnits = new AsyncLocalStorage<Map<string, Record<string, number>>>();

/**
 * Write units one write costs in one global secondary index, by DynamoDB's rules: an item is in the index when it
 * has both index key attributes; putting it there, updating it there or removing it costs one write each (per
 * started KB of the projected item, here the whole item: our indexes project ALL), and changing its index key is
 * a removal plus a put.
 */
export function indexWriteUnits(
  index: IndexKeys,
  before: Item | undefined,
  after: Item | undefined,
  itemSize: (item: Item) => number,
): number {
  const keyOf = (item: Item | undefined) =>
    item && item[index.partitionKey] !== undefined && item[index.sortKey] !== undefined
      ? JSON.stringify([item[index.partitionKey], item[index.sortKey]])
      : undefined;
  const units = (item: Item) => Math.max(1, Math.ceil(itemSize(item) / 1024));
  const was = keyOf(before);
  const is = keyOf(after);
  if (was === undefined && is === undefined) return 0;
  if (was === undefined) return units(after!);
  if (is === undefined) return units(before!);
  if (was !== is) return units(before!) + units(after!);
  return Math.max(units(before!), units(after!));
}

/**
 * dynalite reports a write's consumed capacity for the table alone; DynamoDB also bills (and reports in TOTAL) the
 * writes to global secondary indexes. This wraps dynalite's capacity function, which every write path (PutItem,
 * UpdateItem, DeleteItem, BatchWriteItem) calls with the item before and after, to add them, so the simulator
 * measures write units as DynamoDB would bill them. Reads are left as they are: dynalite already counts a Query
 * on an index against it.
 */
export function countIndexWrites(indexes: readonly IndexKeys[]): void {
  if (patched) return;
  patched = true;
  const db = require('dynalite/db') as DynaliteDb;
  const tableOnly = db.addConsumedCapacity.bind(db);
  db.addConsumedCapacity = (data, isRead, before, after) => {
    const consumed = tableOnly(data, isRead, before, after);
    if (!consumed || isRead) return consumed;
    const perIndex: Record<string, { CapacityUnits: number }> = {};
    let total = 0;
    for (const index of indexes) {
      const units = indexWriteUnits(index, before, after, (item) => db.itemSize(item));
      if (units === 0) continue;
      perIndex[index.name] = { CapacityUnits: units };
      total += units;
    }
    if (total === 0) return consumed;
    // Inside a BatchWriteItem: remember the index share, which dynalite's batch total does not break down.
    const batch = batchIndexUnits.getStore();
    if (batch) {
      const tableIndexes = batch.get(data.TableName) ?? {};
      for (const [name, u] of Object.entries(perIndex))
        tableIndexes[name] = (tableIndexes[name] ?? 0) + u.CapacityUnits;
      batch.set(data.TableName, tableIndexes);
    }
    return {
      ...consumed,
      CapacityUnits: consumed.CapacityUnits + total,
      ...(data.ReturnConsumedCapacity === 'INDEXES'
        ? { Table: { CapacityUnits: consumed.CapacityUnits }, GlobalSecondaryIndexes: perIndex }
        : {}),
    };
  };

  // dynalite sums a batch's item capacities into one figure per table and reports that as the table's share;
  // with INDEXES the index share is split out again, as DynamoDB reports it. Wrapped before dynalite loads its
  // actions (it takes them at load), so countIndexWrites must run before the first require('dynalite').
  const batchPath = require.resolve('dynalite/actions/batchWriteItem');
  const batchWrite = require(batchPath) as BatchWriteItem;
  const cached = require.cache[batchPath];
  if (!cached) throw new Error('dynalite batchWriteItem is not in the module cache');
  cached.exports = ((store, data, cb) =>
    batchIndexUnits.run(new Map(), () => {
      const units = batchIndexUnits.getStore()!;
      batchWrite(store, data, (err, res) => {
        if (!err && data.ReturnConsumedCapacity === 'INDEXES')
          for (const c of res?.ConsumedCapacity ?? []) {
            const perIndex = units.get(c.TableName);
            if (!perIndex) continue;
            const indexTotal = Object.values(perIndex).reduce((a, b) => a + b, 0);
            c.Table = { CapacityUnits: c.CapacityUnits - indexTotal };
            c.GlobalSecondaryIndexes = Object.fromEntries(
              Object.entries(perIndex).map(([name, u]) => [name, { CapacityUnits: u }]),
            );
          }
        cb(err, res);
      });
    })) satisfies BatchWriteItem;
}
