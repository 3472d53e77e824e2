import { z } from 'zod';
import { unitKindSchema } from '../../workflows/catalog/schema.ts';
import { freeText, lineText } from './text.ts';

/** Ids are used in keys, URLs and execution names, so they are kept to a safe alphabet. */
export const idSchema = z
  .string()
  .min(1, { error: '不能为空', abort: true })
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, '应为1至63个小写字母、数字或连字符，以字母或数字开头');

/**
 * SES accepts malformed addresses only to bounce them later (and the local SES accepts anything), so addresses are
 * checked strictly when a unit is saved: a local part of dot-separated atoms (no leading, trailing or double dot), a
 * domain of labels that neither start nor end with a hyphen, a top-level domain of letters; ASCII only.
 */
export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .regex(
    /^(?=[^@]{1,64}@)[A-Za-z0-9_%+'-]+(\.[A-Za-z0-9_%+'-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/,
    '不是有效的邮箱地址',
  );

/** A phone number as people write it: digits, with an optional leading + and spaces or hyphens between. */
export const phoneSchema = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 -]{4,22}[0-9]$/, '不是有效的电话号码（数字，可含空格、连字符或开头的+）');

export const personSchema = z
  .object({
    name: lineText(100),
    email: emailSchema,
    /** Shown next to the person where others need to reach them (the defaulting units in an escalation). */
    phone: phoneSchema.optional(),
  })
  .strict();
export type Person = z.infer<typeof personSchema>;

/** One attribute of a unit: a short name, without the separators a list of them is written with. */
export const attributeSchema = lineText(20).pipe(
  z.string().regex(/^[^、,，;；]+$/, '属性名中不能有顿号、逗号或分号（多个属性请分开写）'),
);

export const unitSchema = z
  .object({
    id: idSchema,
    name: lineText(200),
    kind: unitKindSchema,
    /** The town a site or enterprise belongs to, or the enterprise a site belongs to. */
    parentId: idSchema.optional(),
    /** The county department that supervises this unit's sector (行业监管部门). */
    supervisingDepartmentId: idSchema.optional(),
    /** The county leader record (分管县领导) for this unit's sector. */
    leaderInChargeId: idSchema.optional(),
    contact: personSchema,
    principal: personSchema,
    /** Staff representative, addressed by 双报告 for major hidden dangers. */
    staffRepresentative: personSchema.optional(),
    /**
     * What else the county knows about the unit that decides its duties: 县属监管企业, 危险化学品, 燃气, 人员密集场所 …
     * An ad-hoc duty (or a deployment's catalog duty) can be for the units with one of them.
     */
    attributes: z.array(attributeSchema).max(20).optional(),
    active: z.boolean().default(true),
  })
  .strict();
export type Unit = z.infer<typeof unitSchema>;
export type UnitInput = z.input<typeof unitSchema>;

/**
 * A unit as stored: with the instant it first joined the roster, set by the system (never by a request). A period
 * whose deadline passed before a unit joined does not escalate that unit (docs/decisions.md, "A fair start").
 */
export const unitRecordSchema = unitSchema.extend({ joinedAt: z.string().optional() });
export type UnitRecord = z.infer<typeof unitRecordSchema>;

export const leaderSchema = z
  .object({
    id: idSchema,
    titleZh: lineText(100),
    holder: personSchema,
  })
  .strict();
export type Leader = z.infer<typeof leaderSchema>;

export const cycleStatusSchema = z.enum(['open', 'closed', 'failed', 'cancelled']);
export type CycleStatus = z.infer<typeof cycleStatusSchema>;

export const cycleRecordSchema = z.object({
  dutyId: z.string(),
  periodKey: z.string(),
  status: cycleStatusSchema,
  deadline: z.string(),
  createdAt: z.string(),
  stagesDone: z.array(z.string()).default([]),
  closedAt: z.string().optional(),
  /** Units that had not submitted at closing: how many (their ids are items of their own, listDefaulters). */
  defaulterCount: z.number().int().min(0).optional(),
  /** The same as a list, in records closed before the list became items; never written now. */
  defaulters: z.array(z.string()).optional(),
  lastError: z.object({ at: z.string(), message: z.string() }).optional(),
  /** An ad-hoc duty's revision (its deadline changed): notices of an older revision's stages are no longer owed. */
  revision: z.number().int().min(1).optional(),
  /** Execution generation: a cycle that outlives one execution continues in the next. */
  generation: z.number().int().min(1).default(1),
  /** When the generation last changed (its execution may still be starting). */
  generationAt: z.string().optional(),
  /** When the execution driving the cycle next wakes: the reconciler looks for cycles that missed it. */
  plannedWakeAt: z.string().optional(),
  /** When this deployment started tracking the duty: a deadline before it escalates nobody (the fair start). */
  trackedSince: z.string().optional(),
  /** A stage's sweep that did not fit in one invocation: where the next one continues. */
  sweep: z
    .object({
      stageId: z.string(),
      kind: z.number().int().min(0),
      page: z.number().int().min(0),
      next: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
export type CycleRecord = z.infer<typeof cycleRecordSchema>;

export const evidenceSchema = z
  .object({
    /** The duty's report form as filled in: field key → value (workflows/catalog/duties.json `form`). */
    fields: z.record(z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/), freeText(20_000)).optional(),
    minutes: freeText(20_000).optional(),
    attendees: z.array(lineText(100)).max(500).optional(),
    links: z
      .array(z.url({ protocol: /^https?$/ }))
      .max(50)
      .optional(),
    attachments: z
      .array(
        z
          .object({
            name: z.string().min(1).max(255),
            contentType: z.string().min(1).max(100),
            size: z
              .number()
              .int()
              .min(0)
              .max(100 * 1024 * 1024),
            sha256: z
              .string()
              .regex(/^[a-f0-9]{64}$/)
              .optional(),
            /** Where the file is stored (S3 object key, `attachments/…`), when it was uploaded through a link. */
            key: z
              .string()
              .regex(/^attachments\/[A-Za-z0-9._/-]{1,900}$/)
              .optional(),
          })
          .strict(),
      )
      .max(50)
      .optional(),
  })
  .strict();
export type Evidence = z.infer<typeof evidenceSchema>;

export const submissionSchema = z.object({
  dutyId: z.string(),
  periodKey: z.string(),
  unitId: z.string(),
  submittedAt: z.string(),
  late: z.boolean(),
  note: z.string().default(''),
  evidence: evidenceSchema.default({}),
  /** Who recorded it: `unit-link`, `admin:<name>`, `simulator`. */
  recordedBy: z.string(),
});
export type Submission = z.infer<typeof submissionSchema>;
