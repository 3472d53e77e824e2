import { seasonRuleZh } from '../../workflows/periods.ts';
import { addWorkdays, checkWorkday, parseDate } from '../../workflows/calendar.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { POSITION_ZH, UNIT_KIND_ZH, type Duty, type Offset } from '../../workflows/catalog/schema.ts';
import { OFFSET_UNIT_ZH } from '../../workflows/cases/schema.ts';
import { planCycle } from '../../workflows/plan.ts';
import { instantLabel, periodLabel } from '../../functions/core/labels.ts';
import { parse } from '../main.ts';
import { EXIT, UsageError, type Io } from '../output.ts';

const CADENCE_ZH: Record<string, string> = {
  daily: '每日',
  weekly: '每周',
  monthly: '每月',
  quarterly: '每季度',
  yearly: '每年',
  seasonal: '季节性',
};

function offsetZh(o: Offset): string {
  const unit = OFFSET_UNIT_ZH[o.unit];
  const side = o.amount < 0 ? '前' : '后';
  return `截止${side}${Math.abs(o.amount)}${unit}${o.at ? `（${o.at}）` : ''}`;
}

function cadenceZh(d: Duty): string {
  return d.cadence.kind === 'seasonal'
    ? `${d.cadence.season.titleZh}（${seasonRuleZh(d.cadence.season)}）`
    : (CADENCE_ZH[d.cadence.kind] ?? d.cadence.kind);
}

/** The roster-based narrowing of a catalog duty, as a county reader would say it (ad-hoc scopes are shown elsewhere). */
function scopeZh(d: Duty): string | undefined {
  const parts: string[] = [];
  const listed = (xs: readonly string[]) => xs.map((x) => `“${x}”`).join('或');
  if (d.scope?.attributes) parts.push(`单位属性为${listed(d.scope.attributes)}的单位`);
  const sup = d.scope?.supervisorsOf;
  if (sup)
    parts.push(
      `主管单位属性为${listed(sup.attributes)}的${sup.kinds.map((k) => UNIT_KIND_ZH[k]).join('、')}的单位（未填主管部门的由县安委办负责）`,
    );
  return parts.length > 0 ? parts.join('；') : undefined;
}

export async function catalogCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, catalog: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  const catalog = loadCatalog(values.catalog ? { file: values.catalog } : {});
  if (values.json) {
    io.out(JSON.stringify({ duties: catalog.duties }, null, 2));
    return EXIT.ok;
  }
  io.out(`职责目录（共 ${catalog.duties.length} 项）：`);
  for (const d of catalog.duties) {
    io.out('');
    io.out(`${d.id}  ${d.titleZh}${d.enabled ? '' : '（已停用）'}`);
    io.out(`  频次：${cadenceZh(d)}；责任单位：${d.responsibleKinds.map((k) => UNIT_KIND_ZH[k]).join('、')}`);
    const scope = scopeZh(d);
    if (scope) io.out(`  范围：${scope}`);
    io.out(`  依据：${d.clause.section}——“${d.clause.quote}”`);
    io.out(`  提醒：${d.reminders.map(offsetZh).join('；') || '无'}`);
    io.out(
      `  督办：${d.escalation.map((e) => `第${e.level}级 ${offsetZh(e.offset)} → ${e.notify.map((p) => POSITION_ZH[p]).join('、')}`).join('；')}`,
    );
  }
  return EXIT.ok;
}

export async function planCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, catalog: { type: 'string' } });
  const [dutyId, periodKey, ...extra] = positionals;
  if (!dutyId || !periodKey || extra.length > 0)
    throw new UsageError('用法：safeduty plan <职责ID> <周期编号> [--json]');
  const catalog = loadCatalog(values.catalog ? { file: values.catalog } : {});
  const plan = planCycle(catalog.require(dutyId), periodKey);
  if (values.json) {
    io.out(JSON.stringify(plan, null, 2));
    return EXIT.ok;
  }
  const duty = catalog.require(dutyId);
  io.out(`${duty.titleZh}（${periodLabel(plan.periodKey, plan.period.start, plan.period.end)}）`);
  io.out(`  办理时段：${instantLabel(plan.window.opensAt)} 至 ${instantLabel(plan.window.closesAt)}`);
  io.out(
    `  截止时间：${instantLabel(plan.deadline)}${plan.deadlineAdjusted ? `（规则日期 ${plan.deadlineAdjusted.ruleDate} 非工作日，已按“${plan.deadlineAdjusted.policy === 'previous-workday' ? '提前至前一工作日' : '顺延至下一工作日'}”调整）` : ''}`,
  );
  for (const s of plan.stages) {
    const what =
      s.kind === 'reminder'
        ? `提醒第${s.level}次`
        : s.kind === 'checkpoint'
          ? '进度检查'
          : s.kind === 'rollup'
            ? (duty.rollup?.titleZh ?? '汇总')
            : `第${s.level}级督办`;
    io.out(`  ${instantLabel(s.at)}  ${what} → ${s.addressed.map((p) => POSITION_ZH[p]).join('、')}`);
  }
  for (const w of plan.warnings) io.out(`  注意：${w}`);
  return EXIT.ok;
}

export async function calendarCommand(args: string[], io: Io): Promise<number> {
  // The deployment's arrangements (status, show, load) go through the API; the rest reads the built-in calendar.
  if (args[0] === 'status' || args[0] === 'show' || args[0] === 'load') {
    const { calendarAdminCommand } = await import('./calendar-admin.ts');
    return calendarAdminCommand(args[0], args.slice(1), io);
  }
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  const [sub, ...rest] = positionals;
  if (sub === 'is-workday') {
    const [date, ...extra] = rest;
    if (!date || extra.length > 0)
      throw new UsageError('用法：safeduty calendar is-workday <日期 YYYY-MM-DD> [--json]');
    const d = parseDate(date);
    const r = checkWorkday(d);
    if (values.json) io.out(JSON.stringify({ date: d, workday: r.workday, reason: r.reason }));
    else io.out(`${d}：${r.workday ? '工作日' : '休息日'}（${r.reason}）`);
    return EXIT.ok;
  }
  if (sub === 'add-workdays') {
    const [date, n, ...extra] = rest;
    if (!date || n === undefined || extra.length > 0)
      throw new UsageError('用法：safeduty calendar add-workdays <日期> <天数> [--json]');
    if (!/^[-+]?\d{1,4}$/.test(n)) throw new UsageError(`天数应为整数：${n}`);
    const from = parseDate(date);
    const result = addWorkdays(from, Number(n));
    if (values.json) io.out(JSON.stringify({ from, workdays: Number(n), date: result }));
    else io.out(`${from} ${Number(n) >= 0 ? '之后' : '之前'}第 ${Math.abs(Number(n))} 个工作日：${result}`);
    return EXIT.ok;
  }
  throw new UsageError(
    '用法：safeduty calendar is-workday <日期> | add-workdays <日期> <天数> | status | show <年份> | load <安排.json>',
  );
}
