// Ad-hoc duties (专项工作, 节前安全检查, one-off collections): created by an administrator at run time and run as a
// cycle of the same duty-cycle machine, with the same notices, delivery, links, overdue ledger and audit as the
// catalog's duties. An ad-hoc duty is an ordinary catalog duty underneath — one yearly period, a fixed-date
// deadline kept as given — so nothing downstream needs to know it was not in the catalog file.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Catalog } from '../../workflows/catalog/index.ts';
import {
  DUTY_ID_PATTERN,
  dutyFormSchema,
  dutySchema,
  escalationLevelSchema,
  offsetSchema,
  unitKindSchema,
  type Duty,
  type DutyChange,
  type UnitKind,
} from '../../workflows/catalog/schema.ts';
import {
  addDays,
  addWorkdays,
  diffDays,
  parseDate,
  shanghaiDateOf,
  shanghaiInstant,
  toShanghaiIso,
} from '../../workflows/calendar.ts';
import { parsePeriodKey, periodKeyOf } from '../../workflows/periods.ts';
import { periodKindOfDuty, planCycle } from '../../workflows/plan.ts';
import { attributeSchema, type UnitRecord } from './model.ts';
import { fieldPath, ValidationError, type FieldIssue } from './errors.ts';
import { freeText, lineText } from './text.ts';

const timeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, '应为时刻 HH:MM');
const idList = z.array(z.string().min(1).max(63)).min(1).max(5000);
const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '应为日期，格式如 2023-06-30');

/**
 * "Every Friday during the flood season": a weekly deadline on a weekday, or a monthly one on a day of the month,
 * for the periods that begin between `from` and `until`. A deadline on a rest day moves to the working day before.
 */
const recurrenceSchema = z
  .object({
    every: z.enum(['week', 'month']),
    /** Weekly: the deadline's weekday, 1 = Monday … 7 = Sunday. */
    weekday: z
      .number()
      .int()
      .min(1, '应为1（星期一）至7（星期日）')
      .max(7, '应为1（星期一）至7（星期日）')
      .optional(),
    /** Monthly: the deadline's day of the month (1–28, so every month has it). */
    day: z.number().int().min(1, '应为1至28日').max(28, '应为1至28日').optional(),
    time: timeSchema,
    from: dateSchema,
    until: dateSchema,
  })
  .strict();

export const adhocDutyBodySchema = z
  .object({
    id: z
      .string()
      .max(60)
      .regex(DUTY_ID_PATTERN, '应为小写字母、数字和连字符组成的编号')
      .optional()
      .meta({ description: 'default: adhoc-<date>-<4 hex>' }),
    titleZh: lineText(100),
    instructionZh: freeText(4000).pipe(z.string().min(4, '请写明工作要求（至少4个字）')),
    documentNo: lineText(60).optional().meta({ example: '襄安办〔2023〕12号' }),
    evidenceZh: lineText(200).default('检查情况报告（含发现问题及整改情况）'),
    responsible: z
      .object({
        kinds: z.array(unitKindSchema).min(1).optional(),
        towns: idList.optional(),
        departments: idList.optional(),
        units: idList.optional(),
        attributes: z
          .array(attributeSchema)
          .min(1)
          .max(20)
          .optional()
          .meta({ description: 'units with one of these attributes (e.g. 燃气, 县属监管企业)' }),
      })
      .strict(),
    /** What units report: the fields of their form, and files. Without it they write what they did. */
    form: dutyFormSchema.optional(),
    deadline: z
      .union([
        z.object({ date: dateSchema, time: timeSchema }).strict(),
        z.object({ workdaysFromStart: z.number().int().min(1).max(120), time: timeSchema }).strict(),
      ])
      .optional()
      .meta({ description: 'a one-off duty: its deadline (give this or `recurrence`)' }),
    recurrence: recurrenceSchema.optional().meta({
      description: 'a recurring duty: every week or month between two dates (give this or `deadline`)',
    }),
    reminders: z.array(offsetSchema).max(5).optional(),
    escalation: z.array(escalationLevelSchema).min(1).max(5).optional(),
  })
  .strict()
  .meta({
    id: 'AdhocDutyRequest',
    example: {
      titleZh: '国庆节前安全生产大检查',
      instructionZh: '各乡镇、各部门于9月27日前完成国庆节前安全生产大检查，并报送检查情况。',
      documentNo: '襄安办〔2023〕12号',
      responsible: { kinds: ['town'] },
      deadline: { date: '2023-09-27', time: '18:00' },
    },
  });
export type AdhocDutyBody = z.input<typeof adhocDutyBodySchema>;

