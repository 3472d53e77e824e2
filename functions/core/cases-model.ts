import { z } from 'zod';
import { emailSchema, idSchema } from './model.ts';
import { freeText, lineText } from './text.ts';

/**
 * A case record: the truth about one case. Every write is conditional on `version` (optimistic concurrency, no
 * transactions), so an event and the workflow never overwrite each other; the loser re-reads and recomputes.
 */
/** Who did something in a case: a name, and an address where known. */
export const casePersonSchema = z
  .object({
    name: lineText(100),
    email: emailSchema.optional(),
  })
  .strict();
export type CasePerson = z.infer<typeof casePersonSchema>;

export const caseStatusSchema = z.enum(['open', 'closed']);
export type CaseStatus = z.infer<typeof caseStatusSchema>;

export const historyEntrySchema = z.object({
  seq: z.number().int().min(0),
  event: z.string(),
  at: z.string(),
  /** How it was recorded: `admin:<name>` or `unit-link:<unitId>`. */
  actor: z.string(),
  /** Which side acted: admin, responsible or supervising. */
  role: z.string(),
  person: casePersonSchema.optional(),
  fromStage: z.string(),
  toStage: z.string(),
  /** The term after the event, when it changed. */
  term: z.string().optional(),
  /** The date asked for, when it was a rest day and the term moved to the next working day. */
  termMovedFrom: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export const caseRecordSchema = z.object({
  caseId: z.string(),
  typeId: z.string(),
  title: z.string(),
  /** open until the workflow has sent the last notice of the terminal stage; then closed. */
  status: caseStatusSchema,
  stage: z.string(),
  visit: z.number().int().min(1),
  stageEnteredAt: z.string(),
  responsibleUnitId: z.string(),
  supervisingUnitId: z.string(),
  /** The town for the reconciliation view (对账销号), or `-` when the unit belongs to none. */
  townId: z.string(),
  fields: z.record(z.string(), z.string()).default({}),
  openedAt: z.string(),
  openedBy: z.string(),
  term: z.string(),
  originalTerm: z.string(),
  /** The date asked for the current term, when it was a rest day (the term is the next working day). */
  termMovedFrom: z.string().optional(),
  termSetAt: z.string(),
  /** When the terminal stage was entered (摘牌销号). */
  closedAt: z.string().optional(),
  /** The end instant it was opened with (a warning's validity): still open then, it moves to the type's `endsIn`. */
  endsAt: z.string().optional(),
  version: z.number().int().min(1),
  /** Execution generation: the execution `<caseId>_g<N>` drives the case; an older one ends quietly. */
  generation: z.number().int().min(1),
  /** When the driving execution will next wake (absent: no execution waits; the next event starts one). */
  plannedWakeAt: z.string().optional(),
  /** Step keys done in the current visit (sent, or collapsed into a later step). */
  stepsDone: z.array(z.string()).default([]),
  outbox: z.array(z.object({ seq: z.number().int(), eventId: z.string(), at: z.string() })).default([]),
  request: z
    .object({
      id: z.string(),
      seq: z.number().int(),
      openedAt: z.string(),
      newDeadline: z.string().optional(),
      newDeadlineMovedFrom: z.string().optional(),
    })
    .optional(),
  progressReports: z.array(z.string()).default([]),
  /** The person named by the latest event of each id (the acceptor must differ from the reporter). */
  persons: z.record(z.string(), casePersonSchema).default({}),
  /** The signed-in account (Cognito `sub`) that recorded the latest event of each id, where there was one. */
  accounts: z.record(z.string(), z.string()).default({}),
  history: z.array(historyEntrySchema).default([]),
  lastError: z.object({ at: z.string(), message: z.string() }).optional(),
});
export type CaseRecord = z.infer<typeof caseRecordSchema>;

/** One event's full body, kept beside the record (the record keeps the compact history entry). */
export const caseEventItemSchema = z.object({
  caseId: z.string(),
  seq: z.number().int(),
  event: z.string(),
  at: z.string(),
  actor: z.string(),
  person: casePersonSchema.optional(),
  note: z.string().optional(),
  fields: z.record(z.string(), z.string()).default({}),
  newDeadline: z.string().optional(),
});
export type CaseEventItem = z.infer<typeof caseEventItemSchema>;

const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '应为日期，格式如 2023-06-30');

/** `reconciliation` is a route, never a case id. */
export const caseIdSchema = idSchema.refine((s) => s !== 'reconciliation', 'is reserved');

const textFields = z
  .record(z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, '不是有效的字段名'), freeText(5000))
  .refine((r) => Object.keys(r).length <= 20, '最多20个字段');

export const openCaseBodySchema = z
  .object({
    type: z.string().min(1).max(40),
    /** Optional: a case id chosen by the caller (else `<prefix>-<yyyymmdd>-<random>`). */
    caseId: caseIdSchema.optional(),
    title: lineText(200),
    responsibleUnitId: idSchema,
    supervisingUnitId: idSchema,
    /** The town for the reconciliation view; defaults to the responsible unit's town. */
    townId: idSchema.optional(),
    term: z.union([
      z.object({ until: dateSchema }).strict(),
      z.object({ days: z.number().int().min(1).max(3650) }).strict(),
      z.object({ minutes: z.number().int().min(1).max(1440) }).strict(),
    ]),
    /** For a type that ends by itself (a warning's validity): when, as an instant with its offset. */
    endsAt: z.iso
      .datetime({ offset: true, error: '应为带时区的时间，如 2023-07-05T20:00:00+08:00' })
      .optional(),
    fields: textFields.default({}),
    note: freeText(5000).optional(),
  })
  .strict()
  .meta({
    id: 'OpenCaseRequest',
    example: {
      type: 'major-hazard-rectification',
      title: '液氨储罐区安全阀失效',
      responsibleUnitId: 'ent-0001',
      supervisingUnitId: 'dept-emergency',
      term: { until: '2023-06-30' },
      fields: { hazard: '液氨储罐区2号储罐安全阀校验过期且起跳压力异常', grade: '重大事故隐患' },
    },
  });
export type OpenCaseBody = z.infer<typeof openCaseBodySchema>;

export const caseEventBodySchema = z
  .object({
    event: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, '不是有效的事件编号'),
    person: casePersonSchema.optional(),
    note: freeText(5000).optional(),
    fields: textFields.default({}),
    /** A new rectification term (a date), where the event takes one. */
    newDeadline: dateSchema.optional(),
  })
  .strict()
  .meta({
    id: 'CaseEventRequest',
    example: {
      event: 'plan-submitted',
      fields: {
        responsibility: '总经理张伟负责，安全科李娜具体落实',
        measures: '更换2号储罐安全阀并重新校验，增设液位与压力联锁',
        funding: '专项资金12万元，已列入本月预算',
        timeline: '2023年4月30日前完成',
        contingency: '修订液氨泄漏专项应急预案，4月中旬组织演练',
      },
    },
  });
export type CaseEventBody = z.infer<typeof caseEventBodySchema>;

export const listCasesQuerySchema = z
  .object({
    type: z.string().min(1).max(40).optional(),
    status: caseStatusSchema.optional(),
    stage: z.string().min(1).max(40).optional(),
    town: idSchema.optional(),
    unit: idSchema.optional(),
    overdue: z.enum(['true', 'false']).optional(),
  })
  .strict();

export const reconciliationQuerySchema = z
  .object({
    type: z.string().min(1).max(40),
    town: idSchema.optional(),
  })
  .strict();
