import { z } from 'zod';

export { UNIT_KINDS, UNIT_KIND_ZH, UNIT_KIND_CHOICES_ZH, unitKindOf, type UnitKind } from './unit-kinds.ts';
import { UNIT_KINDS, UNIT_KIND_CHOICES_ZH, type UnitKind } from './unit-kinds.ts';

export const unitKindSchema = z.enum(UNIT_KINDS, { error: () => `应为单位类型：${UNIT_KIND_CHOICES_ZH}` });

/**
 * Positions a message can be addressed to. Who holds a position is data on the unit (contact, principal),
 * on its supervising department, on the county leader record, or on the county safety office (安委办).
 */
export const POSITIONS = [
  'contact',
  'principal',
  'supervising-department',
  'leader-in-charge',
  'safety-office',
] as const;
export const positionSchema = z.enum(POSITIONS);
export type Position = z.infer<typeof positionSchema>;

export const POSITION_ZH: Record<Position, string> = {
  contact: '单位联络人',
  principal: '单位主要负责人',
  'supervising-department': '行业监管部门负责人',
  'leader-in-charge': '分管县领导',
  'safety-office': '县安委办',
};

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM');
// Days that exist in every year only: the planner turns MM-DD into a date of each year, so 02-30 or 04-31 would
// fail at planning time and 02-29 would fail three years out of four.
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const monthDay = z
  .string()
  .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a month-day MM-DD')
  .refine((s) => Number(s.slice(3)) <= (DAYS_IN_MONTH[Number(s.slice(0, 2)) - 1] ?? 0), {
    message: 'must be a day that exists every year (no 02-29, 02-30, 04-31…)',
  });

/** A signed offset from the deadline. Working days follow the official calendar (调休 included). */
export const offsetSchema = z
  .object({
    amount: z.number().int().min(-366).max(366),
    unit: z.enum(['hours', 'days', 'workdays']),
    /** For day offsets: the time of day the stage fires at; defaults to the deadline's time. */
    at: timeOfDay.optional(),
  })
  .strict();
export type Offset = z.infer<typeof offsetSchema>;

export const cadenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['daily', 'weekly', 'monthly', 'quarterly', 'yearly']) }).strict(),
  z
    .object({
      kind: z.literal('seasonal'),
      /**
       * A window inside each year; the period key is the year. Either fixed dates (the main flood season
       * 06-01..09-30) or a rule: the week containing a date, starting on a weekday (防灾减灾宣传周 is the Saturday to
       * Friday week containing 12 May, 防灾减灾日), so each year gets its own dates.
       */
      season: z.union([
        z
          .object({ id: z.string().min(1), titleZh: z.string().min(1), from: monthDay, to: monthDay })
          .strict()
          // The period key is the year, so the window must lie inside one calendar year (MM-DD compares as text).
          .refine((s) => s.from <= s.to, {
            path: ['to'],
            message: 'the window must end on or after it starts (within one year)',
          }),
        z
          .object({
            id: z.string().min(1),
            titleZh: z.string().min(1),
            weekContaining: monthDay,
            /** ISO weekday the week starts on: 1 = Monday … 6 = Saturday, 7 = Sunday. */
            weekStartsOn: z.number().int().min(1).max(7),
          })
          .strict()
          // A week that could cross New Year would give the year's period two years' dates.
          .refine((s) => s.weekContaining >= '01-07' && s.weekContaining <= '12-25', {
            path: ['weekContaining'],
            message: 'the week must lie inside one calendar year (a date from 01-07 to 12-25)',
          }),
      ]),
    })
    .strict(),
]);
export type Cadence = z.infer<typeof cadenceSchema>;
export type Season = Extract<Cadence, { kind: 'seasonal' }>['season'];

/**
 * Where in a period the deadline falls. Every rule is evaluated in Asia/Shanghai on the official calendar.
 * - period-end: the last calendar day of the period (or of the seasonal window);
 * - last-workday: the last working day of the period;
 * - nth-workday: the n-th working day of the period (1 = first);
 * - fixed-date: a month-day inside a yearly period ("by 31 December");
 * - after-period-start: a number of calendar days after the period starts (for weekly: 0 = Monday).
 */
