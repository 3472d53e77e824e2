import { DynamoDBClient, type ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { tracer } from './tracing.ts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { S3Client } from '@aws-sdk/client-s3';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';

/**
 * SDK clients, created once per process and reused across invocations. Created lazily so the local runtime
 * can point them at its emulators (AWS_ENDPOINT_URL_* variables) before first use.
 */
let ddb: DynamoDBDocumentClient | undefined;
let ses: SESv2Client | undefined;
let sfn: SFNClient | undefined;
let ssm: SSMClient | undefined;
let s3: S3Client | undefined;
let sms: PinpointSMSVoiceV2Client | undefined;

const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand']);

/**
 * Asks DynamoDB for the capacity each request consumed, per index (free on AWS; the local runtime's dynalite
 * computes it the same way, by item size, with index writes added by local/dynalite-capacity.ts) and adds it
 * to ioCounters: what the simulator reports and the benchmark prices.
 */
function countCapacity(client: DynamoDBClient): DynamoDBClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'INDEXES';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] })
        .ConsumedCapacity;
      const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
      const units = list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      if (READ_COMMANDS.has(context.commandName ?? '')) ioCounters.readUnits += units;
      else {
        ioCounters.writeUnits += units;
        for (const c of list)
          for (const index of Object.values(c.GlobalSecondaryIndexes ?? {}))
            ioCounters.indexWriteUnits += index.CapacityUnits ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'safedutyCountCapacity' },
  );
  return client;
}

/**
 * A check every DynamoDB request passes before it is sent, given the SDK command's name and its input. Unset on
 * AWS, where IAM does this; the local runtime sets it to enforce each function's grants (functions/table-access.ts).
 */
export type TableGuard = (commandName: string, input: Record<string, unknown>) => void;
let tableGuard: TableGuard | undefined;

export function setTableGuard(guard: TableGuard | undefined): void {
  tableGuard = guard;
}

function guarded(client: DynamoDBClient): DynamoDBClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      tableGuard?.(context.commandName ?? '', args.input as Record<string, unknown>);
      return next(args);
    },
    { step: 'initialize', name: 'safedutyTableGuard' },
  );
  return client;
}

/** Every SDK call a subsegment of the invocation's trace (inside Lambda only). */
const traced = <C>(client: C): C => tracer.captureAWSv3Client(client);

export function documentClient(): DynamoDBDocumentClient {
  ddb ??= DynamoDBDocumentClient.from(
    guarded(countCapacity(traced(new DynamoDBClient({ maxAttempts: 5 })))),
    {
      marshallOptions: { removeUndefinedValues: true },
    },
  );
  return ddb;
}

export function sesClient(): SESv2Client {
  // Throttling is retried by our own sendWithRetry so the retry budget is visible and testable.
  ses ??= traced(new SESv2Client({ maxAttempts: 1 }));
  return ses;
}

/**
 * AWS End User Messaging SMS. Its endpoint variable is AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 (from the SDK's
 * service id "Pinpoint SMS Voice V2"), which the local runtime points at its SMS gateway.
 */
export function smsClient(): PinpointSMSVoiceV2Client {
  // One attempt, as for SES: the delivery run classifies the error and decides when to try again.
  sms ??= traced(new PinpointSMSVoiceV2Client({ maxAttempts: 1 }));
  return sms;
}

export function sfnClient(): SFNClient {
  sfn ??= traced(new SFNClient({ maxAttempts: 5 }));
  return sfn;
}

export function ssmClient(): SSMClient {
  ssm ??= traced(new SSMClient({}));
  return ssm;
}

export function s3Client(): S3Client {
  // The local S3 (s3rver) answers on one host, so buckets go in the path there; AWS uses its virtual hosts.
  s3 ??= traced(
    new S3Client({
      forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true',
      // A presigned PUT must not carry the checksum of an empty body (the SDK's default): the browser sends the file.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  );
  return s3;
}

/** Forget the clients, e.g. after the local runtime changed endpoints. */
export function resetClients(): void {
  ddb = undefined;
  ses = undefined;
  sfn = undefined;
  ssm = undefined;
  s3 = undefined;
  sms = undefined;
}

export function tableName(): string {
  const name = process.env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set');
  return name;
}

/** DynamoDB items read and written, and the capacity units consumed, for the simulator and the benchmark. */
export const ioCounters = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0, indexWriteUnits: 0 };
