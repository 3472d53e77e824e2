import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { sesClient } from './clients.ts';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Errors SES answers when we send too fast or it is briefly unwell: worth another try after a pause. */
const TRANSIENT = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'ServiceUnavailable',
  'InternalFailure',
  'RequestTimeout',
  'TimeoutError',
]);

export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  if (e?.name && TRANSIENT.has(e.name)) return true;
  if (e?.code === 'ECONNRESET' || e?.code === 'ECONNREFUSED') return true;
  const status = e?.$metadata?.httpStatusCode;
  return status === 429 || (status !== undefined && status >= 500);
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter on transient errors; anything else fails at once. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  const base = options.baseDelayMs ?? 200;
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) throw err;
      await sleep(Math.random() * base * 2 ** (attempt - 1));
    }
  }
}

let retryOptions: RetryOptions = {};
/** Tests shorten the backoff. */
export function setMailRetryOptions(options: RetryOptions): void {
  retryOptions = options;
}

export async function sendEmail(email: OutgoingEmail): Promise<string> {
  const from = process.env.SENDER_ADDRESS;
  if (!from) throw new Error('SENDER_ADDRESS is not set');
  const configurationSet = process.env.SES_CONFIGURATION_SET;
  const out = await withRetry(
    () =>
      sesClient().send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [email.to] },
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: email.text, Charset: 'UTF-8' },
                Html: { Data: email.html, Charset: 'UTF-8' },
              },
            },
          },
          ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
        }),
      ),
    retryOptions,
  );
  return out.MessageId ?? 'unknown';
}
