import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { UNIT_KINDS, UNIT_KIND_ZH, type UnitKind } from '../../workflows/catalog/schema.ts';
import { parse } from '../main.ts';
import { COMMON, call, run, target } from '../api-client.ts';
import { UsageError, type Io } from '../output.ts';

const counts = (c: { created: number; updated: number; unchanged: number }) =>
  `新增 ${c.created}、更新 ${c.updated}、未变 ${c.unchanged}`;

export async function unitsCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'import') return unitsImport(rest, io);
  if (sub === 'list') return unitsList(rest, io);
  throw new UsageError(
    '用法：safeduty units import <名册文件.csv|.json> [--api URL]，或 safeduty units list [--kind 类型] [--all]',
  );
}

async function unitsImport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, COMMON);
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0)
    throw new UsageError('用法：safeduty units import <名册文件.csv|.json> [--api URL]');
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new UsageError(`无法读取名册文件 ${file}：${(err as Error).message}`);
  }
  const ext = extname(file).toLowerCase();
  const isCsv =
    ext === '.csv' ||
    (ext !== '.json' &&
      !text
        .replace(/^\uFEFF/, '')
        .trimStart()
        .startsWith('{'));
  if (!isCsv) {
    try {
      JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new UsageError(`名册文件不是有效的 JSON：${(err as Error).message}`);
    }
  }
  const t = target(values);
  return run(io, async () => {
    const r = await call(t, 'POST', '/units/import', {
      body: isCsv ? text : text.replace(/^\uFEFF/, ''),
      contentType: isCsv ? 'text/csv; charset=utf-8' : 'application/json',
      idempotent: true,
    });
    if (values.json) return io.out(r.text);
    const s = r.json as { units: Parameters<typeof counts>[0]; leaders: Parameters<typeof counts>[0] };
    io.out(`名册已导入：单位 ${counts(s.units)}；县领导 ${counts(s.leaders)}。`);
  });
}

async function unitsList(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    kind: { type: 'string' },
    all: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  if (values.kind !== undefined && !(UNIT_KINDS as readonly string[]).includes(values.kind))
    throw new UsageError(`--kind 应为以下之一：${UNIT_KINDS.join('、')}`);
  const t = target(values);
  return run(io, async () => {
    const q = new URLSearchParams();
    if (values.kind) q.set('kind', values.kind);
    if (values.all) q.set('includeInactive', 'true');
    const r = await call(t, 'GET', `/units${q.size ? `?${q}` : ''}`);
    if (values.json) return io.out(r.text);
    const { units } = r.json as { units: { id: string; name: string; kind: UnitKind; active: boolean }[] };
    io.out(`共 ${units.length} 个单位：`);
    for (const u of units)
      io.out(`  ${u.id}  ${u.name}  （${UNIT_KIND_ZH[u.kind] ?? u.kind}）${u.active ? '' : '  [已停用]'}`);
  });
}

export async function submitCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON, note: { type: 'string' } });
  const [dutyId, periodKey, unitId, ...extra] = positionals;
  if (!dutyId || !periodKey || !unitId || extra.length > 0)
    throw new UsageError('用法：safeduty submit <职责ID> <周期编号> <单位ID> [--note 说明] [--api URL]');
  const t = target(values);
  return run(io, async () => {
    const r = await call(
      t,
      'POST',
      `/cycles/${encodeURIComponent(dutyId)}/${encodeURIComponent(periodKey)}/submissions`,
      { body: JSON.stringify({ unitId, note: values.note ?? '' }), idempotent: true },
    );
    if (values.json) return io.out(r.text);
    const s = r.json as {
      unitId: string;
      dutyId: string;
      periodKey: string;
      submittedAt: string;
      late: boolean;
    };
    io.out(
      r.status === 201
        ? `已记录：${s.unitId} 完成 ${s.dutyId}（${s.periodKey}），时间 ${s.submittedAt}${s.late ? '（逾期提交）' : ''}。`
        : `此前已记录：${s.unitId} 于 ${s.submittedAt} 完成 ${s.dutyId}（${s.periodKey}），未重复记录。`,
    );
  });
}

export async function overdueCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON, csv: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  if (values.csv && values.json) throw new UsageError('--csv 与 --json 只能选一个');
  const t = target(values);
  return run(io, async () => {
    if (values.csv) {
      const r = await call(t, 'GET', '/overdue?format=csv');
      // Keep the byte order mark: redirected to a file, the CSV opens in Excel with its Chinese intact.
      return io.out(r.text.replace(/\r\n$/, ''));
    }
    const r = await call(t, 'GET', '/overdue');
    if (values.json) return io.out(r.text);
    const { asOf, items } = r.json as {
      asOf: string;
      items: {
        unitId: string;
        unitName: string;
        titleZh: string;
        workdaysOverdue: number;
        escalationLevel: number;
      }[];
    };
    if (items.length === 0) return io.out(`截至 ${asOf}，没有逾期未完成的事项。`);
    io.out(`截至 ${asOf}，逾期未完成 ${items.length} 项：`);
    for (const i of items)
      io.out(
        `  ${i.unitName}（${i.unitId}）  ${i.titleZh}  逾期 ${i.workdaysOverdue} 个工作日${i.escalationLevel ? `，已第 ${i.escalationLevel} 级督办` : ''}`,
      );
  });
}
