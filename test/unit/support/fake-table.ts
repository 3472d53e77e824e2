// An in-memory stand-in for the single DynamoDB table, installed behind `mockClient(DynamoDBDocumentClient)`.
//
// It implements the commands and the exact expressions functions/adapters/store.ts uses, nothing more: an
// expression it does not know throws, so a test can never pass because the fake silently ignored a condition.
// Like DynamoDB it rejects placeholders that are undefined or unused, and it pages query results.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

export type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;
export type CommandName =
  'GetCommand' | 'PutCommand' | 'UpdateCommand' | 'DeleteCommand' | 'QueryCommand' | 'BatchWriteCommand';

interface Fault {
  command: CommandName;
  when: (input: Record<string, unknown>) => boolean;
  error: Error;
  times: number;
}

const INDEXES = {
  table: { pk: 'PK', sk: 'SK' },
  GSI1: { pk: 'GSI1PK', sk: 'GSI1SK' },
  GSI2: { pk: 'GSI2PK', sk: 'GSI2SK' },
} as const;

function validation(message: string): Error {
  return Object.assign(new Error(message), { name: 'ValidationException', $metadata: {} });
}

function unsupported(what: string, detail: unknown): Error {
  return new Error(`fake-table: unsupported ${what}: ${JSON.stringify(detail)}`);
}

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

/** Like the marshaller with removeUndefinedValues: undefined attributes are not stored; stored values are copies. */
function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function allowOnly(command: CommandName, input: Record<string, unknown>, allowed: string[]): void {
  for (const [k, v] of Object.entries(input)) {
    if (v !== undefined && !allowed.includes(k)) throw unsupported(`${command} parameter`, k);
  }
}