/**
 * The default ladder of an ad-hoc duty, editable per duty: reminders two working days and four hours before the
 * deadline; then the unit's principal the next working day, its supervisors the day after, 安委办 and the leader in
 * charge on the third. Working days follow the official calendar, so a ladder never fires on a holiday.
 */
export const DEFAULT_LADDER: Pick<Duty, 'reminders' | 'escalation'> = {
  reminders: [
    { amount: -2, unit: 'workdays', at: '09:00' },
    { amount: -4, unit: 'hours' },
  ],
  escalation: [
    { level: 1, offset: { amount: 1, unit: 'workdays', at: '09:00' }, notify: ['contact', 'principal'] },
    {
      level: 2,
      offset: { amount: 2, unit: 'workdays', at: '09:00' },
      notify: ['principal', 'supervising-department'],
    },
    {
      level: 3,
      offset: { amount: 3, unit: 'workdays', at: '09:00' },
      notify: ['principal', 'leader-in-charge', 'safety-office'],
    },
  ],
};

export interface AdhocRoster {
  unit(id: string): Promise<UnitRecord | undefined>;
  /** The active units responsible for a duty (its kinds narrowed by its scope, and the units it names). */
  responsible(duty: Duty): Promise<UnitRecord[]>;
}

function invalid(issues: FieldIssue[]): ValidationError {
  return new ValidationError('invalid ad-hoc duty', '专项工作的设置有误，请按提示修改', issues);
}

/** A stable digest of the request, so a retried creation is recognised as the same one. */
export function requestDigest(body: unknown): string {
  // Keys sorted at every level: the same request written in another key order is the same request.
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => x !== undefined)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(body)))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Turns an administrator's request into the duty it creates, checking everything before anything is written:
 * the references (towns, departments and units exist, are active and of the right kind), a non-empty responsible
 * set, a deadline in the future, and a ladder the planner accepts. Every problem is reported at once.
 */
