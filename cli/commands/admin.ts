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
import {
  crossCheck,
  decodeCsvBytes,
  parseRosterCsv,
  parseRosterJson,
  parseRosterXlsx,
  planRoster,
  withAbsentColumnsKept,
  type ImportSummary,
} from '../../functions/core/roster-import.ts';
import { XLSX_TYPE } from '../../functions/http/schemas.ts';
import { ROSTER_FIELD_ZH } from '../../functions/core/roster-model.ts';
import { UsageError, type Io, fileProblemZh } from '../output.ts';
import {
  POSITION_ZH,
  UNITS_ONE_USAGE,
  saveDownload,
  unitsAdd,
  unitsDeactivate,
  unitsEdit,
  unitsExport,
  unitsShow,
} from './roster.ts';

const counts = (c: { created: number; updated: number; unchanged: number }) =>
  `新增 ${c.created}、更新 ${c.updated}、未变 ${c.unchanged}`;

export async function unitsCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'import') return unitsImport(rest, io);
  if (sub === 'list') return unitsList(rest, io);
  if (sub === 'show') return unitsShow(rest, io);
  if (sub === 'add') return unitsAdd(rest, io);
  if (sub === 'edit') return unitsEdit(rest, io);
  if (sub === 'deactivate') return unitsDeactivate(rest, io);
  if (sub === 'export') return unitsExport(rest, io);
  throw new UsageError(
    `用法：\n${IMPORT_USAGE}\nsafeduty units list [--kind 类型] [--all] [--undeliverable]\n${UNITS_ONE_USAGE}`,
  );
}

const IMPORT_USAGE =
  '用法：safeduty units import <名册文件.csv|.xlsx|.json> [--dry-run] [--yes] [--encoding utf-8|gbk] [--api 地址]';

interface RosterFile {
  format: 'csv' | 'xlsx' | 'json';
  bytes: Buffer;
  /** The decoded text of a CSV or JSON file. */
  text: string;
}

async function unitsImport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    'dry-run': { type: 'boolean' },
    yes: { type: 'boolean' },
    encoding: { type: 'string' },
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError(IMPORT_USAGE);
  const encoding = values.encoding?.toLowerCase().replace(/^utf8$/, 'utf-8');
  if (encoding !== undefined && !['utf-8', 'gbk', 'gb18030'].includes(encoding))
    throw new UsageError(`--encoding 应为 utf-8 或 gbk（GB18030 同 gbk），不是“${values.encoding}”`);
  const ext = extname(file).toLowerCase();
  if (ext === '.xls')
    throw new UsageError('不支持旧版 Excel（.xls）文件：请在 Excel 中“另存为” .xlsx 或 CSV 后再导入');
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(file));
  } catch (err) {
    throw new UsageError(`无法读取名册文件 ${file}：${fileProblemZh(err)}`);
  }
  // An .xlsx is a zip archive: "PK" whatever the file is called.
  const isXlsx =
    ext === '.xlsx' || (ext !== '.csv' && ext !== '.json' && bytes.subarray(0, 2).toString() === 'PK');
  const csvType = `text/csv${encoding ? `; charset=${encoding}` : ''}`;
  const text = isXlsx ? '' : decodeCsvBytes(bytes, csvType);
  const format = isXlsx
    ? 'xlsx'
    : ext === '.csv' || (ext !== '.json' && !text.trimStart().startsWith('{'))
      ? 'csv'
      : 'json';
  if (format === 'json') {
    try {
      JSON.parse(text);
    } catch {
      throw new UsageError('名册文件不是有效的 JSON，请检查括号、引号和逗号');
    }
  }
  const t = target(values);
  // Over the API's 1 MiB body limit (a city's roster): checked whole here, then sent in batches.
  if (bytes.length > ONE_REQUEST_BYTES) return importInBatches(t, { format, bytes, text }, values, io);
  const send = (dryRun: boolean) =>
    call(t, 'POST', `/units/import${dryRun ? '?dryRun=true' : ''}`, {
      body: format === 'json' ? text : bytes,
      contentType: format === 'xlsx' ? XLSX_TYPE : format === 'csv' ? csvType : 'application/json',
      idempotent: true,
    });
  return run(io, async () => {
    const preview = (await send(true)).json as ImportSummary;
    if (values['dry-run']) return values.json ? io.out(JSON.stringify(preview)) : showPlan(preview, io);
    if (preview.contactsReplaced > 0 && !values.yes) return refuseOverwrite(preview, io);
    const r = await send(false);
    if (values.json) return io.out(r.text);
    showPlan(r.json as ImportSummary, io);
  });
}