/** DynamoDB rejects an expression placeholder that is not defined, and a defined one that is not used. */
function checkPlaceholders(expressions: (string | undefined)[], names: Names, values: Values): void {
  const text = expressions.filter((e) => e !== undefined).join(' ');
  const usedNames = new Set(text.match(/#\w+/g) ?? []);
  const usedValues = new Set(text.match(/:\w+/g) ?? []);
  for (const n of usedNames) if (names?.[n] === undefined) throw validation(`undefined attribute name ${n}`);
  for (const v of usedValues)
    if (!values || !(v in values)) throw validation(`undefined attribute value ${v}`);
  for (const n of Object.keys(names ?? {}))
    if (!usedNames.has(n)) throw validation(`unused attribute name ${n}`);
  for (const v of Object.keys(values ?? {}))
    if (!usedValues.has(v)) throw validation(`unused attribute value ${v}`);
}

/** `<` as DynamoDB compares: numbers numerically, strings by code unit; different types never compare. */
function lessThan(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a < b;
  if (typeof a === 'string' && typeof b === 'string') return a < b;
  return false;
}

type Condition = (
  item: Item | undefined,
  attr: (token: string) => unknown,
  value: (token: string) => unknown,
) => boolean;

/** The condition expressions the adapters write, evaluated against the current item. */
const CONDITIONS: Record<string, Condition> = {
  'attribute_not_exists(PK)': (item) => item === undefined,
  'attribute_exists(PK)': (item) => item !== undefined,
  'attribute_exists(PK) AND (attribute_not_exists(generation) OR generation < :g)': (item, attr, value) =>
    item !== undefined && (attr('generation') === undefined || lessThan(attr('generation'), value(':g'))),
  // Closing and revising cycles (store.ts): never over a newer generation, a cancellation or a later revision.
  'attribute_exists(PK) AND #s IN (:open, :closed) AND (attribute_not_exists(generation) OR generation = :g)':
    (item, attr, value) =>
      item !== undefined &&
      [value(':open'), value(':closed')].includes(attr('#s')) &&
      (attr('generation') === undefined || attr('generation') === value(':g')),
  'attribute_exists(PK) AND #s IN (:open, :closed) AND generation = :g': (item, attr, value) =>
    item !== undefined &&
    [value(':open'), value(':closed')].includes(attr('#s')) &&
    attr('generation') === value(':g'),
  'attribute_exists(PK) AND #s = :open': (item, attr, value) =>
    item !== undefined && attr('#s') === value(':open'),
  'attribute_exists(PK) AND (attribute_not_exists(revision) OR revision <= :r)': (item, attr, value) =>
    item !== undefined && (attr('revision') === undefined || !lessThan(value(':r'), attr('revision'))),
  // The delivery lease (outbox-store.ts).
  'attribute_not_exists(PK) OR holder = :me OR #until < :now': (item, attr, value) =>
    item === undefined || attr('holder') === value(':me') || lessThan(attr('#until'), value(':now')),
  'holder = :me': (item, attr, value) => item !== undefined && attr('holder') === value(':me'),
  'holder = :me AND size(inFlight) = :zero': (item, attr, value) =>
    item !== undefined &&
    attr('holder') === value(':me') &&
    Array.isArray(attr('inFlight')) &&
    (attr('inFlight') as unknown[]).length === value(':zero'),
  'recordedAt < :looked': (item, attr, value) =>
    item !== undefined && lessThan(attr('recordedAt'), value(':looked')),
  'attribute_not_exists(through) OR through < :d': (item, attr, value) =>
    attr('through') === undefined || lessThan(attr('through'), value(':d')),
};

function checkCondition(
  expression: string | undefined,
  item: Item | undefined,
  names: Names,
  values: Values,
): void {
  if (expression === undefined) return;
  const condition = CONDITIONS[expression];
  if (!condition) throw unsupported('ConditionExpression', expression);
  const attr = (token: string) => item?.[token.startsWith('#') ? (names?.[token] ?? '') : token];
  const value = (token: string) => values?.[token];
  if (!condition(item, attr, value)) throw conditionFailed();
}

const LIST_APPEND = /^SET (\w+) = list_append\(if_not_exists\(\1, (:\w+)\), (:\w+)\)$/;
const ASSIGNMENT = /^(#?\w+) = (:\w+)$/;
const IF_NOT_EXISTS = /^(#?\w+) = if_not_exists\(\1, (:\w+)\)$/;

/**
 * `SET a = list_append(if_not_exists(a, :empty), :more)`, `SET x = :v, #y = :w, z = if_not_exists(z, :d)`, or
 * `REMOVE a, b`.
 */
function applyUpdate(expression: string, item: Item, names: Names, values: Values): void {
  const value = (token: string) => copy(values?.[token]);
  const append = LIST_APPEND.exec(expression);
  if (append) {
    const [, attr = '', empty = '', more = ''] = append;
    const current = item[attr] ?? value(empty);
    const added = value(more);
    if (!Array.isArray(current) || !Array.isArray(added)) throw validation('list_append needs two lists');
    item[attr] = [...(current as unknown[]), ...added];
    return;
  }
  const nameOf = (token: string) => (token.startsWith('#') ? (names?.[token] ?? '') : token);
  if (expression.startsWith('REMOVE ')) {
    for (const part of expression.slice(7).split(', ')) {
      if (!/^#?\w+$/.test(part)) throw unsupported('UpdateExpression', expression);
      delete item[nameOf(part)];
    }
    return;
  }
  if (!expression.startsWith('SET ')) throw unsupported('UpdateExpression', expression);
  for (const part of splitTopLevel(expression.slice(4))) {
    const keep = IF_NOT_EXISTS.exec(part);
    const m = keep ?? ASSIGNMENT.exec(part);
    if (!m) throw unsupported('UpdateExpression', expression);
    const [, target = '', source = ''] = m;
    const attr = nameOf(target);
    if (attr === 'PK' || attr === 'SK') throw validation('cannot update a key attribute');
    if (keep && item[attr] !== undefined) continue;
    const v = value(source);
    if (v === undefined) delete item[attr];
    else item[attr] = v;
  }
}

/** `a = :x, b = f(b, :y)` → its assignments (commas inside parentheses belong to the call). */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === '(') depth++;
    else if (list[i] === ')') depth--;
    else if (depth === 0 && list.startsWith(', ', i)) {
      parts.push(list.slice(start, i));
      start = i + 2;
    }
  }
  parts.push(list.slice(start));
  return parts;
}

const KEY_CONDITION = /^(\w+) = (:\w+)(?: AND (?:begins_with\((\w+), (:\w+)\)|(\w+) (>|>=|<|<=) (:\w+)))?$/;

export class FakeTable {
  /** The aws-sdk-client-mock stub: use it for `commandCalls` when a test counts requests. */
  readonly mock = mockClient(DynamoDBDocumentClient);
  private readonly rows = new Map<string, Item>();
  private faults: Fault[] = [];

  constructor(
    readonly tableName = 'safeduty-test',
    /** Most items a query page returns, so tests exercise LastEvaluatedKey paging. */
    private readonly pageSize = 100,
  ) {
    this.install();
  }

  /** Empties the table, forgets faults and call history, and re-installs the fakes. */
  reset(): void {
    this.rows.clear();
    this.faults = [];
    this.mock.reset();
    this.install();
  }

  restore(): void {
    this.mock.restore();
  }

  /** The largest item written so far, in bytes as the size check counts them. */
  largestItemBytes = 0;

  /**
   * DynamoDB refuses an item over 400 KB. Counted as its JSON (attribute names and values), which is a little
   * more than DynamoDB's own count: an item this accepts, DynamoDB accepts.
   */
  private checkSize(item: Item): void {
    const bytes = Buffer.byteLength(JSON.stringify(item));
    if (bytes > 400 * 1024) throw validation('Item size has exceeded the maximum allowed size');
    this.largestItemBytes = Math.max(this.largestItemBytes, bytes);
  }

  /** Writes items directly (no conditions, no SDK call): for seeding, including deliberately bad records. */
  seed(...items: Item[]): void {
    for (const item of items) this.rows.set(this.keyOf(item), copy(item));
  }

  /** Removes an item directly (no SDK call). */
  remove(pk: string, sk: string): void {
    this.rows.delete(this.keyOf({ PK: pk, SK: sk }));
  }

  get(pk: string, sk: string): Item | undefined {
    const item = this.rows.get(this.keyOf({ PK: pk, SK: sk }));
    return item ? copy(item) : undefined;
  }

  /** The items of one partition whose sort key starts with a prefix, sorted by sort key. */
  partition(pk: string, skPrefix = ''): Item[] {
    return [...this.rows.values()]
      .filter((i) => i.PK === pk && String(i.SK).startsWith(skPrefix))
      .sort((a, b) => (String(a.SK) < String(b.SK) ? -1 : 1))
      .map((i) => copy(i));
  }

  /** Makes the next `times` matching requests fail with `error` before they touch the table. */
  failOn(
    command: CommandName,
    when: (input: Record<string, unknown>) => boolean,
    error: Error,
    times = 1,
  ): void {
    this.faults.push({ command, when, error, times });
  }

  private install(): void {
    // Async like the real client: send() always returns a promise, and failures are rejections.
    this.mock
      .on(GetCommand)
      .callsFake(async (input: Record<string, unknown>) => this.run('GetCommand', input));
    this.mock
      .on(PutCommand)
      .callsFake(async (input: Record<string, unknown>) => this.run('PutCommand', input));
    this.mock
      .on(UpdateCommand)
      .callsFake(async (input: Record<string, unknown>) => this.run('UpdateCommand', input));
    this.mock
      .on(DeleteCommand)
      .callsFake(async (input: Record<string, unknown>) => this.run('DeleteCommand', input));
    this.mock
      .on(QueryCommand)
      .callsFake(async (input: Record<string, unknown>) => this.run('QueryCommand', input));
    this.mock
      .on(BatchWriteCommand)
      .callsFake(async (input: Record<string, unknown>) => this.run('BatchWriteCommand', input));
  }

  private run(command: CommandName, input: Record<string, unknown>): Record<string, unknown> {
    const fault = this.faults.find((f) => f.command === command && f.times > 0 && f.when(input));
    if (fault) {
      fault.times--;
      throw fault.error;
    }
    if (command !== 'BatchWriteCommand' && input.TableName !== this.tableName) {
      throw Object.assign(new Error(`Requested resource not found: ${String(input.TableName)}`), {
        name: 'ResourceNotFoundException',
      });
    }
    switch (command) {
      case 'GetCommand':
        return this.getItem(input);
      case 'PutCommand':
        return this.putItem(input);
      case 'UpdateCommand':
        return this.updateItem(input);
      case 'DeleteCommand':
        return this.deleteItem(input);
      case 'QueryCommand':
        return this.query(input);
      case 'BatchWriteCommand':
        return this.batchWrite(input);
    }
  }

  private keyOf(key: Item): string {
    if (typeof key.PK !== 'string' || typeof key.SK !== 'string' || key.PK === '' || key.SK === '') {
      throw validation(
        `the key needs non-empty string PK and SK: ${JSON.stringify({ PK: key.PK, SK: key.SK })}`,
      );
    }
    return JSON.stringify([key.PK, key.SK]);
  }

  private exactKey(input: Record<string, unknown>): string {
    const key = input.Key as Item | undefined;
    if (!key || Object.keys(key).sort().join() !== 'PK,SK') throw validation(`Key must be exactly {PK, SK}`);
    return this.keyOf(key);
  }

  private getItem(input: Record<string, unknown>): Record<string, unknown> {
    allowOnly('GetCommand', input, ['TableName', 'Key', 'ConsistentRead']);
    const item = this.rows.get(this.exactKey(input));
    return { ...(item ? { Item: copy(item) } : {}), $metadata: {} };
  }

  private putItem(input: Record<string, unknown>): Record<string, unknown> {
    allowOnly('PutCommand', input, [
      'TableName',
      'Item',
      'ConditionExpression',
      'ExpressionAttributeNames',
      'ExpressionAttributeValues',
    ]);
    const names = input.ExpressionAttributeNames as Names;
    const values = input.ExpressionAttributeValues as Values;
    const condition = input.ConditionExpression as string | undefined;
    checkPlaceholders([condition], names, values);
    const item = copy(input.Item as Item);
    const key = this.keyOf(item);
    checkCondition(condition, this.rows.get(key), names, values);
    this.checkSize(item);
    this.rows.set(key, item);
    return { $metadata: {} };
  }

  private deleteItem(input: Record<string, unknown>): Record<string, unknown> {
    allowOnly('DeleteCommand', input, [
      'TableName',
      'Key',
      'ConditionExpression',
      'ExpressionAttributeNames',
      'ExpressionAttributeValues',
    ]);
    const names = input.ExpressionAttributeNames as Names;
    const values = input.ExpressionAttributeValues as Values;
    const condition = input.ConditionExpression as string | undefined;
    checkPlaceholders([condition], names, values);
    const key = this.exactKey(input);
    checkCondition(condition, this.rows.get(key), names, values);
    this.rows.delete(key);
    return { $metadata: {} };
  }

  private updateItem(input: Record<string, unknown>): Record<string, unknown> {
    allowOnly('UpdateCommand', input, [
      'TableName',
      'Key',
      'UpdateExpression',
      'ConditionExpression',
      'ExpressionAttributeNames',
      'ExpressionAttributeValues',
      'ReturnValues',
    ]);
    if (input.ReturnValues !== undefined && input.ReturnValues !== 'ALL_NEW')
      throw unsupported('ReturnValues', input.ReturnValues);
    const names = input.ExpressionAttributeNames as Names;
    const values = input.ExpressionAttributeValues as Values;
    const update = input.UpdateExpression as string | undefined;
    const condition = input.ConditionExpression as string | undefined;
    if (update === undefined) throw validation('UpdateExpression is required');
    checkPlaceholders([update, condition], names, values);
    const key = this.exactKey(input);
    const existing = this.rows.get(key);
    checkCondition(condition, existing, names, values);
    // Like DynamoDB, an update without a condition creates the item when it is missing.
    const item = existing ? copy(existing) : copy(input.Key as Item);
    applyUpdate(update, item, names, values);
    this.checkSize(item);
    this.rows.set(key, item);
    return { ...(input.ReturnValues === 'ALL_NEW' ? { Attributes: copy(item) } : {}), $metadata: {} };
  }

  private query(input: Record<string, unknown>): Record<string, unknown> {
    allowOnly('QueryCommand', input, [
      'TableName',
      'IndexName',
      'KeyConditionExpression',
      'ExpressionAttributeValues',
      'ExclusiveStartKey',
      'Limit',
      'ConsistentRead',
    ]);
    const values = input.ExpressionAttributeValues as Values;
    const expression = String(input.KeyConditionExpression);
    checkPlaceholders([expression], undefined, values);
    const indexName = (input.IndexName as string | undefined) ?? 'table';
    const index = INDEXES[indexName as keyof typeof INDEXES];
    if (!index) throw validation(`no index ${indexName}`);
    const m = KEY_CONDITION.exec(expression);
    const skAttr = m?.[3] ?? m?.[5];
    if (!m || m[1] !== index.pk || (skAttr !== undefined && skAttr !== index.sk)) {
      throw unsupported(`KeyConditionExpression on ${indexName}`, expression);
    }
    if (input.ConsistentRead && indexName !== 'table')
      throw validation('consistent reads are not supported on a GSI');
    const pk = values?.[m[2] ?? ''];
    const prefix = m[4] === undefined ? undefined : values?.[m[4]];
    const op = m[6];
    const bound = m[7] === undefined ? undefined : values?.[m[7]];
    if (
      typeof pk !== 'string' ||
      (prefix !== undefined && typeof prefix !== 'string') ||
      (op !== undefined && typeof bound !== 'string')
    ) {
      throw validation('key condition values must be strings');
    }
    const inRange = (sk: string): boolean => {
      if (op === undefined) return true;
      const b = bound as string;
      return op === '>' ? sk > b : op === '>=' ? sk >= b : op === '<' ? sk < b : sk <= b;
    };
    // Index order: the index sort key, then the table key (a stable order for items sharing a sort key).
    const order = (a: Item, b: Item): number => {
      for (const attr of [index.sk, 'PK', 'SK']) {
        const x = String(a[attr]);
        const y = String(b[attr]);
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    };
    let matches = [...this.rows.values()]
      .filter((i) => i[index.pk] === pk && typeof i[index.sk] === 'string')
      .filter((i) => prefix === undefined || String(i[index.sk]).startsWith(prefix))
      .filter((i) => inRange(String(i[index.sk])))
      .sort(order);
    const start = input.ExclusiveStartKey as Item | undefined;
    if (start) matches = matches.filter((i) => order(i, start) > 0);
    const limit = Math.min(this.pageSize, (input.Limit as number | undefined) ?? Infinity);
    const page = matches.slice(0, limit);
    const last = page.at(-1);
    // DynamoDB stops at the limit and hands back a key even when nothing follows.
    const lastKey =
      last && page.length === limit
        ? Object.fromEntries(['PK', 'SK', index.pk, index.sk].map((a) => [a, last[a]]))
        : undefined;
    return {
      Items: page.map((i) => copy(i)),
      Count: page.length,
      ScannedCount: page.length,
      ...(lastKey ? { LastEvaluatedKey: lastKey } : {}),
      $metadata: {},
    };
  }

  private batchWrite(input: Record<string, unknown>): Record<string, unknown> {
    allowOnly('BatchWriteCommand', input, ['RequestItems']);
    const requestItems = input.RequestItems as Record<string, unknown[]>;
    const tables = Object.keys(requestItems);
    if (tables.length !== 1 || tables[0] !== this.tableName) throw unsupported('BatchWrite tables', tables);
    const requests = requestItems[this.tableName] ?? [];
    if (requests.length === 0 || requests.length > 25) throw validation('a batch holds 1 to 25 requests');
    const ops = requests.map((r) => {
      const put = (r as { PutRequest?: { Item?: Item } }).PutRequest;
      const del = (r as { DeleteRequest?: { Key?: Item } }).DeleteRequest;
      if (Object.keys(r as object).length !== 1 || (!put?.Item && !del?.Key))
        throw unsupported('BatchWrite request', r);
      return put?.Item ? { put: put.Item } : { del: del?.Key as Item };
    });
    const keys = ops.map((o) => this.keyOf(o.put ?? o.del ?? {}));
    if (new Set(keys).size !== keys.length) throw validation('a batch may not hold the same key twice');
    for (const o of ops) if (o.put) this.checkSize(o.put);
    ops.forEach((o, i) => {
      if (o.put) this.rows.set(keys[i] ?? '', copy(o.put));
      else this.rows.delete(keys[i] ?? '');
    });
    return { UnprocessedItems: {}, $metadata: {} };
  }
}
