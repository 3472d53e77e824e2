// Ad-hoc duties (专项工作, 节前安全检查, one-off collections): created by an administrator at run time and run as a
// cycle of the same duty-cycle machine, with the same notices, delivery, links, overdue ledger and audit as the
// catalog's duties. An ad-hoc duty is an ordinary catalog duty underneath — one yearly period, a fixed-date
// deadline kept as given — so nothing downstream needs to know it was not in the catalog file.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Catalog } from '../../workflows/catalog/index.ts';
import {
  DUTY_ID_PATTERN,
  dutySchema,
  escalationLevelSchema,
  inDutyScope,
  offsetSchema,
  unitKindSchema,
  type Duty,
  type UnitKind,
} from '../../workflows/catalog/schema.ts';
import { addWorkdays, parseDate, shanghaiDateOf, shanghaiInstant } from '../../workflows/calendar.ts';
import { planCycle } from '../../workflows/plan.ts';
import type { UnitRecord } from './model.ts';
import { fieldPath, ValidationError, type FieldIssue } from './errors.ts';
import { freeText, lineText } from './text.ts';

const timeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, '应为时刻 HH:MM');
const idList = z.array(z.string().min(1).max(63)).min(1).max(5000);

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
      })
      .strict(),
    deadline: z.union([
      z
        .object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '应为日期 YYYY-MM-DD'), time: timeSchema })
        .strict(),
      z.object({ workdaysFromStart: z.number().int().min(1).max(120), time: timeSchema }).strict(),
    ]),
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
  /** Active units of these kinds. */
  activeOfKinds(kinds: readonly UnitKind[]): Promise<UnitRecord[]>;
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
): Promise<{ duty: Duty; body: z.output<typeof adhocDutyBodySchema>; responsibleCount: number }> {
  const body = adhocDutyBodySchema.parse(input);
  const issues: FieldIssue[] = [];
  const id = body.id ?? ctx.newId();
  // An ad-hoc duty's own id again is a retry (the route compares the requests); a catalog duty's id is taken.
  const known = ctx.catalog.get(id);
  if (known && !known.once) issues.push({ field: 'id', problem: '该编号已被目录中的职责使用' });

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
  if (issues.length > 0) throw invalid(issues);

  const periodKey = (deadlineDate as string).slice(0, 4);
  const candidate = {
    id,
    titleZh: body.titleZh,
    clause: { section: body.documentNo ?? '县安委办专项工作', quote: body.instructionZh },
    responsibleKinds: kinds,
    cadence: { kind: 'yearly' },
    deadline: { type: 'fixed-date', date: (deadlineDate as string).slice(5), time },
    nonWorkdayPolicy: 'keep',
    evidenceZh: body.evidenceZh,
    reminders: body.reminders ?? DEFAULT_LADDER.reminders,
    escalation: body.escalation ?? DEFAULT_LADDER.escalation,
    enabled: true,
    ...(r.towns || r.departments || r.units
      ? {
          scope: {
            ...(r.towns ? { towns: r.towns } : {}),
            ...(r.departments ? { departments: r.departments } : {}),
            ...(r.units ? { units: r.units } : {}),
          },
        }
      : {}),
    once: { periodKey },
  };
  const parsed = dutySchema.safeParse(candidate);
  if (!parsed.success)
    throw invalid(parsed.error.issues.map((i) => ({ field: fieldPath(i.path), problem: i.message })));
  const duty = parsed.data;
  try {
    planCycle(duty, periodKey);
  } catch (err) {
    throw invalid([{ field: 'deadline', problem: (err as { messageZh?: string }).messageZh ?? String(err) }]);
  }

  const responsible = (await ctx.roster.activeOfKinds(kinds)).filter((u) => inDutyScope(duty, u));
  if (responsible.length === 0)
    throw invalid([{ field: 'responsible', problem: '按此范围没有任何在册的责任单位' }]);
  return { duty, body, responsibleCount: responsible.length };
}

/** The instant an ad-hoc duty's deadline falls at (its one period). */
export function adhocDeadline(duty: Duty): string {
  return planCycle(duty, duty.once?.periodKey ?? '').deadline;
}
