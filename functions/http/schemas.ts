import { z } from 'zod';
import { unitKindSchema } from '../../workflows/catalog/schema.ts';
import { rosterFileSchema } from '../core/roster-import.ts';
import { freeText } from '../core/text.ts';
import { pagingQuery } from './paging.ts';
import {
  cycleStatusSchema,
  evidenceSchema,
  idSchema,
  leaderSchema,
  personSchema,
  unitSchema,
} from '../core/model.ts';

/*
 * Request bodies and parameters: the same schemas validate requests and generate /openapi.json. Every object is
 * strict (unknown fields are rejected); every body schema carries an `id` and a valid `example`, which a test
 * sends to the live route. The examples use the fictional county of examples/roster.json.
 */

/** Request bodies are limited to 1 MiB (API Gateway's own limit is 10 MB; ours is smaller on purpose). */
export const MAX_BODY_BYTES = 1024 * 1024;

const dutyIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, '不是有效的职责编号');
/** A period key's shape; whether it is a real period of the duty's kind is checked by the planner. */
const periodKeySchema = z.string().min(4).max(10);
const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '应为日期，格式如 2023-06-30');

// ---------------------------------------------------------------- cycles and submissions

export const submissionBodySchema = z
  .object({
    unitId: idSchema,
    note: freeText(5_000).default(''),
    evidence: evidenceSchema.default({}),
  })
  .strict()
  .meta({
    id: 'SubmissionRequest',
    example: {
      unitId: 'town-001',
      note: '已于2月27日召开月度安全生产工作会议',
      evidence: { minutes: '会议研究了春季复工复产安全防范工作……', attendees: ['张伟', '李娜'] },
    },
  });

/** What a unit sends through its link: the unit and item come from the link itself. */
export const linkSubmissionBodySchema = z
  .object({
    note: freeText(5_000).default(''),
    evidence: evidenceSchema.default({}),
  })
  .strict()
  .meta({
    id: 'LinkSubmissionRequest',
    example: {
      note: '',
      evidence: {
        fields: { risks: '节后复工企业人员返岗', measures: '逐企检查复工条件', owner: '陈晓燕' },
      },
    },
  });

/** POST /links/{token}/attachments: the file about to be uploaded. */
export const attachmentRequestSchema = z
  .object({
    name: z.string().min(1).max(255).meta({ example: '签到表.jpg' }),
    contentType: z.string().min(1).max(100).meta({ example: 'image/jpeg' }),
    size: z
      .number()
      .int()
      .min(0)
      .max(100 * 1024 * 1024),
  })
  .strict()
  .meta({
    id: 'AttachmentRequest',
    example: { name: '签到表.jpg', contentType: 'image/jpeg', size: 245_760 },
  });

export const cycleParamsSchema = z
  .object({
    dutyId: dutyIdSchema.meta({ example: 'monthly-safety-meeting' }),
    periodKey: periodKeySchema.meta({ example: '2023-02' }),
  })
  .strict();

export const linkParamsSchema = z
  .object({
    token: z.string().min(1).max(2_000).meta({ description: 'the signed link from a reminder email' }),
  })
  .strict();

export const cycleListQuerySchema = z
  .object({
    duty: dutyIdSchema.optional().meta({ example: 'monthly-safety-meeting' }),
    period: periodKeySchema.optional().meta({ example: '2023-02' }),
    status: cycleStatusSchema.optional(),
    ...pagingQuery,
  })
  .strict();

export const cycleUnitsQuerySchema = z
  .object({
    state: z
      .enum(['submitted', 'late', 'missing'])
      .optional()
      .meta({ description: 'only units in this state' }),
    ...pagingQuery,
  })
  .strict();

// ---------------------------------------------------------------- units and leaders

const exampleTown = {
  name: '青山镇',
  kind: 'town',
  supervisingDepartmentId: 'dept-emergency',
  leaderInChargeId: 'leader-executive',
  contact: { name: '陈晓燕', email: 'town-001.contact@example.gov.cn' },
  principal: { name: '吴志宏', email: 'town-001.principal@example.gov.cn' },
};

export const unitParamsSchema = z.object({ id: idSchema.meta({ example: 'town-001' }) }).strict();

