import { claimNotification, settleNotification } from '../adapters/store.ts';
import { sendEmail, type OutgoingEmail } from '../adapters/mailer.ts';
import { clock } from './clock.ts';

export type NotifyOutcome = 'sent' | 'already-sent' | 'in-flight';

/** Email counters for the simulator and the benchmark. */
export const emailCounters = { reminder: 0, escalation: 0, other: 0 };
/** Emails per ledger subject prefix (e.g. `CYCLE#risk-prejudgment-weekly`), for the simulator's breakdown. */
export const emailsBySubject = new Map<string, number>();

/**
 * Sends one message at most once per (subject, stage, recipient): the ledger claim is written with a
 * conditional put before SES is called, and settled after. A failed send releases the claim for a retry.
 */
export async function notifyOnce(
  ledger: {
    subject: string;
    stageId: string;
    /** Defaults to the address; reminders use unit/address so two units sharing a contact both hear. */
    recipientKey?: string;
    kind: 'reminder' | 'escalation' | 'other';
    meta?: Record<string, unknown>;
  },
  email: OutgoingEmail,
): Promise<NotifyOutcome> {
  const nowIso = clock.now().toISOString();
  const recipient = ledger.recipientKey ?? email.to;
  const claim = await claimNotification(
    ledger.subject,
    ledger.stageId,
    recipient,
    { kind: ledger.kind, subjectLine: email.subject, ...ledger.meta },
    nowIso,
  );
  if (claim !== 'claimed') return claim;
  let messageId: string;
  try {
    messageId = await sendEmail(email);
  } catch (err) {
    await settleNotification(ledger.subject, ledger.stageId, recipient, {
      status: 'failed',
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      at: clock.now().toISOString(),
    });
    throw err;
  }
  emailCounters[ledger.kind]++;
  const prefix = ledger.subject.split('#').slice(0, 2).join('#');
  emailsBySubject.set(prefix, (emailsBySubject.get(prefix) ?? 0) + 1);
  await settleNotification(ledger.subject, ledger.stageId, recipient, {
    status: 'sent',
    messageId,
    at: clock.now().toISOString(),
  });
  return 'sent';
}
