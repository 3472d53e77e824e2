import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, ioCounters, tableName } from './clients.ts';
import { isConditionFailed } from './store.ts';

/** A stored answer: what the first request with a key got. */
export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type IdempotencyRecord =
  | { status: 'in-progress'; fingerprint: string; claimedAt: number }
  | { status: 'done'; fingerprint: string; response: StoredResponse };

const key = (k: string) => ({ PK: `IDEMP#${k}`, SK: 'IDEMP' });

/**
 * Claims an idempotency key with a conditional put. The claim succeeds if the key is new, if its record has
 * expired, or if a request holding it in progress has not finished within the lease (it crashed). Otherwise
 * the existing record is returned.
 */
export async function claimIdempotencyKey(
  k: string,
  fingerprint: string,
  nowMs: number,
  options: { leaseMs: number; ttlSeconds: number },
): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }> {
  try {
    await documentClient().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...key(k),
          status: 'in-progress',
          fingerprint,
          claimedAt: nowMs,
          // Epoch seconds: usable as the table's TTL attribute.
          expiresAt: Math.floor(nowMs / 1000) + options.ttlSeconds,
        },
        ConditionExpression:
          'attribute_not_exists(PK) OR expiresAt < :nowS OR (#st = :inProgress AND claimedAt < :stale)',
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: {
          ':nowS': Math.floor(nowMs / 1000),
          ':inProgress': 'in-progress',
          ':stale': nowMs - options.leaseMs,
        },
      }),
    );
    ioCounters.writes += 1;
    return { claimed: true };
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
  }
  const out = await documentClient().send(
    new GetCommand({ TableName: tableName(), Key: key(k), ConsistentRead: true }),
  );
  ioCounters.reads += 1;
  const item = out.Item;
  if (!item) return claimIdempotencyKey(k, fingerprint, nowMs, options);
  if (item.status === 'done') {
    return {
      claimed: false,
      existing: {
        status: 'done',
        fingerprint: String(item.fingerprint),
        response: item.response as StoredResponse,
      },
    };
  }
  return {
    claimed: false,
    existing: {
      status: 'in-progress',
      fingerprint: String(item.fingerprint),
      claimedAt: Number(item.claimedAt),
    },
  };
}

/** Stores the answer of the request that holds the claim. */
export async function completeIdempotencyKey(
  k: string,
  fingerprint: string,
  response: StoredResponse,
): Promise<void> {
  await documentClient().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: key(k),
      UpdateExpression: 'SET #st = :done, #resp = :r',
      ConditionExpression: 'fingerprint = :fp',
      ExpressionAttributeNames: { '#st': 'status', '#resp': 'response' },
      ExpressionAttributeValues: { ':done': 'done', ':r': response, ':fp': fingerprint },
    }),
  );
  ioCounters.writes += 1;
}

/** Frees a claim whose request failed (it wrote nothing), so the same key can be retried. */
export async function releaseIdempotencyKey(k: string, fingerprint: string): Promise<void> {
  try {
    await documentClient().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: key(k),
        ConditionExpression: 'fingerprint = :fp AND #st = :inProgress',
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: { ':fp': fingerprint, ':inProgress': 'in-progress' },
      }),
    );
    ioCounters.writes += 1;
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
  }
}