const CHANGES_SHOWN = 30;

/** What an import wrote (or, in a dry run, would write): counts, then each change, people replaced spelt out. */
function showPlan(s: ImportSummary, io: Io, batches?: number): void {
  io.out(
    `${s.dryRun ? '预览（未写入任何数据）' : `名册已导入${batches ? `（${batches} 批）` : ''}`}：` +
      `单位 ${counts(s.units)}；县领导 ${counts(s.leaders)}。`,
  );
  for (const c of s.changes.slice(0, CHANGES_SHOWN)) {
    const who = `${c.kind === 'unit' ? '单位' : '县领导'} ${c.id} ${c.name}`;
    if (c.action === 'created') {
      io.out(`  ${s.dryRun ? '将新增' : '新增'} ${who}`);
      continue;
    }
    io.out(`  ${s.dryRun ? '将更新' : '更新'} ${who}：${(c.fields ?? []).map(fieldZh).join('、')}`);
    for (const p of c.contacts ?? [])
      io.out(
        `      ${POSITION_ZH[p.position]}：${p.before ? personZh(p.before) : '（无）'} → ${p.after ? personZh(p.after) : '（无）'}`,
      );
  }
  if (s.changesTotal > CHANGES_SHOWN)
    io.out(`  ……另有 ${s.changesTotal - CHANGES_SHOWN} 项变更未列出（加 --json 查看全部）`);
}

/** An import that would replace people on existing entries waits for --yes: the preview says who. */
function refuseOverwrite(preview: ImportSummary, io: Io): never {
  showPlan(preview, io);
  throw new UsageError(
    `导入将替换 ${preview.contactsReplaced} 个已有单位或县领导的联系人（见上），未写入任何数据。` +
      '核对无误后加 --yes 重新运行。',
  );
}

const personZh = (p: { name: string; email: string }) => `${p.name} <${p.email}>`;

