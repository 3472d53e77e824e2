import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UNIT_KINDS, UNIT_KIND_ZH, type UnitKind } from '../../workflows/catalog/schema.ts';
import { parse } from '../main.ts';
import { COMMON, call, callAllPages, run, target } from '../api-client.ts';
import { UsageError, type Io } from '../output.ts';

const USAGE = `用法：
  safeduty duties create --title 标题 --instruction 工作要求 --deadline "2023-09-27 18:00" --kinds 乡镇[,县直部门…]
        [--towns 镇ID,…] [--departments 部门ID,…] [--units 单位ID,…] [--document 文号] [--evidence 报送材料] [--id 编号]
      或 --workdays N [--time 17:00]（自今天起第 N 个工作日截止）；或 --file 专项工作.json（完整请求，含提醒与督办设置）
  safeduty duties list   列出管理员发起的专项工作`;

/** Unit kinds as people write them: the Chinese names (乡镇, 企业…) or the codes. */
const KIND_NAMES: Record<string, UnitKind> = {
  乡镇: 'town',
  镇: 'town',
  县直部门: 'county-department',
  部门: 'county-department',
  企业: 'enterprise',
  班组场点: 'site',
  场点: 'site',
  县级议事机构: 'county-body',
  ...Object.fromEntries(Object.entries(UNIT_KIND_ZH).map(([k, zh]) => [zh, k as UnitKind])),
  ...Object.fromEntries(UNIT_KINDS.map((k) => [k, k])),
};

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
    deadline: { type: 'string' },
    workdays: { type: 'string' },
    time: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}\n${USAGE}`);
  let body: Record<string, unknown>;
  if (values.file !== undefined) {
    try {
      body = JSON.parse(readFileSync(resolve(values.file), 'utf8').replace(/^\uFEFF/, '')) as Record<
        string,
        unknown
      >;
    } catch (err) {
      throw new UsageError(`无法读取专项工作文件 ${values.file}：${(err as Error).message}`);
    }
  } else {
    if (!values.title || !values.instruction)
      throw new UsageError(`请给出 --title 和 --instruction。\n${USAGE}`);
    const kinds = list(values.kinds)?.map((k) => {
      const kind = KIND_NAMES[k];
      if (!kind)
        throw new UsageError(
          `--kinds 中的“${k}”不是单位类型，应为：乡镇、县直部门、企业、班组场点、县级议事机构`,
        );
      return kind;
    });
    let deadline: Record<string, unknown>;
    if (values.deadline !== undefined) {
      const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}))?$/.exec(values.deadline.trim());
      if (!m) throw new UsageError('--deadline 应为“日期 时刻”，如 "2023-09-27 18:00"');
      deadline = { date: m[1], time: m[2] ?? values.time ?? '18:00' };
    } else if (values.workdays !== undefined) {
      if (!/^\d{1,3}$/.test(values.workdays)) throw new UsageError('--workdays 应为工作日天数，如 5');
      deadline = { workdaysFromStart: Number(values.workdays), time: values.time ?? '17:00' };
    } else throw new UsageError(`请给出截止时间：--deadline "2023-09-27 18:00" 或 --workdays 5。\n${USAGE}`);
    body = {
      ...(values.id ? { id: values.id } : {}),
      titleZh: values.title,
      instructionZh: values.instruction,
      ...(values.document ? { documentNo: values.document } : {}),
      ...(values.evidence ? { evidenceZh: values.evidence } : {}),
      responsible: {
        ...(kinds ? { kinds } : {}),
        ...(values.towns ? { towns: list(values.towns) } : {}),
        ...(values.departments ? { departments: list(values.departments) } : {}),
        ...(values.units ? { units: list(values.units) } : {}),
      },
      deadline,
    };
  }
  const t = target(values);
  return run(io, async () => {
    const r = await call(t, 'POST', '/duties', { body: JSON.stringify(body), idempotent: true });
    if (values.json) return io.out(r.text);
    const d = r.json as {
      id: string;
      titleZh: string;
      deadlineAt: string;
      responsibleCount: number;
      periodKey: string;
    };
    io.out(
      `${r.status === 201 ? '已发起' : '此前已发起'}专项工作“${d.titleZh}”（编号 ${d.id}，周期 ${d.periodKey}）：` +
        `截止 ${d.deadlineAt.slice(0, 16).replace('T', ' ')}，责任单位 ${d.responsibleCount} 个。提醒与督办按设置自动发送。`,
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
    const duties = items as {
      id: string;
      titleZh: string;
      deadlineAt: string;
      status: string;
      documentNo?: string;
    }[];
    io.out(`共 ${duties.length} 项专项工作：`);
    for (const d of duties)
      io.out(
        `  ${d.id}  ${d.titleZh}${d.documentNo ? `（${d.documentNo}）` : ''}  截止 ${d.deadlineAt.slice(0, 16).replace('T', ' ')}` +
          `${d.status === 'cancelled' ? '  [已取消]' : ''}`,
      );
  });
}
