import { GetAccountCommand, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { OutgoingEmail } from '../delivery/model.ts';
import { RECORD_TAG } from '../delivery/refusals.ts';
import { oneLine } from '../core/text.ts';
import { sesClient } from './clients.ts';

export type { OutgoingEmail };

/**
 * One SendEmail call, one attempt: the delivery run decides what an error means (throttled, down, refused)
 * and when to try again, so retries are visible and paced instead of hidden in the SDK.
 */
export async function sendEmail(email: OutgoingEmail): Promise<string> {
  const from = process.env.SENDER_ADDRESS;
  if (!from) throw new Error('SENDER_ADDRESS is not set');
  const configurationSet = process.env.SES_CONFIGURATION_SET;
  const out = await sesClient().send(
    new SendEmailCommand({
      FromEmailAddress: from,
      Destination: { ToAddresses: [email.to] },
      Content: {
        Simple: {
          // Whatever composed it, a subject never carries a line break into the message's headers.
          Subject: { Data: oneLine(email.subject), Charset: 'UTF-8' },
          Body: {
            Text: { Data: email.text, Charset: 'UTF-8' },
            Html: { Data: email.html, Charset: 'UTF-8' },
          },
        },
      },
      ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
      ...(email.ref
        ? { EmailTags: [{ Name: RECORD_TAG, Value: Buffer.from(email.ref).toString('base64url') }] }
        : {}),
    }),
  );
  return out.MessageId ?? 'unknown';
}

/** How long the account's send rate is trusted before GetAccount is asked again (a quota raise takes effect). */
const RATE_TTL_MS = 10 * 60_000;
/** When GetAccount cannot answer: SES's sandbox rate, the lowest an account has. */
const FALLBACK_RATE = 1;
let rate: { value: number; until: number } | undefined;

/** Emails per second the account allows: SES GetAccount's MaxSendRate, cached per container. */
export async function maxSendRate(nowMs = Date.now()): Promise<number> {
  if (rate && rate.until > nowMs) return rate.value;
  let value = FALLBACK_RATE;
  try {
    const out = await sesClient().send(new GetAccountCommand({}));
    value = out.SendQuota?.MaxSendRate ?? FALLBACK_RATE;
  } catch {
    // Not fatal: deliver slowly rather than not at all (the alarm on throttles says if it matters).
  }
  rate = { value: Math.max(0.1, value), until: nowMs + RATE_TTL_MS };
  return rate.value;
}

/** Tests and the local runtime start from a clean cache. */
export function resetSendRateCache(): void {
  rate = undefined;
}