const fieldZh = (f: string) => ROSTER_FIELD_ZH[f] ?? f;

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
  file: RosterFile,
  options: { json?: boolean | undefined; 'dry-run'?: boolean | undefined; yes?: boolean | undefined },
  io: Io,
): Promise<number> {
  return run(io, async () => {
    const parsed =
      file.format === 'csv'
        ? parseRosterCsv(file.text)
        : file.format === 'xlsx'
          ? await parseRosterXlsx(file.bytes)
          : parseRosterJson(JSON.parse(file.text) as unknown);
    const [stored, storedLeaders] = await Promise.all([
      callAllPages(t, '/units?includeInactive=true', 'units'),
      callAllPages(t, '/leaders', 'leaders'),
    ]);
    const storedUnits = (stored.items as (Unit & { undeliverable?: unknown; joinedAt?: unknown })[]).map(
      ({ undeliverable: _u, joinedAt: _j, ...u }) => u,
    );
    const leadersNow = (storedLeaders.items as (Leader & { undeliverable?: unknown })[]).map(
      ({ undeliverable: _u, ...l }) => l,
    );
    // As the API does: a column the file lacks leaves a stored unit's field as it is.
    const located = {
      ...parsed.located,
      units: withAbsentColumnsKept(
        parsed.located.units,
        new Map(storedUnits.map((u) => [u.id, u])),
        parsed.absent,
      ),
    };
    const issues = [
      ...parsed.issues,
      ...(parsed.issues.some((i) => i.row === 1 || i.field === '(file)')
        ? []
        : crossCheck(located, { units: storedUnits, leaders: leadersNow }, parsed.idsInFile)),
    ].sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
    if (issues.length > 0)
      throw new InputRejected(`名册有 ${issues.length} 处问题，未写入任何数据：`, issues);
    const plan = planRoster(located, storedUnits, leadersNow, options['dry-run'] === true);
    if (options['dry-run'])
      return options.json ? io.out(JSON.stringify(plan.summary)) : showPlan(plan.summary, io);
    if (plan.summary.contactsReplaced > 0 && !options.yes) return refuseOverwrite(plan.summary, io);
    // Only what changes is sent: a rerun after a failed batch sends just the rest.
    const batches =
      plan.units.length + plan.leaders.length === 0
        ? []
        : batchesOf(orderByReference(plan.units), plan.leaders);
    let done = 0;
    for (const [n, batch] of batches.entries()) {
      try {
        await call(t, 'POST', '/units/import', {
          body: JSON.stringify(batch),
          contentType: 'application/json',
          idempotent: true,
        });
      } catch (err) {
        io.err(
          `第 ${n + 1}/${batches.length} 批导入失败${n > 0 ? `；此前 ${n} 批（单位 ${done} 个）已写入` : ''}。` +
            '改正后重新运行同一命令即可，已导入的单位计为“未变”。',
        );
        throw err;
      }
      done += batch.units.length;
      if (!options.json)
        io.out(`第 ${n + 1}/${batches.length} 批已导入（单位 ${done}/${plan.units.length}）`);
    }
    if (options.json) return io.out(JSON.stringify({ ...plan.summary, batches: batches.length }));
    showPlan(plan.summary, io, batches.length);
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
  const { values, positionals } = parse(args, {
    ...COMMON,
    csv: { type: 'boolean' },
    xlsx: { type: 'boolean' },
    out: { type: 'string' },
    town: { type: 'string' },
    department: { type: 'string' },
    duty: { type: 'string' },
    period: { type: 'string' },
    level: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  if ([values.csv, values.xlsx, values.json].filter(Boolean).length > 1)
    throw new UsageError('--csv、--xlsx 与 --json 只能选一个');
  if (values.xlsx && !values.out) throw new UsageError('Excel 文件需要写入文件：加 --out 逾期清单.xlsx');
  const filter = new URLSearchParams();
  for (const k of ['town', 'department', 'duty', 'period', 'level'] as const)
    if (values[k] !== undefined) filter.set(k, values[k]);
  const t = target(values);
  return run(io, async () => {
    if (values.csv || values.xlsx) {
      filter.set('format', values.xlsx ? 'xlsx' : 'csv');
      const r = await call(t, 'GET', `/overdue?${filter}`);
      if (values.out) return saveDownload(values.out, r.bytes, io, '逾期清单');
      // Keep the byte order mark: redirected to a file, the CSV opens in Excel with its Chinese intact.
      return io.out(r.text.replace(/\r\n$/, ''));
    }
    const all = await callAllPages(t, `/overdue${filter.size ? `?${filter}` : ''}`, 'items');
    const asOf = String(all.first.asOf);
    if (values.json) return io.out(JSON.stringify({ asOf, count: all.items.length, items: all.items }));
    const items = all.items as {
      unitId: string;
      unitName: string;
      townName?: string;
      titleZh: string;
      workdaysOverdue: number;
      escalationLevel: number;
    }[];
    if (items.length === 0) return io.out(`截至 ${asOf}，没有逾期未完成的事项。`);
    io.out(`截至 ${asOf}，逾期未完成 ${items.length} 项：`);
    for (const i of items)
      io.out(
        `  ${i.unitName}（${i.unitId}${i.townName && i.townName !== i.unitName ? `，${i.townName}` : ''}）  ${i.titleZh}  逾期 ${i.workdaysOverdue} 个工作日${i.escalationLevel ? `，已第 ${i.escalationLevel} 级督办` : ''}`,
      );
  });
}
