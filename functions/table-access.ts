/**
 * What a function may do to the single table, as data: the IAM actions, and the partition keys they apply to
 * (`dynamodb:LeadingKeys`). The CDK stack turns a function's grants into IAM statements; the local runtime
 * checks every DynamoDB request a function makes against the same grants, so a missing grant fails a local
 * test instead of a county's deployment.
 */

/** The item-level actions a grant may name. Scan is never granted: a Scan has no leading key to narrow. */
export type ItemAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem';

export interface TableGrant {
  actions: readonly ItemAction[];
  /**
   * Partition-key patterns in IAM StringLike syntax (`*` any run of characters, `?` one), e.g. `UNIT#*` or
   * `DELIVERY`. Every key of a request must match one of them (ForAllValues).
   */
  keys: readonly string[];
}

export interface TableAccess {
  grants: readonly TableGrant[];
  /** Queries on the global secondary indexes (read-only; an index is not narrowed by key, see decisions.md). */
  queryIndexes?: boolean;
  /**
   * Partition keys whose items may be added but never changed or removed (the audit): the stack adds an explicit
   * Deny of UpdateItem, DeleteItem and BatchWriteItem on them, whatever else is granted.
   */
  appendOnly?: readonly string[];
}

/** What the explicit Deny on append-only keys names. */
export const APPEND_ONLY_DENIED: readonly ItemAction[] = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/** What IAM authorizes one DynamoDB request as: one action, on the table or an index, with its leading keys. */
export interface TableRequest {
  action: ItemAction | 'dynamodb:Scan' | 'dynamodb:DescribeTable';
  index?: string;
  leadingKeys: string[];
}

type Input = Record<string, unknown>;

/** A partition key as the request carries it: plain (document client) or marshalled ({ S: '...' }). */
function keyValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'S' in v && typeof (v as { S: unknown }).S === 'string')
    return (v as { S: string }).S;
  return String(v);
}

function pkOf(record: unknown, pk: string): string[] {
  const r = record as Input | undefined;
  return r && pk in r ? [keyValue(r[pk])] : [];
}

/** The partition-key value a Query's key condition names (`PK = :pk`, any spelling of the placeholders). */
function queryLeadingKey(input: Input, pk: string): string[] {
  const condition = String(input.KeyConditionExpression ?? '');
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  for (const m of condition.matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    const attr = m[1]?.startsWith('#') ? names[m[1]] : m[1];
    if (attr === pk && m[2] !== undefined) return [keyValue(values[m[2]])];
  }
  return [];
}

/**
 * The IAM requests one SDK command amounts to. A transaction is authorized per contained operation (as IAM
 * does); a batch as one action over all its items' keys.
 */
export function tableRequests(commandName: string, input: Input, pk = 'PK'): TableRequest[] {
  const op = commandName.replace(/Command$/, '');
  switch (op) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [{ action: `dynamodb:${op}`, leadingKeys: pkOf(input.Key, pk) }];
    case 'PutItem':
      return [{ action: 'dynamodb:PutItem', leadingKeys: pkOf(input.Item, pk) }];
    case 'Query': {
      const index = typeof input.IndexName === 'string' ? input.IndexName : undefined;
      // An index query's condition names the index's own key, which grants do not narrow.
      return [
        {
          action: 'dynamodb:Query',
          ...(index ? { index, leadingKeys: [] } : { leadingKeys: queryLeadingKey(input, pk) }),
        },
      ];
    }
    case 'Scan':
      return [{ action: 'dynamodb:Scan', leadingKeys: [] }];
    case 'DescribeTable':
      return [{ action: 'dynamodb:DescribeTable', leadingKeys: [] }];
    case 'BatchGetItem': {
      const tables = (input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>;
      const keys = Object.values(tables).flatMap((t) => (t.Keys ?? []).flatMap((k) => pkOf(k, pk)));
      return [{ action: 'dynamodb:BatchGetItem', leadingKeys: keys }];
    }
    case 'BatchWriteItem': {
      const tables = (input.RequestItems ?? {}) as Record<string, Input[]>;
      const keys = Object.values(tables).flatMap((requests) =>
        requests.flatMap((r) =>
          pkOf((r.PutRequest as Input | undefined)?.Item ?? (r.DeleteRequest as Input | undefined)?.Key, pk),
        ),
      );
      return [{ action: 'dynamodb:BatchWriteItem', leadingKeys: keys }];
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = (input.TransactItems ?? []) as Input[];
      return items.flatMap((item): TableRequest[] => {
        const [kind, body] = Object.entries(item)[0] ?? [];
        const b = (body ?? {}) as Input;
        switch (kind) {
          case 'Put':
            return [{ action: 'dynamodb:PutItem', leadingKeys: pkOf(b.Item, pk) }];
          case 'Update':
            return [{ action: 'dynamodb:UpdateItem', leadingKeys: pkOf(b.Key, pk) }];
          case 'Delete':
            return [{ action: 'dynamodb:DeleteItem', leadingKeys: pkOf(b.Key, pk) }];
          case 'ConditionCheck':
            return [{ action: 'dynamodb:ConditionCheckItem', leadingKeys: pkOf(b.Key, pk) }];
          case 'Get':
            return [{ action: 'dynamodb:GetItem', leadingKeys: pkOf(b.Key, pk) }];
          default:
            return [];
        }
      });
    }
    default:
      throw new Error(`table access: unknown DynamoDB command ${commandName}`);
  }
}

/** IAM StringLike: `*` any run of characters, `?` exactly one, everything else literal. */
export function likePattern(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/**
 * Whether the grants allow a request, as IAM evaluates the statements the stack makes of them: some statement
 * names the action and every leading key matches one of its patterns. Index queries need `queryIndexes`.
 * A request without leading keys (Scan) never passes a narrowed grant: the stack grants no Scan.
 */
export function allows(access: TableAccess, request: TableRequest): boolean {
  if (request.index !== undefined) return access.queryIndexes === true && request.action === 'dynamodb:Query';
  if (request.leadingKeys.length === 0) return false;
  // The Deny (ForAnyValue): one append-only key in the request is enough.
  if (
    (APPEND_ONLY_DENIED as readonly string[]).includes(request.action) &&
    request.leadingKeys.some((k) => (access.appendOnly ?? []).some((p) => likePattern(p).test(k)))
  )
    return false;
  return access.grants.some(
    (g) =>
      (g.actions as readonly string[]).includes(request.action) &&
      request.leadingKeys.every((k) => g.keys.some((p) => likePattern(p).test(k))),
  );
}

/**
 * A put on an append-only key must not replace an entry. IAM cannot see a request's condition, so this is the
 * local runtime's own check that the code always asks for one (`attribute_not_exists`).
 */
export function replacesAppendOnly(access: TableAccess, commandName: string, input: Input): boolean {
  if (commandName !== 'PutItemCommand') return false;
  const [request] = tableRequests(commandName, input);
  const appendOnly = (request?.leadingKeys ?? []).some((k) =>
    (access.appendOnly ?? []).some((p) => likePattern(p).test(k)),
  );
  return appendOnly && !/attribute_not_exists/.test(String(input.ConditionExpression ?? ''));
}
