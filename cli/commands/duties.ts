import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UNIT_KIND_CHOICES_ZH, unitKindOf } from '../../workflows/catalog/schema.ts';
import { parse } from '../main.ts';
import { COMMON, InputRejected, call, callAllPages, run, target } from '../api-client.ts';
import { UsageError, type Io, fileProblemZh } from '../output.ts';
import { templateByName } from '../../functions/core/adhoc-templates.ts';

const USAGE = `用法：
  safeduty duties create --title 标题 --instruction 工作要求 --deadline "2023-09-27 18:00" --kinds 乡镇[,县直部门…]
        [--towns 镇ID,…] [--departments 部门ID,…] [--units 单位ID,…] [--attributes 燃气,…] [--document 文号] [--evidence 报送材料] [--id 编号]
        [--field 检查情况 --field 发现隐患数:数字 --field 备注:选填 …] [--attach 现场照片[:必传]]   单位报送表的各项和附件
      或 --workdays N [--time 17:00]（自今天起第 N 个工作日截止）；或 --file 专项工作.json（完整请求，含提醒与督办设置）
      或重复进行：--every 周五|每月15日 --from 2023-06-01 --until 2023-09-30 [--time 17:00]（逢节假日提前到前一个工作日）
  safeduty duties create --template 国庆节前检查|春节节前检查|五一节前检查|汛前检查 [--year 2023] [以上任意选项]
      按模板发起：截止时间按官方日历计算（放假或汛期开始前第2个工作日18:00），其余选项覆盖模板内容
  safeduty duties templates [--year 2023]   列出模板及其计算出的日期
  safeduty duties list   列出管理员发起的专项工作
  safeduty duties extend 编号 --deadline "2023-10-12 18:00" [--reason 原因]   延期（提醒与督办随之顺延，未报送单位收到一次通知）
  safeduty duties cancel 编号 --reason 原因                                 取消（不再发送提醒与督办，未报送单位收到一次通知）
  safeduty duties units 编号 [--add 单位ID,…] [--remove 单位ID,…] [--reason 原因]   添加或移出责任单位`;

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(/[,，、\s]+/)
        .map((s) => s.trim())
        .filter(Boolean);

export async function dutiesCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') return create(rest, io);
  if (sub === 'list') return listAdhoc(rest, io);
  if (sub === 'templates') return listTemplates(rest, io);
  if (sub === 'extend' || sub === 'cancel' || sub === 'units') return change(sub, rest, io);
  throw new UsageError(USAGE);
}

