import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import {
  UNIT_KIND_CHOICES_ZH,
  UNIT_KIND_ZH,
  unitKindOf,
  type UnitKind,
} from '../../workflows/catalog/schema.ts';
import { parse } from '../main.ts';
import { COMMON, InputRejected, call, callAllPages, run, target, type Target } from '../api-client.ts';
import type { Leader, Unit } from '../../functions/core/model.ts';
import { crossCheck, parseRosterCsv, parseRosterJson } from '../../functions/core/roster-import.ts';
import { UsageError, type Io, fileProblemZh } from '../output.ts';

const counts = (c: { created: number; updated: number; unchanged: number }) =>
  `新增 ${c.created}、更新 ${c.updated}、未变 ${c.unchanged}`;

export async function unitsCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'import') return unitsImport(rest, io);
  if (sub === 'list') return unitsList(rest, io);
  throw new UsageError(
    '用法：safeduty units import <名册文件.csv|.json> [--api 地址]，或 safeduty units list [--kind 类型] [--all] [--undeliverable]',
  );
}

async function unitsImport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, COMMON);
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0)
    throw new UsageError('用法：safeduty units import <名册文件.csv|.json> [--api 地址]');
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new UsageError(`无法读取名册文件 ${file}：${fileProblemZh(err)}`);
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
    } catch {
      throw new UsageError('名册文件不是有效的 JSON，请检查括号、引号和逗号');
    }
  }
  const t = target(values);
  // Over the API's 1 MiB body limit (a city's roster): checked whole here, then sent in batches.
  if (Buffer.byteLength(text) > ONE_REQUEST_BYTES)
    return importInBatches(t, text, isCsv, io, values.json === true);
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

/** A roster file larger than this goes in batches (the API takes bodies up to 1 MiB). */
const ONE_REQUEST_BYTES = 1024 * 1024 - 16 * 1024;
/** The JSON body of one batch stays under this. */
const BATCH_BYTES = 700 * 1024;

/**
 * A roster too large for one request: parsed and checked whole, with the API's own rules (every row, every
 * reference, against what is stored) before anything is written; then sent as JSON batches, leaders first and each
 * unit after the units it refers to, so every batch passes the API's checks. A batch that fails leaves the earlier
 * ones written; running the same command again is safe (rows already imported count as unchanged).
 */
async function importInBatches(
  t: Target,
  text: string,
  isCsv: boolean,
  io: Io,
  json: boolean,
): Promise<number> {
  const parsed = isCsv
    ? parseRosterCsv(text)
    : parseRosterJson(JSON.parse(text.replace(/^\uFEFF/, '')) as unknown);
  const { units, leaders } = parsed.located;
  return run(io, async () => {
    if (parsed.issues.length > 0)
      throw new InputRejected(`名册有 ${parsed.issues.length} 处问题，未写入任何数据：`, parsed.issues);
    const [stored, storedLeaders] = await Promise.all([
      callAllPages(t, '/units?includeInactive=true', 'units'),
      callAllPages(t, '/leaders', 'leaders'),
    ]);
    const cross = crossCheck(parsed.located, {
      units: stored.items as Unit[],
      leaders: storedLeaders.items as Leader[],
    });
    if (cross.length > 0) throw new InputRejected(`名册有 ${cross.length} 处问题，未写入任何数据：`, cross);
    const batches = batchesOf(orderByReference(units), leaders);
    const total = {
      units: { created: 0, updated: 0, unchanged: 0 },
      leaders: { created: 0, updated: 0, unchanged: 0 },
    };
    let done = 0;
    for (const [n, batch] of batches.entries()) {
      try {
        const r = await call(t, 'POST', '/units/import', {
          body: JSON.stringify(batch),
          contentType: 'application/json',
          idempotent: true,
        });
        const s = r.json as typeof total;
        for (const k of ['units', 'leaders'] as const)
          for (const c of ['created', 'updated', 'unchanged'] as const) total[k][c] += s[k][c];
      } catch (err) {
        io.err(
          `第 ${n + 1}/${batches.length} 批导入失败${n > 0 ? `；此前 ${n} 批（单位 ${done} 个）已写入` : ''}。` +
            '改正后重新运行同一命令即可，已导入的单位计为“未变”。',
        );
        throw err;
      }
      done += batch.units.length;
      if (!json) io.out(`第 ${n + 1}/${batches.length} 批已导入（单位 ${done}/${units.length}）`);
    }
    if (json) return io.out(JSON.stringify({ ...total, batches: batches.length }));
    io.out(
      `名册已导入（${batches.length} 批）：单位 ${counts(total.units)}；县领导 ${counts(total.leaders)}。`,
    );
  });
}