/** PUT /units/{id}: a whole unit; `id` may be left out, and must match the path when given. */
export const unitBodySchema = unitSchema
  .extend({ id: idSchema.optional() })
  .strict()
  .meta({ id: 'UnitRequest', example: exampleTown });

/** A person in a patch: any of the fields; `phone: null` removes the phone. */
const personPatchSchema = z
  .object({
    name: personSchema.shape.name.optional(),
    email: personSchema.shape.email.optional(),
    phone: personSchema.shape.phone.unwrap().nullable().optional(),
  })
  .strict();

/**
 * PATCH /units/{id}: a JSON merge patch (RFC 7396). Only the fields given change; a person's fields merge with
 * the stored ones; `null` removes an optional field (parent, supervising department, leader, staff
 * representative, a phone).
 */
export const unitPatchSchema = z
  .object({
    name: unitSchema.shape.name.optional(),
    kind: unitSchema.shape.kind.optional(),
    parentId: idSchema.nullable().optional(),
    supervisingDepartmentId: idSchema.nullable().optional(),
    leaderInChargeId: idSchema.nullable().optional(),
    contact: personPatchSchema.optional(),
    principal: personPatchSchema.optional(),
    staffRepresentative: personPatchSchema.nullable().optional(),
    attributes: unitSchema.shape.attributes.unwrap().nullable().optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .meta({
    id: 'UnitPatch',
    example: { contact: { name: '刘海燕', email: 'town-001.liu@example.gov.cn', phone: '0357-1234567' } },
  });

/** PATCH /leaders/{id}: the title or the holder, or some of the holder's fields. */
export const leaderPatchSchema = z
  .object({
    titleZh: leaderSchema.shape.titleZh.optional(),
    holder: personPatchSchema.optional(),
  })
  .strict()
  .meta({ id: 'LeaderPatch', example: { holder: { email: 'wang.jianguo@example.gov.cn' } } });

export const unitListQuerySchema = z
  .object({
    kind: unitKindSchema.optional(),
    includeInactive: z.enum(['true', 'false']).optional(),
    undeliverable: z.enum(['true', 'false']).optional(),
    format: z.enum(['json', 'csv', 'xlsx']).optional().meta({
      description: 'csv or xlsx: the whole list as a roster file the import reads back (not paged)',
    }),
    ...pagingQuery,
  })
  .strict();

export const leaderParamsSchema = z.object({ id: idSchema.meta({ example: 'leader-executive' }) }).strict();

export const leaderBodySchema = leaderSchema
  .extend({ id: idSchema.optional() })
  .strict()
  .meta({
    id: 'LeaderRequest',
    example: {
      titleZh: '常务副县长（分管应急管理）',
      holder: { name: '王建国', email: 'leader-executive@example.gov.cn' },
    },
  });

/** POST /units/import as JSON: units and county leaders; leaders are written first. */
export const rosterImportSchema = rosterFileSchema.meta({
  id: 'RosterImport',
  example: {
    leaders: [
      {
        id: 'leader-executive',
        titleZh: '常务副县长（分管应急管理）',
        holder: { name: '王建国', email: 'leader-executive@example.gov.cn' },
      },
    ],
    units: [
      {
        id: 'county-safety-office',
        name: '示例县安全生产委员会办公室',
        kind: 'county-body',
        leaderInChargeId: 'leader-executive',
        contact: { name: '孙丽', email: 'county-safety-office.contact@example.gov.cn' },
        principal: { name: '郭强', email: 'county-safety-office.principal@example.gov.cn' },
      },
      {
        id: 'dept-emergency',
        name: '示例县应急管理局',
        kind: 'county-department',
        supervisingDepartmentId: 'county-safety-office',
        leaderInChargeId: 'leader-executive',
        contact: { name: '何静', email: 'dept-emergency.contact@example.gov.cn' },
        principal: { name: '马军', email: 'dept-emergency.principal@example.gov.cn' },
      },
      { id: 'town-001', ...exampleTown },
    ],
  },
});

/** The CSV form of an import, as documented in the README (header row first). */
export const ROSTER_CSV_EXAMPLE = [
  'id,name,kind,parent,supervisingDepartment,leaderInCharge,contactName,contactEmail,principalName,principalEmail,staffName,staffEmail',
  'town-001,青山镇,town,,dept-emergency,leader-executive,陈晓燕,town-001.contact@example.gov.cn,吴志宏,town-001.principal@example.gov.cn,,',
].join('\r\n');

// ---------------------------------------------------------------- duties, overdue ledger, audit

export const dutyParamsSchema = z
  .object({ id: dutyIdSchema.meta({ example: 'risk-prejudgment-weekly' }) })
  .strict();

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export const rosterImportQuerySchema = z
  .object({
    dryRun: z
      .enum(['true', 'false'])
      .optional()
      .meta({ description: 'true: check and say what would be written, write nothing', example: 'true' }),
  })
  .strict();

export const overdueQuerySchema = z
  .object({
    format: z
      .enum(['json', 'csv', 'xlsx'])
      .optional()
      .meta({ description: 'csv (UTF-8 with BOM) or xlsx, for Excel: the whole filtered ledger, one file' }),
    town: idSchema
      .optional()
      .meta({ description: 'units in this town (itself, or up its parents)', example: 'town-001' }),
    department: idSchema.optional().meta({ description: 'units this county department supervises' }),
    duty: dutyIdSchema.optional().meta({ description: "a duty's cycles" }),
    period: periodKeySchema.optional().meta({ description: 'cycles of this period' }),
    level: z
      .enum(['0', '1', '2', '3', '4', '5'])
      .optional()
      .meta({ description: 'escalation level reached (0: not yet escalated)' }),
    kind: z.enum(['cycle', 'case']).optional(),
    unit: idSchema.optional(),
    // JSON is paged; the CSV is the whole ledger, one file.
    ...pagingQuery,
  })
  .strict();

export const auditQuerySchema = z
  .object({
    subject: z.string().min(1).max(200).meta({
      description: 'cycle:<dutyId>:<periodKey>, unit:<id>, leader:<id> or case:<id>',
      example: 'unit:town-001',
    }),
    from: dateSchema.optional().meta({ description: 'first day (Asia/Shanghai), inclusive' }),
    to: dateSchema.optional().meta({ description: 'last day (Asia/Shanghai), inclusive' }),
    ...pagingQuery,
  })
  .strict();

// ---------------------------------------------------------------- deliveries

/** Emails are listed at most this many a page, 50 by default. */
export const DELIVERY_PAGE_MAX = 200;

export const deliveryQuerySchema = z
  .object({
    from: dateSchema
      .optional()
      .meta({ description: 'first day (Asia/Shanghai), inclusive; default 6 days before `to`' }),
    to: dateSchema.optional().meta({ description: 'last day (Asia/Shanghai), inclusive; default today' }),
    recipient: z
      .string()
      .min(3)
      .max(254)
      .optional()
      .meta({ description: 'one address: its emails', example: 'town-001.contact@example.gov.cn' }),
    status: z.enum(['sent', 'failed', 'suppressed']).optional(),
    subject: z
      .string()
      .regex(
        /^(CYCLE#[a-z0-9-]+#[0-9A-Z-]+|CASE#[a-z0-9-]+|DELIVERY)$/,
        '应为 CYCLE#职责#周期、CASE#案件编号 或 DELIVERY',
      )
      .optional()
      .meta({
        description: 'emails that carried a notice of this cycle or case',
        example: 'CYCLE#risk-prejudgment-weekly#2023-W06',
      }),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, '应为整数')
      .optional()
      .meta({ description: `page size, 1–${DELIVERY_PAGE_MAX} (default 50)` }),
    cursor: z
      .string()
      .max(2_000)
      .optional()
      .meta({ description: 'where the previous page stopped (its `next`)' }),
  })
  .strict();

export const escalationParamsSchema = z
  .object({
    token: z.string().min(1).max(2_000).meta({ description: 'the signed link from an escalation email' }),
  })
  .strict();

/** Routes that take no query parameters still reject unknown ones. */
export const noQuerySchema = z.object({}).strict();

/** GET /leaders: paged like every listing. */
export const leaderListQuerySchema = z.object({ ...pagingQuery }).strict();