export const deadlineRuleSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('period-end'), time: timeOfDay }).strict(),
  z.object({ type: z.literal('last-workday'), time: timeOfDay }).strict(),
  z.object({ type: z.literal('nth-workday'), n: z.number().int().min(1).max(250), time: timeOfDay }).strict(),
  z.object({ type: z.literal('fixed-date'), date: monthDay, time: timeOfDay }).strict(),
  z
    .object({
      type: z.literal('after-period-start'),
      days: z.number().int().min(0).max(365),
      time: timeOfDay,
    })
    .strict(),
]);
export type DeadlineRule = z.infer<typeof deadlineRuleSchema>;

/**
 * What happens when a rule lands on a non-working day: move to the previous working day (the duty is due
 * before the rest day, usual for reports), the next one (usual for "within N days" terms), or keep it.
 */
export const nonWorkdayPolicySchema = z.enum(['previous-workday', 'next-workday', 'keep']);
export type NonWorkdayPolicy = z.infer<typeof nonWorkdayPolicySchema>;

export const escalationLevelSchema = z
  .object({
    level: z.number().int().min(1).max(9),
    offset: offsetSchema,
    notify: z.array(positionSchema).min(1),
  })
  .strict();
export type EscalationLevel = z.infer<typeof escalationLevelSchema>;

export const clauseSchema = z
  .object({
    /** The heading of the notice section the duty comes from. */
    section: z.string().min(1),
    /** The sentence, quoted exactly from the notice. */
    quote: z.string().min(4),
  })
  .strict();

export const DUTY_ID_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Unit attributes a duty selects on (县属监管企业 …), written as the roster's 单位属性 column holds them. */
const attributeListSchema = z
  .array(
    z
      .string()
      .min(1)
      .max(20)
      .regex(/^[^、,，;；]+$/, '属性名中不能有顿号、逗号或分号'),
  )
  .min(1)
  .max(20);

/**
 * A change an administrator made to a running ad-hoc duty. `units`: whom it concerns when not every unit still
 * owing the duty (the units added or removed).
 */
export const dutyChangeSchema = z
  .object({
    seq: z.number().int().min(1),
    kind: z.enum(['extended', 'cancelled', 'units-added', 'units-removed']),
    /** The period whose units are told (a recurring duty's current one). */
    periodKey: z.string(),
    at: z.string(),
    /** The deadline after the change (an ISO instant), and before it for an extension. */
    deadline: z.string(),
    previousDeadline: z.string().optional(),
    reasonZh: z.string().optional(),
    units: z.array(z.string().min(1).max(63)).max(5000).optional(),
  })
  .strict();
export type DutyChange = z.infer<typeof dutyChangeSchema>;

/** One field of a duty's report form (the page a unit opens from its email). */
export const formFieldSchema = z
  .object({
    key: z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, '应为以小写英文字母开头、由英文字母和数字组成的编号'),
    labelZh: z.string().min(1).max(40),
    /** text: one line; textarea: several; number: a whole number ≥ 0; names: people, separated by 、or commas. */
    type: z.enum(['text', 'textarea', 'number', 'names']).default('textarea'),
    required: z.boolean().default(true),
    maxLength: z.number().int().min(1).max(20_000).default(2_000),
    /** What to write, shown under the field (e.g. "无隐患时填“0”"). */
    hintZh: z.string().min(1).max(200).optional(),
  })
  .strict();
export type FormField = z.infer<typeof formFieldSchema>;

/** What a duty's report asks for: its fields, and whether files (photos, PDF) are asked for. */
export const dutyFormSchema = z
  .object({
    fields: z.array(formFieldSchema).max(12),
    attachments: z
      .object({
        labelZh: z.string().min(1).max(60),
        required: z.boolean().default(false),
        max: z.number().int().min(1).max(10).default(5),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const keys = new Set<string>();
    f.fields.forEach((x, i) => {
      if (keys.has(x.key))
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'key'], message: '与前面的项目编号重复' });
      keys.add(x.key);
    });
  });
export type DutyForm = z.infer<typeof dutyFormSchema>;

