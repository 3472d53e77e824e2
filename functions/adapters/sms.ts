import { SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { OutgoingSms } from '../delivery/ports.ts';
import { smsClient } from './clients.ts';

export type { OutgoingSms };

/** The key under which a message carries its delivery record (SendTextMessage `Context`, echoed in its events). */
export const SMS_RECORD_CONTEXT_KEY = 'record';

/**
 * Whether this deployment sends text messages: an origination identity is configured (the CDK context value
 * `safeduty:smsOriginationIdentity`, or the local runtime's gateway). Mainland China numbers can only be reached
 * through a registered sender, so without one no SMS is attempted and email carries everything.
 */
export function smsEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.SMS_ORIGINATION_IDENTITY?.trim());
}

/**
 * One SendTextMessage call, one attempt: as for email, the delivery run classifies an error (refused, opted out,
 * throttled, account, transient) and decides when to try again, so no retry hides in the SDK.
 */
export async function sendSms(message: OutgoingSms): Promise<string> {
  const origination = process.env.SMS_ORIGINATION_IDENTITY?.trim();
  const configurationSet = process.env.SMS_CONFIGURATION_SET?.trim();
  const out = await smsClient().send(
    new SendTextMessageCommand({
      DestinationPhoneNumber: message.to,
      MessageBody: message.text,
      // Reminders and escalations are transactional; promotional traffic is filtered harder by carriers.
      MessageType: 'TRANSACTIONAL',
      // Without an identity AWS picks one from the account (or the configuration set's pool).
      ...(origination ? { OriginationIdentity: origination } : {}),
      ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
      ...(message.ref ? { Context: { [SMS_RECORD_CONTEXT_KEY]: message.ref } } : {}),
    }),
  );
  return out.MessageId ?? 'unknown';
}
