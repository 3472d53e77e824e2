import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * SDK clients, created once per process and reused across invocations. Created lazily so the local runtime
 * can point them at its emulators (AWS_ENDPOINT_URL_* variables) before first use.
 */
let ddb: DynamoDBDocumentClient | undefined;
let ses: SESv2Client | undefined;
let sfn: SFNClient | undefined;
let ssm: SSMClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  ddb ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return ddb;
}

export function sesClient(): SESv2Client {
  // Throttling is retried by our own sendWithRetry so the retry budget is visible and testable.
  ses ??= new SESv2Client({ maxAttempts: 1 });
  return ses;
}

export function sfnClient(): SFNClient {
  sfn ??= new SFNClient({ maxAttempts: 5 });
  return sfn;
}

export function ssmClient(): SSMClient {
  ssm ??= new SSMClient({});
  return ssm;
}

/** Forget the clients, e.g. after the local runtime changed endpoints. */
export function resetClients(): void {
  ddb = undefined;
  ses = undefined;
  sfn = undefined;
  ssm = undefined;
}

export function tableName(): string {
  const name = process.env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set');
  return name;
}

/** DynamoDB item reads and writes, counted for the simulator and the benchmark. */
export const ioCounters = { reads: 0, writes: 0 };