/**
 * A check inside a long period (a yearly duty): on the date, the units that have not reported yet are named to the
 * positions listed, while there is still time — so 安委办 does not first hear of an undone drill in January.
 */
export const checkpointSchema = z
  .object({
    date: monthDay,
    time: timeOfDay.default('09:00'),
    /** What is checked, e.g. "年度综合性应急演练组织情况". */
    titleZh: z.string().min(2).max(40),
    notify: z.array(positionSchema).min(1),
  })
  .strict();
export type Checkpoint = z.infer<typeof checkpointSchema>;

/**
 * A daily duty's roll-up (汇总): after each day's deadline, 安委办 gets one summary of the day — per town and per
 * supervising department, how many units owed it, reported, reported late or not at all — and the sum of one number
 * field of the report form (hidden dangers found), so it sees the county's day without opening a thousand reports.
 */
export const rollupSchema = z
  .object({
    /** E.g. "隐患排查日报汇总". */
    titleZh: z.string().min(2).max(40),
    /** When, after the deadline (placed on the first routine moment at or after it, as an escalation). */
    offset: offsetSchema,
    /** A number field of the form whose values are summed (e.g. `hazards`); a report without it counts 0. */
    sumField: z.string().optional(),
    /** What the sum is called, e.g. "发现隐患". */
    sumLabelZh: z.string().min(2).max(20).optional(),
  })
  .strict();
export type Rollup = z.infer<typeof rollupSchema>;