export async function buildAdhocDuty(
  input: unknown,
  ctx: { catalog: Catalog; roster: AdhocRoster; nowMs: number; newId: () => string },
): Promise<{
  duty: Duty;
  body: z.output<typeof adhocDutyBodySchema>;
  responsibleCount: number;
  /** The period whose cycle starts now. */
  periodKey?: string;
}> {
  const body = adhocDutyBodySchema.parse(input);
  const issues: FieldIssue[] = [];
  const id = body.id ?? ctx.newId();
  // An ad-hoc duty's own id again is a retry (the route compares the requests); a catalog duty's id is taken.
  const known = ctx.catalog.get(id);
  if (known && !known.adhoc) issues.push({ field: 'id', problem: '该编号已被目录中的职责使用' });

  const r = body.responsible;
  const referenced = async (
    field: 'towns' | 'departments' | 'units',
    ids: string[] | undefined,
    kind?: UnitKind,
  ) => {
    const units: UnitRecord[] = [];
    for (const [i, unitId] of (ids ?? []).entries()) {
      const u = await ctx.roster.unit(unitId);
      if (!u || !u.active)
        issues.push({ field: `responsible.${field}[${i}]`, problem: `未知或已停用的单位：${unitId}` });
      else if (kind && u.kind !== kind)
        issues.push({
          field: `responsible.${field}[${i}]`,
          problem: `${u.name}不是${kind === 'town' ? '乡镇' : '县直部门'}`,
        });
      else units.push(u);
    }
    return units;
  };
  await referenced('towns', r.towns, 'town');
  await referenced('departments', r.departments, 'county-department');
  const named = await referenced('units', r.units);
  const kinds: UnitKind[] = r.kinds ?? [...new Set(named.map((u) => u.kind))];
  if (kinds.length === 0)
    issues.push({ field: 'responsible.kinds', problem: '请指定责任单位类型，或列出具体单位' });

  const today = shanghaiDateOf(new Date(ctx.nowMs));
  const common = {
    id,
    titleZh: body.titleZh,
    clause: { section: body.documentNo ?? '县安委办专项工作', quote: body.instructionZh },
    responsibleKinds: kinds,
    evidenceZh: body.evidenceZh,
    reminders: body.reminders ?? DEFAULT_LADDER.reminders,
    escalation: body.escalation ?? DEFAULT_LADDER.escalation,
    enabled: true,
    ...(body.form ? { form: body.form } : {}),
    ...(r.towns || r.departments || r.units || r.attributes
      ? {
          scope: {
            ...(r.towns ? { towns: r.towns } : {}),
            ...(r.departments ? { departments: r.departments } : {}),
            ...(r.units ? { units: r.units } : {}),
            ...(r.attributes ? { attributes: r.attributes } : {}),
          },
        }
      : {}),
    adhoc: { changes: [] },
  };
  let candidate: Record<string, unknown> | undefined;
  /** The period whose cycle starts now (none: a recurring duty's first period has not begun, or its deadline passed). */
  let periodKey: string | undefined;
  if (body.deadline && body.recurrence)
    issues.push({
      field: 'recurrence',
      problem: '一次性的截止时间（deadline）和周期（recurrence）只能给出一个',
    });
  else if (body.deadline) {
    let deadlineDate: string | undefined;
    if ('date' in body.deadline) {
      try {
        deadlineDate = parseDate(body.deadline.date);
      } catch {
        issues.push({ field: 'deadline.date', problem: '不是有效日期' });
      }
    } else deadlineDate = addWorkdays(today, body.deadline.workdaysFromStart);
    const time = body.deadline.time;
    if (deadlineDate && shanghaiInstant(deadlineDate, time).getTime() <= ctx.nowMs)
      issues.push({ field: 'deadline', problem: `截止时间 ${deadlineDate} ${time} 已经过去` });
    if (deadlineDate) {
      periodKey = deadlineDate.slice(0, 4);
      candidate = {
        ...common,
        cadence: { kind: 'yearly' },
        deadline: { type: 'fixed-date', date: deadlineDate.slice(5), time },
        nonWorkdayPolicy: 'keep',
        once: { periodKey },
      };
    }
  } else if (body.recurrence) {
    const rec = body.recurrence;
    const at = (field: string, problem: string) => issues.push({ field: `recurrence.${field}`, problem });
    if (rec.every === 'week' && rec.weekday === undefined) at('weekday', '按周重复时请给出截止的星期（1–7）');
    if (rec.every === 'month' && rec.day === undefined) at('day', '按月重复时请给出截止的日期（1–28）');
    for (const f of ['from', 'until'] as const)
      try {
        parseDate(rec[f]);
      } catch {
        at(f, '不是有效日期');
      }
    if (rec.until < rec.from) at('until', '结束日期早于开始日期');
    else if (rec.until < today) at('until', `结束日期 ${rec.until} 已经过去`);
    else if (diffDays(rec.from, rec.until) > 366) at('until', '重复的时间跨度不能超过一年');
    candidate = {
      ...common,
      cadence: { kind: rec.every === 'week' ? 'weekly' : 'monthly' },
      deadline: {
        type: 'after-period-start',
        days: (rec.every === 'week' ? (rec.weekday ?? 1) : (rec.day ?? 1)) - 1,
        time: rec.time,
      },
      nonWorkdayPolicy: 'previous-workday',
      activeDates: { from: rec.from, until: rec.until },
    };
  } else issues.push({ field: 'deadline', problem: '请给出截止时间（deadline），或重复周期（recurrence）' });
  if (issues.length > 0 || !candidate) throw invalid(issues);

  const parsed = dutySchema.safeParse(candidate);
  if (!parsed.success)
    throw invalid(parsed.error.issues.map((i) => ({ field: fieldPath(i.path), problem: i.message })));
  let duty = parsed.data;
  if (!duty.once && duty.activeDates) {
    // A recurring duty's cycle starts now if today is inside its dates and this period's deadline is ahead. If
    // that deadline has passed, its first period is the next one: nobody is held to a deadline before the duty.
    const kind = periodKindOfDuty(duty);
    const current = periodKeyOf(kind, today);
    const dates = duty.activeDates;
    if (today >= dates.from && today <= dates.until) {
      if (Date.parse(planCycle(duty, current).deadline) > ctx.nowMs) periodKey = current;
      else {
        const next = addDays(parsePeriodKey(current, kind).end, 1);
        if (next > dates.until)
          throw invalid([{ field: 'recurrence.until', problem: '在结束日期之前已没有尚未截止的一期' }]);
        duty = { ...duty, activeDates: { ...dates, from: next } };
      }
    }
  }
  try {
    if (periodKey) planCycle(duty, periodKey);
  } catch (err) {
    throw invalid([{ field: 'deadline', problem: (err as { messageZh?: string }).messageZh ?? String(err) }]);
  }

  const responsible = await ctx.roster.responsible(duty);
  if (responsible.length === 0)
    throw invalid([{ field: 'responsible', problem: '按此范围没有任何在册的责任单位' }]);
  return { duty, body, responsibleCount: responsible.length, ...(periodKey ? { periodKey } : {}) };
}

