// What a person is owed: a notice. Producers (duty cycles, cases, the delivery run itself) record notices in the
// outbox; delivery turns every notice owed to one address at one moment into one email. Nothing here sends.
import { z } from 'zod';
import { URGENCIES } from '../../workflows/delivery/policy.ts';

const unitRowSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    contactName: z.string().optional(),
    contactPhone: z.string().optional(),
  })
  .strict();
export type NoticeUnit = z.infer<typeof unitRowSchema>;

/** A reminder to a unit's contact: the units of this cycle this address speaks for (usually one). */
const cycleReminderSchema = z
  .object({
    type: z.literal('cycle-reminder'),
    dutyId: z.string(),
    periodKey: z.string(),
    titleZh: z.string(),
    deadline: z.string(),
    /** This is reminder n of the cycle's `of` reminders; the last one says so. */
    reminder: z.object({ n: z.number().int().min(1), of: z.number().int().min(1) }).strict(),
    units: z.array(unitRowSchema).min(1),
    /** Until when the unit link in the email is valid. */
    linkExpires: z.string(),
  })
  .strict();

/**
 * An escalation. `own`: to the defaulting unit's own contact or principal ("您单位…尚未完成"); `supervisor`: to
 * someone who supervises the listed units (a department, the county leader in charge, 安委办), never to a person
 * who is themselves late. `scope` is what the signed overdue link shows.
 */
const cycleEscalationSchema = z
  .object({
    type: z.literal('cycle-escalation'),
    dutyId: z.string(),
    periodKey: z.string(),
    titleZh: z.string(),
    deadline: z.string(),
    level: z.number().int().min(1),
    /** The highest level of the duty's ladder. */
    levels: z.number().int().min(1),
    audience: z.enum(['own', 'supervisor']),
    /** The roles the reader is addressed in, in Chinese. */
    rolesZh: z.array(z.string()).min(1),
    scope: z.object({ kind: z.enum(['unit', 'department', 'leader', 'office']), id: z.string() }).strict(),
    units: z.array(unitRowSchema).min(1),
    /** A checkpoint before the deadline (not an escalation): what is checked. `level` is then its number. */
    checkpoint: z.object({ titleZh: z.string() }).strict().optional(),
  })
  .strict();

/**
 * To a unit's contact: an administrator changed a running ad-hoc duty — the deadline extended, the duty cancelled,
 * the unit added to it or removed from it. Each change is told once.
 */
const cycleChangeSchema = z
  .object({
    type: z.literal('cycle-change'),
    dutyId: z.string(),
    periodKey: z.string(),
    titleZh: z.string(),
    change: z.enum(['extended', 'cancelled', 'units-added', 'units-removed']),
    /** The change's number on its duty (`adhoc.changes[].seq`). */
    seq: z.number().int().min(1),
    deadline: z.string(),
    previousDeadline: z.string().optional(),
    reasonZh: z.string().optional(),
    units: z.array(unitRowSchema).min(1),
    /** Until when the unit link is valid (a change that leaves the unit something to do carries one). */
    linkExpires: z.string().optional(),
  })
  .strict();

/** A case email's part: composed by the case side (it knows its stages and wording), sent by delivery. */
const caseNoticeSchema = z
  .object({
    type: z.literal('case'),
    caseId: z.string(),
    kind: z.enum(['notice', 'reminder', 'escalation']),
    /** The subject this part would have as an email of its own (an email with one part uses it). */
    subjectLine: z.string(),
    rolesZh: z.array(z.string()).min(1),
    paragraphs: z.array(z.string()).min(1),
    /** A signed case link for the party the reader speaks for. */
    link: z.object({ unitId: z.string(), expires: z.string() }).strict().optional(),
    /** The text-message wording (without the link), where the case also sends by SMS. */
    sms: z.string().optional(),
    /** Reminders and escalations are dropped when the case has moved on before delivery. */
    check: z
      .object({ stage: z.string(), visit: z.number().int(), requestSeq: z.number().int().optional() })
      .strict()
      .optional(),
  })
  .strict();

/** To 安委办: an address that cannot be delivered to (rejected, invalid, suppressed). */
const deliveryProblemSchema = z
  .object({
    type: z.literal('delivery-problem'),
    address: z.string(),
    name: z.string(),
    /** Whom the address belongs to, as far as the undelivered notices say (unit names, roles). */
    about: z.array(z.string()),
    reasonZh: z.string(),
    occurredAt: z.string(),
  })
  .strict();