async function create(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    file: { type: 'string' },
    id: { type: 'string' },
    title: { type: 'string' },
    instruction: { type: 'string' },
    document: { type: 'string' },
    evidence: { type: 'string' },
    kinds: { type: 'string' },
    towns: { type: 'string' },
    departments: { type: 'string' },
    units: { type: 'string' },
    attributes: { type: 'string' },
    field: { type: 'string', multiple: true },
    attach: { type: 'string' },
    deadline: { type: 'string' },
    workdays: { type: 'string' },
    time: { type: 'string' },
    every: { type: 'string' },
    from: { type: 'string' },
    until: { type: 'string' },
    template: { type: 'string' },
    year: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}\n${USAGE}`);
  let body: Record<string, unknown> | undefined;
  let template: string | undefined;
  if (values.template !== undefined) {
    template = templateByName(values.template.trim());
    if (!template)
      throw new UsageError(
        `没有名为“${values.template}”的模板，可用：春节节前检查、五一节前检查、国庆节前检查、汛前检查`,
      );
    if (values.year !== undefined && !/^\d{4}$/.test(values.year))
      throw new UsageError('--year 应为四位年份，如 2023');
  } else if (values.file !== undefined) {
    try {
      body = JSON.parse(readFileSync(resolve(values.file), 'utf8').replace(/^\uFEFF/, '')) as Record<
        string,
        unknown
      >;
    } catch (err) {
      throw new UsageError(`无法读取专项工作文件 ${values.file}：${fileProblemZh(err)}`);
    }
  } else {
    if (!values.title || !values.instruction)
      throw new UsageError(`请给出 --title 和 --instruction，或用 --template 选用模板。\n${USAGE}`);
    if (values.every === undefined && values.deadline === undefined && values.workdays === undefined)
      throw new UsageError(
        `请给出截止时间：--deadline "2023-09-27 18:00"、--workdays 5，或重复进行的 --every 周五。\n${USAGE}`,
      );
  }
  // Flags given beside a template replace what the template says.
  const flags = fromFlags(values);
  const t = target(values);
  return run(io, async () => {
    if (template) {
      const found = await call(t, 'GET', `/adhoc-templates${values.year ? `?year=${values.year}` : ''}`);
      const listed = found.json as {
        templates: { id: string; request: Record<string, unknown> }[];
        unavailable: { id: string; nameZh: string; reasonZh: string }[];
      };
      const chosen = listed.templates.find((x) => x.id === template);
      if (!chosen) {
        const why = listed.unavailable.find((x) => x.id === template);
        throw new InputRejected(`模板“${why?.nameZh ?? template}”${why?.reasonZh ?? '暂不可用'}`, []);
      }
      const responsible = { ...(chosen?.request.responsible as object), ...(flags.responsible as object) };
      body = { ...chosen?.request, ...flags, responsible };
    }
    body ??= flags;
    const r = await call(t, 'POST', '/duties', { body: JSON.stringify(body), idempotent: true });
    if (values.json) return io.out(r.text);
    const d = r.json as AdhocView & { responsibleCount: number; periodKey: string | null };
    const verb = r.status === 201 ? '已发起' : '此前已发起';
    if (d.activeDates)
      io.out(
        `${verb}重复进行的专项工作“${d.titleZh}”（编号 ${d.id}）：${scheduleZh(d)}，责任单位 ${d.responsibleCount} 个。` +
          (d.deadlineAt ? `本期截止 ${minute(d.deadlineAt)}。` : '首期到期时自动开始。') +
          '提醒与督办按设置自动发送。',
      );
    else
      io.out(
        `${verb}专项工作“${d.titleZh}”（编号 ${d.id}，周期 ${d.periodKey}）：` +
          `截止 ${minute(d.deadlineAt ?? '')}，责任单位 ${d.responsibleCount} 个。提醒与督办按设置自动发送。`,
      );
  });
}

async function listAdhoc(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, COMMON);
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  const t = target(values);
  return run(io, async () => {
    const { items } = await callAllPages(t, '/adhoc-duties', 'duties');
    if (values.json) return io.out(JSON.stringify({ count: items.length, duties: items }));
    const duties = items as (AdhocView & { status: string; documentNo?: string })[];
    io.out(`共 ${duties.length} 项专项工作：`);
    for (const d of duties)
      io.out(
        `  ${d.id}  ${d.titleZh}${d.documentNo ? `（${d.documentNo}）` : ''}  ` +
          (d.activeDates ? scheduleZh(d) : `截止 ${minute(d.deadlineAt ?? '')}`) +
          `${d.status === 'cancelled' ? '  [已取消]' : ''}`,
      );
  });
}

/** `--deadline "2023-09-27 18:00"` (the time defaults to `--time`, else 18:00). */
function dateTime(text: string, time: string | undefined): { date: string; time: string } {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}))?$/.exec(text.trim());
  if (!m) throw new UsageError('--deadline 应为“日期 时刻”，如 "2023-09-27 18:00"');
  return { date: m[1] as string, time: m[2] ?? time ?? '18:00' };
}

const CHANGE_DONE = { extend: '已延期', cancel: '已取消', units: '已调整责任单位：' } as const;

/** A change to a running ad-hoc duty: extend, cancel, add or remove units. */
async function change(kind: 'extend' | 'cancel' | 'units', args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    deadline: { type: 'string' },
    time: { type: 'string' },
    reason: { type: 'string' },
    add: { type: 'string' },
    remove: { type: 'string' },
  });
  const [id, ...extra] = positionals;
  if (!id) throw new UsageError(`请给出专项工作编号（见 safeduty duties list）。\n${USAGE}`);
  if (extra.length > 0) throw new UsageError(`多余的参数：${extra.join(' ')}\n${USAGE}`);
  const reason = values.reason ? { reasonZh: values.reason } : {};
  let body: Record<string, unknown>;
  if (kind === 'extend') {
    if (values.deadline === undefined)
      throw new UsageError('请用 --deadline 给出新的截止时间，如 "2023-10-12 18:00"');
    body = { deadline: dateTime(values.deadline, values.time), ...reason };
  } else if (kind === 'cancel') {
    if (!values.reason) throw new UsageError('请用 --reason 写明取消原因（会告知各责任单位）');
    body = reason;
  } else {
    if (values.add === undefined && values.remove === undefined)
      throw new UsageError('请用 --add 或 --remove 列出单位编号，如 --add town-001,ent-0003');
    body = {
      ...(values.add !== undefined ? { add: list(values.add) } : {}),
      ...(values.remove !== undefined ? { remove: list(values.remove) } : {}),
      ...reason,
    };
  }
  const t = target(values);
  return run(io, async () => {
    const r = await call(t, 'POST', `/adhoc-duties/${encodeURIComponent(id)}/${kind}`, {
      body: JSON.stringify(body),
      idempotent: true,
    });
    if (values.json) return io.out(r.text);
    const d = r.json as {
      titleZh: string;
      deadlineAt: string;
      applied: { kind: string; units?: string[] }[];
    };
    const when = d.deadlineAt.slice(0, 16).replace('T', ' ');
    if (d.applied.length === 0) return io.out(`“${d.titleZh}”此前已作此修改，未再变更。`);
    if (kind === 'extend')
      io.out(
        `“${d.titleZh}”${CHANGE_DONE.extend}至 ${when}；未报送的单位将收到一次延期通知，提醒与督办随之顺延。`,
      );
    else if (kind === 'cancel')
      io.out(`“${d.titleZh}”${CHANGE_DONE.cancel}；未报送的单位将收到一次取消通知，此后不再发送提醒与督办。`);
    else {
      const added = d.applied.find((c) => c.kind === 'units-added')?.units ?? [];
      const removed = d.applied.find((c) => c.kind === 'units-removed')?.units ?? [];
      io.out(
        `“${d.titleZh}”${CHANGE_DONE.units}` +
          [
            added.length > 0 ? `添加 ${added.join('、')}` : '',
            removed.length > 0 ? `移出 ${removed.join('、')}` : '',
          ]
            .filter(Boolean)
            .join('，') +
          '；相关单位将各收到一次通知。',
      );
    }
  });
}

interface AdhocView {
  id: string;
  titleZh: string;
  deadlineAt: string | null;
  cadence: { kind: string };
  deadline: { type: string; days?: number; time: string };
  activeDates?: { from: string; until: string };
}

const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
const WEEKDAYS = ['一', '二', '三', '四', '五', '六', '日'];

/** `每周五 17:00 截止（2023-06-01 至 2023-09-30）`. */
function scheduleZh(d: AdhocView): string {
  const days = d.deadline.days ?? 0;
  const when = d.cadence.kind === 'weekly' ? `每周${WEEKDAYS[days] ?? ''}` : `每月${days + 1}日`;
  return `${when} ${d.deadline.time} 截止（${d.activeDates?.from} 至 ${d.activeDates?.until}）`;
}

/** `--every 周五` / `星期五` / `每月15日` with `--from`, `--until` and `--time`. */
function recurrence(values: { every?: string; from?: string; until?: string; time?: string }): unknown {
  const every = (values.every ?? '').trim();
  const week = /^(?:每)?(?:周|星期)([一二三四五六日天])$/.exec(every);
  const month = /^(?:每)?月?(\d{1,2})[日号]?$/.exec(every.replace(/^每月/, ''));
  if (!values.from || !values.until)
    throw new UsageError(
      '重复进行的专项工作请用 --from 和 --until 给出起止日期，如 --from 2023-06-01 --until 2023-09-30',
    );
  const base = { time: values.time ?? '17:00', from: values.from, until: values.until };
  if (week) {
    const day = week[1] === '天' ? '日' : (week[1] as string);
    return { every: 'week', weekday: WEEKDAYS.indexOf(day) + 1, ...base };
  }
  if (month && every.startsWith('每月')) return { every: 'month', day: Number(month[1]), ...base };
  throw new UsageError(`--every 应为“周五”（每周）或“每月15日”（每月），不是“${every}”`);
}

const FIELD_TYPES: Record<string, string> = { 数字: 'number', 一行: 'text', 名单: 'names', 多行: 'textarea' };

/**
 * The unit form from `--field 名称[:数字|一行|名单|多行][:选填]` (in order) and `--attach 材料[:必传]`: what each unit
 * fills in on its page. Fields are keyed field1, field2 … in the order given.
 */
function formFromFlags(
  fields: string[] | undefined,
  attach: string | undefined,
): Record<string, unknown> | undefined {
  if (!fields?.length && attach === undefined) return undefined;
  const parsed = (fields ?? []).map((spec, i) => {
    const [label, ...flags] = spec.split(/[:：]/).map((s) => s.trim());
    if (!label)
      throw new UsageError(`--field 缺少名称：“${spec}”，应如 --field 检查情况 或 --field 发现隐患数:数字`);
    const type = flags.map((f) => FIELD_TYPES[f]).find(Boolean) ?? 'textarea';
    for (const f of flags)
      if (!FIELD_TYPES[f] && f !== '选填')
        throw new UsageError(`--field 中的“${f}”不认识，可写：数字、一行、名单、多行、选填`);
    return { key: `field${i + 1}`, labelZh: label, type, required: !flags.includes('选填') };
  });
  const [attachLabel, attachFlag] = (attach ?? '').split(/[:：]/).map((s) => s.trim());
  if (attach !== undefined && (!attachLabel || (attachFlag !== undefined && attachFlag !== '必传')))
    throw new UsageError('--attach 应如 --attach 现场照片 或 --attach 检查记录:必传');
  return {
    fields: parsed,
    ...(attachLabel
      ? { attachments: { labelZh: attachLabel, required: attachFlag === '必传', max: 5 } }
      : {}),
  };
}

/** The parts of a creation request the flags give (beside a template, they replace its parts). */
function fromFlags(values: Record<string, string | boolean | string[] | undefined>): Record<string, unknown> {
  const v = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const kinds = list(v('kinds'))?.map((k) => {
    const kind = unitKindOf(k);
    if (!kind) throw new UsageError(`--kinds 中的“${k}”不是单位类型，应为：${UNIT_KIND_CHOICES_ZH}`);
    return kind;
  });
  let when: Record<string, unknown> = {};
  if (v('every') !== undefined)
    when = {
      recurrence: recurrence({ every: v('every'), from: v('from'), until: v('until'), time: v('time') }),
    };
  else if (v('deadline') !== undefined) when = { deadline: dateTime(v('deadline') as string, v('time')) };
  else if (v('workdays') !== undefined) {
    if (!/^\d{1,3}$/.test(v('workdays') as string)) throw new UsageError('--workdays 应为工作日天数，如 5');
    when = { deadline: { workdaysFromStart: Number(v('workdays')), time: v('time') ?? '17:00' } };
  }
  const responsible = {
    ...(kinds ? { kinds } : {}),
    ...(v('towns') ? { towns: list(v('towns')) } : {}),
    ...(v('departments') ? { departments: list(v('departments')) } : {}),
    ...(v('units') ? { units: list(v('units')) } : {}),
    ...(v('attributes') ? { attributes: list(v('attributes')) } : {}),
  };
  const form = formFromFlags(values.field as string[] | undefined, v('attach'));
  return {
    ...(form ? { form } : {}),
    ...(v('id') ? { id: v('id') } : {}),
    ...(v('title') ? { titleZh: v('title') } : {}),
    ...(v('instruction') ? { instructionZh: v('instruction') } : {}),
    ...(v('document') ? { documentNo: v('document') } : {}),
    ...(v('evidence') ? { evidenceZh: v('evidence') } : {}),
    ...(Object.keys(responsible).length > 0 ? { responsible } : {}),
    ...when,
  };
}

async function listTemplates(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON, year: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  if (values.year !== undefined && !/^\d{4}$/.test(values.year))
    throw new UsageError('--year 应为四位年份，如 2023');
  const t = target(values);
  return run(io, async () => {
    const r = await call(t, 'GET', `/adhoc-templates${values.year ? `?year=${values.year}` : ''}`);
    if (values.json) return io.out(r.text);
    const { templates, unavailable } = r.json as {
      templates: {
        nameZh: string;
        year: number;
        ruleZh: string;
        request: { deadline: { date: string; time: string } };
      }[];
      unavailable: { nameZh: string; reasonZh: string }[];
    };
    io.out(`共 ${templates.length} 个模板（safeduty duties create --template 名称）：`);
    for (const x of templates)
      io.out(
        `  ${x.nameZh}  ${x.year}年：${x.request.deadline.date} ${x.request.deadline.time} 截止（${x.ruleZh}）`,
      );
    for (const x of unavailable) io.out(`  ${x.nameZh}  ${x.reasonZh}`);
  });
}