// ---------------------------------------------------------------- changes while it runs

const dateTimeSchema = z
  .object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '应为日期，格式如 2023-06-30'), time: timeSchema })
  .strict();

export const extendBodySchema = z
  .object({ deadline: dateTimeSchema, reasonZh: lineText(200).optional() })
  .strict()
  .meta({
    id: 'AdhocDutyExtension',
    example: { deadline: { date: '2023-10-12', time: '18:00' }, reasonZh: '部分乡镇检查任务较重' },
  });

export const cancelBodySchema = z
  .object({ reasonZh: lineText(200) })
  .strict()
  .meta({ id: 'AdhocDutyCancellation', example: { reasonZh: '已并入全县安全生产大检查' } });

export const unitsChangeBodySchema = z
  .object({ add: idList.optional(), remove: idList.optional(), reasonZh: lineText(200).optional() })
  .strict()
  .refine((b) => (b.add?.length ?? 0) + (b.remove?.length ?? 0) > 0, {
    message: '请列出要添加（add）或移出（remove）的单位',
    path: ['add'],
  })
  .meta({ id: 'AdhocDutyUnitsChange', example: { add: ['dept-housing'], reasonZh: '补充责任单位' } });

/** What a change makes of the duty: the duty to store and what to tell, or `undefined` when already applied. */
export interface Revision {
  duty: Duty;
  changes: DutyChange[];
}

function adhocOf(duty: Duty): NonNullable<Duty['adhoc']> {
  if (!duty.adhoc) throw new Error(`${duty.id} is not an ad-hoc duty`);
  return duty.adhoc;
}

/** The period a change is told in: a one-off duty's one period, a recurring duty's current one. */
export function changePeriod(duty: Duty, nowMs: number): string {
  return duty.once?.periodKey ?? periodKeyOf(periodKindOfDuty(duty), shanghaiDateOf(new Date(nowMs)));
}

function withChanges(
  duty: Duty,
  changes: Omit<DutyChange, 'seq' | 'periodKey'>[],
  periodKey: string,
  patch: Partial<Duty> = {},
): Revision {
  const adhoc = adhocOf(duty);
  const numbered = changes.map((c, i) => ({ ...c, periodKey, seq: adhoc.changes.length + i + 1 }));
  const next = { ...duty, ...patch } as Duty;
  return {
    duty: { ...next, adhoc: { ...adhocOf(next), changes: [...adhoc.changes, ...numbered] } },
    changes: numbered,
  };
}

/**
 * The deadline moved later: reminders and escalations are planned anew from it (a new revision of the stages) and
 * the units still owing it are told once. Same year only: the duty's one period is its deadline's year.
 */
export function extendDuty(duty: Duty, input: unknown, nowMs: number): Revision | undefined {
  const body = extendBodySchema.parse(input);
  const once = duty.once;
  if (!once)
    throw invalid([{ field: 'id', problem: '重复进行的专项工作按规则计算每期截止时间，不能单独延期' }]);
  const current = planCycle(duty, once.periodKey).deadline;
  const issues: FieldIssue[] = [];
  let date: string | undefined;
  try {
    date = parseDate(body.deadline.date);
  } catch {
    issues.push({ field: 'deadline.date', problem: '不是有效日期' });
  }
  if (date === undefined) throw invalid(issues);
  const at = shanghaiInstant(date, body.deadline.time).getTime();
  // The same extension again (a retried request): nothing more to change.
  const extendedTo = adhocOf(duty)
    .changes.filter((c) => c.kind === 'extended')
    .at(-1)?.deadline;
  if (at === Date.parse(current) && extendedTo !== undefined && Date.parse(extendedTo) === at)
    return undefined;
  if (at <= nowMs)
    issues.push({ field: 'deadline', problem: `截止时间 ${date} ${body.deadline.time} 已经过去` });
  else if (at <= Date.parse(current))
    issues.push({
      field: 'deadline',
      problem: `新的截止时间应晚于原截止时间（${current.slice(0, 16).replace('T', ' ')}）`,
    });
  if (date.slice(0, 4) !== once.periodKey)
    issues.push({ field: 'deadline.date', problem: `延期后的截止时间须在${once.periodKey}年内` });
  if (issues.length > 0) throw invalid(issues);
  const revised: Duty = {
    ...duty,
    deadline: { type: 'fixed-date', date: date.slice(5), time: body.deadline.time },
    once: { ...once, revision: once.revision + 1 },
  };
  const deadline = planCycle(revised, once.periodKey).deadline;
  return withChanges(
    revised,
    [
      {
        kind: 'extended',
        at: toShanghaiIso(new Date(nowMs)),
        deadline,
        previousDeadline: current,
        ...(body.reasonZh ? { reasonZh: body.reasonZh } : {}),
      },
    ],
    once.periodKey,
  );
}

