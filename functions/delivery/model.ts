// What delivery produces: emails, and a record of every one of them.
import { z } from 'zod';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The key of the email's delivery record: a bounce reported later finds the record by it. */
  ref?: string;
}

/** One notice an email carried, as the delivery record lists it. */
export const carriedNoticeSchema = z
  .object({
    /** The notice's identity in its recipient's outbox (see noticeId). */
    id: z.string(),
    subject: z.string(),
    kind: z.enum([
      'reminder',
      'escalation',
      'change',
      'case',
      'delivery-problem',
      'calendar-missing',
      'rollup',
    ]),
    titleZh: z.string(),
  })
  .strict();
export type CarriedNotice = z.infer<typeof carriedNoticeSchema>;

export interface ComposedEmail extends OutgoingEmail {
  carried: CarriedNotice[];
}

/** sent: the mail service accepted it; failed: it refused it for good; suppressed: not sent, the address is known bad. */
export const DELIVERY_STATUSES = ['sent', 'failed', 'suppressed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const deliveryRecordSchema = z
  .object({
    address: z.string(),
    name: z.string(),
    /** The delivery moment of the run that sent it, the run (its execution) and the pass within the run. */
    moment: z.string(),
    run: z.string(),
    pass: z.number().int().min(1),
    /** The invocation of the run that sent it (records written before it was kept have none). */
    invocation: z.string().optional(),
    /** When it was handed to the mail service (virtual time locally). */
    sentAt: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    messageId: z.string().optional(),
    /** Why it failed or was not sent: for operators (English), and for 安委办 (Chinese). */
    error: z.string().optional(),
    reasonZh: z.string().optional(),
    subjectLine: z.string(),
    carried: z.array(carriedNoticeSchema),
    /** Subjects (cycles, cases) the notices were about, for searching. */
    subjects: z.array(z.string()),
  })
  .strict();
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;

/**
 * The record's key within its recipient's history, sorted by moment: the run (one execution, named after its
 * moment), the pass, and the invocation that sent it — a pass started again after an outage or a crash can send
 * the same address a second email, which gets a record of its own.
 */
export function recordKey(moment: string, run: string, pass: number, invocation?: string): string {
  const base = `${moment}#${run}#${String(pass).padStart(3, '0')}`;
  return invocation === undefined ? base : `${base}#${invocation}`;
}

/**
 * `delivery-20230206T0900`, or `delivery-20230206T091307` for a moment off the minute (a late producer's), plus a
 * suffix for a late run or a continuation.
 */
export function deliveryExecutionName(moment: string, suffix = ''): string {
  const seconds = moment.slice(17, 19);
  return `delivery-${moment.slice(0, 16).replace(/[-:]/g, '')}${seconds !== '00' ? seconds : ''}${suffix}`;
}