export const dutySchema = z
  .object({
    // Execution names are `${id}_${periodKey}_gN` and Step Functions allows 80 characters.
    id: z
      .string()
      .max(60)
      .regex(DUTY_ID_PATTERN, 'must be kebab-case: lowercase letters, digits and hyphens'),
    titleZh: z.string().min(2),
    clause: clauseSchema,
    responsibleKinds: z.array(unitKindSchema).min(1),
    cadence: cadenceSchema,
    deadline: deadlineRuleSchema,
    nonWorkdayPolicy: nonWorkdayPolicySchema,
    /** Why the non-working-day policy fits this duty (documentation, shown by `safeduty catalog`). */
    policyNote: z.string().min(1).optional(),
    /** What evidence a submission carries, e.g. meeting minutes and attendees. */
    evidenceZh: z.string().min(1),
    /** The report form: its fields and files. Without one, a unit writes what it did (and may attach files). */
    form: dutyFormSchema.optional(),
    reminders: z.array(offsetSchema).max(5),
    escalation: z.array(escalationLevelSchema).min(1).max(5),
    /** Checks inside the period before the deadline (yearly and seasonal duties only). */
    checkpoints: z.array(checkpointSchema).max(3).default([]),
    /** A summary of each period to 安委办 (daily duties only). */
    rollup: rollupSchema.optional(),
    /** Whether the duty is active; a deployment can switch a duty off in its own catalog file. */
    enabled: z.boolean().default(true),
    /**
     * Narrows the units of `responsibleKinds` (an ad-hoc duty "for the enterprises of one town"): a unit is
     * responsible if it is named in `units`, or — when `towns`/`departments` are given — is one of those towns,
     * belongs to one (its parent), or is supervised by one of those departments.
     */
    scope: z
      .object({
        towns: z.array(z.string().min(1).max(63)).max(500).optional(),
        departments: z.array(z.string().min(1).max(63)).max(500).optional(),
        units: z.array(z.string().min(1).max(63)).max(5000).optional(),
        /** Units with at least one of these attributes (县属监管企业, 燃气 …), among the duty's kinds. */
        attributes: attributeListSchema.optional(),
        /**
         * The units that supervise a marked unit: a unit of the duty's kinds is responsible when some active unit of
         * `kinds` with one of `attributes` names it as its supervising department (主管部门) — "the departments that
         * supervise the towns and enterprises with a major accident in the last three years". A marked unit with
         * no supervising department counts for 安委办. Deciding it needs the roster of `kinds`
         * (`markedUnitSupervisors`), so callers of `inDutyScope` pass the set.
         */
        supervisorsOf: z
          .object({ attributes: attributeListSchema, kinds: z.array(unitKindSchema).min(1).max(6) })
          .strict()
          .optional(),
        /** Added while the cycle ran: responsible whatever their kind or place. */
        added: z.array(z.string().min(1).max(63)).max(5000).optional(),
        /** Removed while the cycle ran: no longer responsible, whatever else says so. */
        removed: z.array(z.string().min(1).max(63)).max(5000).optional(),
      })
      .strict()
      .optional(),
    /**
     * The dates a recurring ad-hoc duty runs between ("every Friday during the flood season"): periods are started
     * only on days inside them.
     */
    activeDates: z
      .object({
        from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      })
      .strict()
      .refine((d) => d.from <= d.until, {
        path: ['until'],
        message: 'the last date must not come before the first',
      })
      .optional(),
    /** Set on a duty an administrator created at run time (an ad-hoc duty): it has one period, this one. */
    once: z
      .object({
        periodKey: z.string().regex(/^\d{4}$/),
        /**
         * Bumped by every change of the deadline: the cycle's stages get new ids (`reminder-1@r2`), so the moved
         * reminders and escalations are owed anew and the old ones, still pending, are no longer.
         */
        revision: z.number().int().min(1).default(1),
      })
      .strict()
      .optional(),
    /** Set on every duty an administrator created at run time (one-off or recurring). */
    adhoc: z
      .object({
        /** What administrators changed while it ran, oldest first; units are told of each once. */
        changes: z.array(dutyChangeSchema).max(200).default([]),
        /** Set when an administrator cancelled it: nothing further is owed, and the units are told why. */
        cancelled: z.object({ at: z.string(), reasonZh: z.string() }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((duty, ctx) => {
    duty.reminders.forEach((r, i) => {
      if (toApproxHours(r) >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['reminders', i, 'amount'],
          message: 'a reminder must come before the deadline (negative amount)',
        });
      }
    });
    let previous = 0;
    duty.escalation.forEach((e, i) => {
      if (e.level !== i + 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['escalation', i, 'level'],
          message: `levels must be numbered 1, 2, 3… in order; expected ${i + 1}`,
        });
      }
      const hours = toApproxHours(e.offset);
      if (hours <= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['escalation', i, 'offset', 'amount'],
          message: 'an escalation must come after the deadline (positive amount)',
        });
      } else if (hours <= previous) {
        ctx.addIssue({
          code: 'custom',
          path: ['escalation', i, 'offset'],
          message: 'escalation levels must come later than the level before',
        });
      }
      previous = hours;
    });
    if (duty.rollup) {
      if (duty.cadence.kind !== 'daily')
        ctx.addIssue({
          code: 'custom',
          path: ['rollup'],
          message: 'a roll-up summarises a day: daily duties only',
        });
      if (toApproxHours(duty.rollup.offset) <= 0)
        ctx.addIssue({
          code: 'custom',
          path: ['rollup', 'offset', 'amount'],
          message: 'a roll-up comes after the deadline (positive amount)',
        });
      const sum = duty.rollup.sumField;
      if (sum !== undefined && !duty.form?.fields.some((f) => f.key === sum && f.type === 'number'))
        ctx.addIssue({
          code: 'custom',
          path: ['rollup', 'sumField'],
          message: "must name a number field of the duty's form",
        });
      if ((sum === undefined) !== (duty.rollup.sumLabelZh === undefined))
        ctx.addIssue({
          code: 'custom',
          path: ['rollup', 'sumLabelZh'],
          message: 'sumField and sumLabelZh go together',
        });
    }
    if (duty.checkpoints.length > 0 && duty.cadence.kind !== 'yearly' && duty.cadence.kind !== 'seasonal')
      ctx.addIssue({
        code: 'custom',
        path: ['checkpoints'],
        message: 'checkpoints are for yearly and seasonal duties (a shorter period has its reminders)',
      });
    // The planner rejects a deadline before the seasonal window opens; catch it when the catalog loads.
    if (
      duty.deadline.type === 'fixed-date' &&
      duty.cadence.kind === 'seasonal' &&
      ('from' in duty.cadence.season
        ? duty.deadline.date < duty.cadence.season.from
        : true) /* a week moves from year to year: its deadline is the window's end */
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['deadline', 'date'],
        message:
          'a seasonal fixed-date deadline cannot fall before the window opens (nor be fixed in a week that moves)',
      });
    }
    if (
      duty.deadline.type === 'fixed-date' &&
      duty.cadence.kind !== 'yearly' &&
      duty.cadence.kind !== 'seasonal'
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['deadline', 'type'],
        message: 'fixed-date deadlines need a yearly or seasonal cadence',
      });
    }
  });
