// Addresses the mail service will not deliver to: refused when sent (MessageRejected, the sandbox) or reported
// afterwards (a bounce, a complaint, an address on the account's suppression list). Either way the address is
// marked undeliverable and 安委办 hears of it in its next routine email. Pure.
import { z } from 'zod';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import type { DeliverySchedule } from '../../workflows/delivery/policy.ts';
import { addressKey, type Notice } from '../notices/model.ts';

/** Whom an address speaks for, as far as the notices it was sent say: unit contacts, positions. */
export function aboutOf(notices: readonly Notice[]): string[] {
  const about = new Set<string>();
  for (const n of notices) {
    const b = n.body;
    if (b.type === 'cycle-reminder' || (b.type === 'cycle-escalation' && b.audience === 'own'))
      for (const u of b.units) about.add(`${u.name}${b.type === 'cycle-reminder' ? '联络人' : ''}`);
    else if (b.type === 'cycle-escalation' || b.type === 'case') for (const r of b.rolesZh) about.add(r);
  }
  return [...about].slice(0, 10);
}

/** The notice telling 安委办 that an address cannot be delivered to: in its next routine email. */
export function refusalReport(
  office: { email: string; name: string },
  refused: { address: string; name: string; about: readonly string[] },
  reasonZh: string,
  schedule: DeliverySchedule,
  nowMs: number,
): Notice {
  const now = toShanghaiIso(new Date(nowMs));
  return {
    recipient: { address: office.email, name: office.name },
    at: toShanghaiIso(new Date(schedule.earliestRoutineAtOrAfter(nowMs + 1))),
    urgency: 'routine',
    subject: 'DELIVERY',
    // One report per address: a bounce reported twice, or refused again after a crash, is the same notice.
    stage: `undeliverable.${addressKey(refused.address)}`,
    part: 0,
    body: {
      type: 'delivery-problem',
      address: refused.address,
      name: refused.name,
      about: [...refused.about].slice(0, 10),
      reasonZh,
      occurredAt: now,
    },
    recordedAt: now,
  };
}

/**
 * An SES event as EventBridge delivers it from the configuration set (detail-type `Email Bounced` or `Email
 * Complaint Received`). Only the fields we read; SES adds more.
 */
export const sesMailEventSchema = z.object({
  source: z.literal('aws.ses'),
  'detail-type': z.string(),
  detail: z.object({
    eventType: z.string(),
    mail: z.object({
      messageId: z.string(),
      destination: z.array(z.string()),
      tags: z.record(z.string(), z.array(z.string())).optional(),
    }),
    bounce: z
      .object({
        bounceType: z.string(),
        bounceSubType: z.string().optional(),
        bouncedRecipients: z.array(
          z.object({ emailAddress: z.string(), diagnosticCode: z.string().optional() }),
        ),
      })
      .optional(),
    complaint: z.object({ complainedRecipients: z.array(z.object({ emailAddress: z.string() })) }).optional(),
  }),
});
export type SesMailEvent = z.infer<typeof sesMailEventSchema>;

/** The tag the mailer puts on every email: the key of its delivery record, base64url (SES tag values allow no `#`). */
export const RECORD_TAG = 'record';

export interface Refusal {
  address: string;
  /** The delivery record of the email, when the event names it. */
  recordKey?: string;
  error: string;
  reasonZh: string;
}

/**
 * What an SES event says about addresses: a permanent bounce (the address does not exist, or is on the account's
 * suppression list) or a complaint makes the address undeliverable. A transient bounce (a full mailbox) does not:
 * SES keeps trying it itself.
 */
export function refusalsOf(event: SesMailEvent): Refusal[] {
  const d = event.detail;
  const tagged = d.mail.tags?.[RECORD_TAG]?.[0];
  const recordKey = tagged ? Buffer.from(tagged, 'base64url').toString('utf8') : undefined;
  const withKey = recordKey ? { recordKey } : {};
  if (d.eventType === 'Bounce' && d.bounce?.bounceType === 'Permanent') {
    const suppressed = d.bounce.bounceSubType === 'OnAccountSuppressionList';
    return d.bounce.bouncedRecipients.map((r) => ({
      address: r.emailAddress,
      ...withKey,
      error: `Bounce ${d.bounce?.bounceSubType ?? 'Permanent'}: ${r.diagnosticCode ?? ''}`.trim(),
      reasonZh: suppressed
        ? '该地址在邮件服务的禁止发送名单中（曾退信或投诉）'
        : '邮件被对方邮件服务器退回：地址不存在或拒收',
    }));
  }
  if (d.eventType === 'Complaint' && d.complaint)
    return d.complaint.complainedRecipients.map((r) => ({
      address: r.emailAddress,
      ...withKey,
      error: 'Complaint: the recipient marked the email as spam',
      reasonZh: '收件人将提醒邮件标记为垃圾邮件，此后不再向其发送',
    }));
  return [];
}