/**
 * To 安委办: a year's official holiday arrangement is not loaded. From November the coming year's; once that year
 * has begun, with the cycles held back because their deadlines cannot be placed on a guess.
 */
const calendarMissingSchema = z
  .object({
    type: z.literal('calendar-missing'),
    year: z.number().int(),
    /** The cycles not started for want of the year's data (duty titles with periods), at most 20 listed. */
    held: z.array(z.string()).max(20),
    heldCount: z.number().int().min(0),
  })
  .strict();

/** One row of a roll-up: a town or a department, and its units' day. */
const rollupRowSchema = z
  .object({
    nameZh: z.string(),
    owed: z.number().int().min(0),
    reported: z.number().int().min(0),
    late: z.number().int().min(0),
    missing: z.number().int().min(0),
    /** The sum of the duty's sum field over the reports (hidden dangers found). */
    sum: z.number().min(0).optional(),
  })
  .strict();
export type RollupRow = z.infer<typeof rollupRowSchema>;

/** To 安委办: a daily duty's day summed up, per town and per supervising department. */
const cycleRollupSchema = z
  .object({
    type: z.literal('cycle-rollup'),
    dutyId: z.string(),
    periodKey: z.string(),
    titleZh: z.string(),
    deadline: z.string(),
    sumLabelZh: z.string().optional(),
    total: rollupRowSchema,
    byTown: z.array(rollupRowSchema).max(500),
    byDepartment: z.array(rollupRowSchema).max(500),
    /** Units not reported, first of them by name (the overdue list has them all). */
    missingUnits: z.array(z.string()).max(20),
  })
  .strict();
export type CycleRollupBody = z.infer<typeof cycleRollupSchema>;

export const noticeBodySchema = z.discriminatedUnion('type', [
  cycleReminderSchema,
  cycleEscalationSchema,
  cycleChangeSchema,
  caseNoticeSchema,
  deliveryProblemSchema,
  calendarMissingSchema,
  cycleRollupSchema,
]);
export type NoticeBody = z.infer<typeof noticeBodySchema>;
export type CycleReminderBody = z.infer<typeof cycleReminderSchema>;
export type CycleEscalationBody = z.infer<typeof cycleEscalationSchema>;
export type CycleChangeBody = z.infer<typeof cycleChangeSchema>;
export type CaseNoticeBody = z.infer<typeof caseNoticeSchema>;
export type DeliveryProblemBody = z.infer<typeof deliveryProblemSchema>;
export type CalendarMissingBody = z.infer<typeof calendarMissingSchema>;

export const noticeSchema = z
  .object({
    recipient: z.object({ address: z.string(), name: z.string() }).strict(),
    /** The delivery moment (ISO instant, +08:00). */
    at: z.string(),
    urgency: z.enum(URGENCIES),
    /** What it is about: `CYCLE#<duty>#<period>`, `CASE#<id>`, `DELIVERY`, `CALENDAR#<year>`. */
    subject: z.string(),
    /** The stage or step of the subject: with subject, recipient and part it makes the notice's identity. */
    stage: z.string(),
    /** Page of a notice too long for one item (an escalation listing many units). */
    part: z.number().int().min(0),
    body: noticeBodySchema,
    recordedAt: z.string(),
    /**
     * Set when delivery readdressed the notice because its first reader's address cannot be delivered to (the
     * unit's next position took it over); the email says so.
     */
    redirectedFrom: z
      .object({ address: z.string(), name: z.string(), roleZh: z.string().optional(), reasonZh: z.string() })
      .strict()
      .optional(),
  })
  .strict();
export type Notice = z.infer<typeof noticeSchema>;

/** Units per notice item: a long list is split into parts so no item grows with the roster. */
export const UNITS_PER_PART = 50;

/** The notice's identity within its recipient's outbox: a re-run of the same stage writes the same keys. */
export function noticeId(n: Pick<Notice, 'at' | 'subject' | 'stage' | 'part'>): string {
  return `${n.at}#${n.subject}#${n.stage}#${n.part}`;
}

/** Addresses are compared and keyed in lower case; the original spelling is kept for sending. */
export function addressKey(address: string): string {
  return address.trim().toLowerCase();
}

/** Splits a list into parts of at most `size`. */
export function partsOf<T>(items: readonly T[], size = UNITS_PER_PART): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out.length > 0 ? out : [[]];
}