/**
 * Cancelled: nothing further is owed (a recurring duty starts no more periods), and the units still owing the
 * current period are told why. Again: already applied.
 */
export function cancelDuty(duty: Duty, input: unknown, nowMs: number): Revision | undefined {
  const body = cancelBodySchema.parse(input);
  const adhoc = adhocOf(duty);
  if (adhoc.cancelled) return undefined;
  const at = toShanghaiIso(new Date(nowMs));
  const periodKey = changePeriod(duty, nowMs);
  const revised: Duty = {
    ...duty,
    enabled: false,
    adhoc: { ...adhoc, cancelled: { at, reasonZh: body.reasonZh } },
  };
  return withChanges(
    revised,
    [{ kind: 'cancelled', at, deadline: planCycle(duty, periodKey).deadline, reasonZh: body.reasonZh }],
    periodKey,
  );
}

/**
 * Units added to or removed from the responsible set. Each added unit must exist, be active and not already be
 * responsible; each removed one must be responsible; someone must remain. Units can be added only before the
 * deadline (after it they would be escalated for a deadline nobody told them of: extend it first).
 */
export async function changeDutyUnits(
  duty: Duty,
  input: unknown,
  ctx: { nowMs: number; unit: AdhocRoster['unit']; responsible: (duty: Duty) => Promise<UnitRecord[]> },
): Promise<Revision | undefined> {
  const body = unitsChangeBodySchema.parse(input);
  const adhoc = adhocOf(duty);
  const periodKey = changePeriod(duty, ctx.nowMs);
  const add = [...new Set(body.add ?? [])];
  const remove = [...new Set(body.remove ?? [])];
  const scope = duty.scope ?? {};
  // The same change again (a retried request): every unit already where it was asked to be.
  if (
    add.every((id) => scope.added?.includes(id)) &&
    remove.every((id) => scope.removed?.includes(id)) &&
    adhoc.changes.length > 0
  )
    return undefined;
  const issues: FieldIssue[] = [];
  const deadline = planCycle(duty, periodKey).deadline;
  if (add.length > 0 && Date.parse(deadline) <= ctx.nowMs)
    issues.push({
      field: 'add',
      problem: duty.once
        ? '截止时间已过，不能再添加单位；请先延期'
        : '本期截止时间已过，请在下一期开始后再添加单位',
    });
  const current = new Set((await ctx.responsible(duty)).map((u) => u.id));
  for (const [i, id] of add.entries()) {
    const u = await ctx.unit(id);
    if (!u || !u.active) issues.push({ field: `add[${i}]`, problem: `未知或已停用的单位：${id}` });
    else if (current.has(id)) issues.push({ field: `add[${i}]`, problem: `${u.name}已是本项工作的责任单位` });
    if (remove.includes(id)) issues.push({ field: `add[${i}]`, problem: `${id}同时出现在添加和移出中` });
  }
  for (const [i, id] of remove.entries())
    if (!current.has(id)) issues.push({ field: `remove[${i}]`, problem: `不是本项工作的责任单位：${id}` });
  if (issues.length > 0) throw invalid(issues);
  const left = [...current].filter((id) => !remove.includes(id)).length + add.length;
  if (left === 0)
    throw invalid([{ field: 'remove', problem: '移出后没有任何责任单位；如不再需要，请取消本项工作' }]);

  const added = [...new Set([...(scope.added ?? []), ...add])].filter((id) => !remove.includes(id));
  const removed = [...new Set([...(scope.removed ?? []), ...remove])].filter((id) => !add.includes(id));
  const nextScope = {
    ...scope,
    ...(added.length > 0 ? { added } : { added: undefined }),
    ...(removed.length > 0 ? { removed } : { removed: undefined }),
  };
  const cleaned = Object.fromEntries(Object.entries(nextScope).filter(([, v]) => v !== undefined));
  const at = toShanghaiIso(new Date(ctx.nowMs));
  const reason = body.reasonZh ? { reasonZh: body.reasonZh } : {};
  return withChanges(
    duty,
    [
      ...(add.length > 0 ? [{ kind: 'units-added' as const, at, deadline, units: add, ...reason }] : []),
      ...(remove.length > 0
        ? [{ kind: 'units-removed' as const, at, deadline, units: remove, ...reason }]
        : []),
    ],
    periodKey,
    { scope: cleaned },
  );
}