export type Duty = z.infer<typeof dutySchema>;
export type DutyInput = z.input<typeof dutySchema>;

/** Rough ordering only (a working day counts as 1.4 calendar days); exact instants come from the planner. */
function toApproxHours(o: Offset): number {
  const perUnit = o.unit === 'hours' ? 1 : o.unit === 'days' ? 24 : 24 * 1.4;
  return o.amount * perUnit;
}

export const catalogFileSchema = z
  .object({
    /** 'replace' drops the built-in catalog; 'extend' adds to it and overrides duties with the same id. */
    mode: z.enum(['replace', 'extend']).default('extend'),
    source: z.string().min(1).optional(),
    duties: z.array(dutySchema),
  })
  .strict();
export type CatalogFile = z.infer<typeof catalogFileSchema>;

interface ScopedUnit {
  id: string;
  kind: UnitKind;
  parentId?: string | undefined;
  supervisingDepartmentId?: string | undefined;
  attributes?: readonly string[] | undefined;
}

export type SupervisorsOf = NonNullable<NonNullable<Duty['scope']>['supervisorsOf']>;

/**
 * The ids that supervise a marked unit (`scope.supervisorsOf`), given the active units of its kinds: each marked unit's
 * supervising department, or `fallbackId` (安委办) for a marked unit without one. One pass over the units, so a
 * city's roster costs what reading it costs.
 */
export function markedUnitSupervisors(
  rule: SupervisorsOf,
  units: Iterable<ScopedUnit>,
  fallbackId: string,
): Set<string> {
  const out = new Set<string>();
  for (const u of units) {
    if (!rule.kinds.includes(u.kind) || !(u.attributes ?? []).some((a) => rule.attributes.includes(a)))
      continue;
    out.add(u.supervisingDepartmentId ?? fallbackId);
  }
  return out;
}

/**
 * Whether a unit of one of the duty's kinds is responsible for it, given the duty's scope (if any). A scope with
 * `supervisorsOf` needs `supervisors`, the ids `markedUnitSupervisors` found.
 */
export function inDutyScope(
  duty: Pick<Duty, 'responsibleKinds' | 'scope'>,
  unit: ScopedUnit,
  supervisors?: ReadonlySet<string>,
): boolean {
  const scope = duty.scope;
  if (scope?.removed?.includes(unit.id)) return false;
  if (scope?.units?.includes(unit.id) || scope?.added?.includes(unit.id)) return true;
  if (!duty.responsibleKinds.includes(unit.kind)) return false;
  if (!scope) return true;
  const byPlace =
    scope.towns === undefined ||
    scope.towns.includes(unit.id) ||
    (unit.parentId !== undefined && scope.towns.includes(unit.parentId));
  const byDepartment =
    scope.departments === undefined ||
    scope.departments.includes(unit.id) ||
    (unit.supervisingDepartmentId !== undefined && scope.departments.includes(unit.supervisingDepartmentId));
  const byAttribute =
    scope.attributes === undefined || (unit.attributes ?? []).some((a) => scope.attributes?.includes(a));
  if (scope.supervisorsOf !== undefined && supervisors === undefined)
    throw new Error(`duty scope supervisorsOf needs the supervisors of the marked units (unit ${unit.id})`);
  const bySupervision = scope.supervisorsOf === undefined || supervisors?.has(unit.id) === true;
  // Named units alone: nobody else.
  if (
    scope.towns === undefined &&
    scope.departments === undefined &&
    scope.attributes === undefined &&
    scope.supervisorsOf === undefined &&
    scope.units !== undefined
  )
    return false;
  return byPlace && byDepartment && byAttribute && bySupervision;
}
