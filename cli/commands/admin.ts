import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { UNIT_KINDS, UNIT_KIND_ZH, type UnitKind } from '../../workflows/catalog/schema.ts';
import { parse } from '../main.ts';
import { EXIT, UsageError, type Io } from '../output.ts';

/**
 * Administrator commands over the HTTP API: the local runtime by default (http://127.0.0.1:8080), or a deployed
 * API with `--api <url>`. The token comes from SAFEDUTY_ADMIN_TOKEN (on AWS: a Cognito ID or access token), or
 * locally from the data folder's `admin-token` file. Exit codes: 0 done, 2 bad input (including a 4xx answer,
 * whose Chinese message and issues are printed), 1 anything else.
 */
const DEFAULT_API = 'http://127.0.0.1:8080';

const COMMON = {
  api: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A 4xx answer: the request was wrong, so exit 2 with what the API said. */
class ApiRejected extends Error {
  constructor(
    readonly status: number,
    readonly body: { message?: string; issues?: { field?: string; problem?: string; row?: number }[] },
  ) {
    super(`HTTP ${status}`);
  }
}

/** Anything else that went wrong talking to the API: exit 1. */
class ApiFailed extends Error {
  constructor(readonly messageZh: string) {
    super(messageZh);
  }
}

interface Target {
  base: string;
  token: string;
}

function target(values: { api?: string | undefined; data?: string | undefined }): Target {
  const base = (values.api ?? DEFAULT_API).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--api 应为 http(s) 地址：${base}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--api 应为 http(s) 地址：${base}`);
  let token = process.env.SAFEDUTY_ADMIN_TOKEN?.trim();
  if (!token) {
    const file = resolve(values.data ?? '.safeduty', 'admin-token');
    if (existsSync(file)) token = readFileSync(file, 'utf8').trim();
  }
  if (!token)
    throw new UsageError(
      '未找到管理员令牌：请设置环境变量 SAFEDUTY_ADMIN_TOKEN（部署环境为 Cognito 登录令牌），或用 --data 指向本地数据目录（读取其中的 admin-token 文件）。',
    );
  return { base, token };
}

interface Answer {
  status: number;
  text: string;
  json: unknown;
}

async function call(
  t: Target,
  method: string,
  path: string,
  options: { body?: string; contentType?: string; idempotent?: boolean } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${t.token}` };
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  // Retry-safe: a lost answer is retried once with the same key, and the API records nothing twice.
  if (options.idempotent) headers['idempotency-key'] = randomUUID();
  let res: Response | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.idempotent ? 2 : 1) && !res; attempt++) {
    try {
      res = await fetch(`${t.base}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: options.body } : {}),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      lastError = err;
      if (attempt === 0 && options.idempotent) await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (!res) {
    const reason =
      lastError instanceof Error
        ? ((lastError.cause as Error | undefined)?.message ?? lastError.message)
        : String(lastError);
    throw new ApiFailed(`无法连接 ${t.base}：${reason}。本地运行请先执行 npm start，或用 --api 指定地址。`);
  }
  // Keep a byte order mark (the CSV export has one on purpose); fetch's text() would drop it.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    json = undefined;
  }
  if (res.status >= 400 && res.status < 500)
    throw new ApiRejected(res.status, (json ?? {}) as ApiRejected['body']);
  if (res.status >= 500) {
    const message = (json as { message?: string } | undefined)?.message ?? '';
    throw new ApiFailed(`服务器出错（HTTP ${res.status}）${message ? `：${message}` : ''}`);
  }
  return { status: res.status, text, json };
}

/** Runs an admin command: maps API answers and failures to messages and exit codes. */
async function run(io: Io, fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ApiRejected) {
      io.err(`请求被拒绝（HTTP ${err.status}）：${err.body.message ?? '请求有误'}`);
      for (const i of err.body.issues ?? []) {
        io.err(`  - ${i.row !== undefined ? `第 ${i.row} 行 ` : ''}${i.field ?? ''}：${i.problem ?? ''}`);
      }
      return EXIT.badInput;
    }
    if (err instanceof ApiFailed) {
      io.err(err.messageZh);
      return EXIT.failure;
    }
    throw err;
  }
}

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