/** Units after the units of the same file they name (parent, supervising department): each batch checks alone. */
function orderByReference(units: readonly Unit[]): Unit[] {
  const inFile = new Map(units.map((u) => [u.id, u]));
  const placed = new Set<string>();
  const out: Unit[] = [];
  const visit = (u: Unit, path: Set<string>) => {
    if (placed.has(u.id) || path.has(u.id)) return;
    path.add(u.id);
    for (const ref of [u.parentId, u.supervisingDepartmentId]) {
      const dep = ref === undefined ? undefined : inFile.get(ref);
      if (dep) visit(dep, path);
    }
    placed.add(u.id);
    out.push(u);
  };
  for (const u of units) visit(u, new Set());
  return out;
}

function batchesOf(
  units: readonly Unit[],
  leaders: readonly Leader[],
): { leaders: Leader[]; units: Unit[] }[] {
  const batches: { leaders: Leader[]; units: Unit[] }[] = [];
  let current: { leaders: Leader[]; units: Unit[] } = { leaders: [...leaders], units: [] };
  let size = Buffer.byteLength(JSON.stringify(current));
  for (const u of units) {
    const bytes = Buffer.byteLength(JSON.stringify(u)) + 1;
    if (size + bytes > BATCH_BYTES && current.units.length > 0) {
      batches.push(current);
      current = { leaders: [], units: [] };
      size = Buffer.byteLength(JSON.stringify(current));
    }
    current.units.push(u);
    size += bytes;
  }
  batches.push(current);
  return batches;
}

const POSITION_ZH = {
  contact: '联络员',
  principal: '主要负责人',
  staffRepresentative: '职工代表',
  holder: '本人',
} as const;

async function unitsList(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    kind: { type: 'string' },
    all: { type: 'boolean' },
    undeliverable: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  const kind = values.kind === undefined ? undefined : unitKindOf(values.kind);
  if (values.kind !== undefined && !kind)
    throw new UsageError(`--kind 中的“${values.kind}”不是单位类型，应为：${UNIT_KIND_CHOICES_ZH}`);
  const t = target(values);
  return run(io, async () => {
    const q = new URLSearchParams();
    if (kind) q.set('kind', kind);
    if (values.all) q.set('includeInactive', 'true');
    if (values.undeliverable) q.set('undeliverable', 'true');
    const { items } = await callAllPages(t, `/units${q.size ? `?${q}` : ''}`, 'units');
    if (values.json) return io.out(JSON.stringify({ count: items.length, units: items }));
    const units = items as {
      id: string;
      name: string;
      kind: UnitKind;
      active: boolean;
      undeliverable?: { position: keyof typeof POSITION_ZH; address: string; reasonZh: string }[];
    }[];
    io.out(`共 ${units.length} 个单位：`);
    for (const u of units) {
      io.out(`  ${u.id}  ${u.name}  （${UNIT_KIND_ZH[u.kind] ?? u.kind}）${u.active ? '' : '  [已停用]'}`);
      for (const m of u.undeliverable ?? [])
        io.out(`      [无法送达] ${POSITION_ZH[m.position] ?? m.position} ${m.address}：${m.reasonZh}`);
    }
  });
}

export async function submitCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON, note: { type: 'string' } });
  const [dutyId, periodKey, unitId, ...extra] = positionals;
  if (!dutyId || !periodKey || !unitId || extra.length > 0)
    throw new UsageError('用法：safeduty submit <职责ID> <周期编号> <单位ID> [--note 说明] [--api 地址]');
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
    const all = await callAllPages(t, '/overdue', 'items');
    const asOf = String(all.first.asOf);
    if (values.json) return io.out(JSON.stringify({ asOf, count: all.items.length, items: all.items }));
    const items = all.items as {
      unitId: string;
      unitName: string;
      titleZh: string;
      workdaysOverdue: number;
      escalationLevel: number;
    }[];
    if (items.length === 0) return io.out(`截至 ${asOf}，没有逾期未完成的事项。`);
    io.out(`截至 ${asOf}，逾期未完成 ${items.length} 项：`);
    for (const i of items)
      io.out(
        `  ${i.unitName}（${i.unitId}）  ${i.titleZh}  逾期 ${i.workdaysOverdue} 个工作日${i.escalationLevel ? `，已第 ${i.escalationLevel} 级督办` : ''}`,
      );
  });
}
