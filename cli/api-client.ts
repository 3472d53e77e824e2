import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT, UsageError, type Io } from './output.ts';

/**
 * The CLI's client of the HTTP API, shared by the admin and case commands: the local runtime by default (http://127.0.0.1:8080), or a deployed
 * API with `--api <url>`. The token comes from SAFEDUTY_ADMIN_TOKEN (on AWS: a Cognito ID or access token), or
 * locally from the data folder's `admin-token` file. Exit codes: 0 done, 2 bad input (including a 4xx answer,
 * whose Chinese message and issues are printed), 1 anything else.
 */
export const DEFAULT_API = 'http://127.0.0.1:8080';

export const COMMON = {
  api: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A 4xx answer: the request was wrong, so exit 2 with what the API said. */
export class ApiRejected extends Error {
  constructor(
    readonly status: number,
    readonly body: { message?: string; issues?: { field?: string; problem?: string; row?: number }[] },
  ) {
    super(`HTTP ${status}`);
  }
}

/** Anything else that went wrong talking to the API: exit 1. */
export class ApiFailed extends Error {
  constructor(readonly messageZh: string) {
    super(messageZh);
  }
}

export interface Target {
  base: string;
  token: string;
}

export function target(values: { api?: string | undefined; data?: string | undefined }): Target {
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

export interface Answer {
  status: number;
  text: string;
  json: unknown;
  /** The body as sent (a workbook to save). */
  bytes: Uint8Array;
}

export async function call(
  t: Target,
  method: string,
  path: string,
  options: { body?: string | Uint8Array; contentType?: string; idempotent?: boolean } = {},
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
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
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
  return { status: res.status, text, json, bytes };
}

/** Runs an admin command: maps API answers and failures to messages and exit codes. */
/**
 * Every page of a paged listing (`limit`, `cursor`, `next`): the items under `field`, in order, and the first page's
 * other fields (asOf …). The answer is what one unpaged response would have been.
 */
export async function callAllPages(
  t: Target,
  path: string,
  field: string,
): Promise<{ first: Record<string, unknown>; items: unknown[] }> {
  const items: unknown[] = [];
  let first: Record<string, unknown> | undefined;
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await call(
      t,
      'GET',
      `${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    const page = r.json as Record<string, unknown>;
    first ??= page;
    items.push(...((page[field] as unknown[] | undefined) ?? []));
    cursor = typeof page.next === 'string' ? page.next : null;
  } while (cursor);
  return { first: first ?? {}, items };
}

/** Problems the CLI found itself, with the API's own rules, before sending anything. */
export class InputRejected extends Error {
  constructor(
    readonly headlineZh: string,
    readonly issues: readonly { row?: number | undefined; field: string; problem: string }[],
  ) {
    super(headlineZh);
    this.name = 'InputRejected';
  }
}

/** Runs a command's requests: refusals and failures become Chinese messages and exit codes. */
export async function run(io: Io, fn: () => Promise<unknown>): Promise<number> {
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
    if (err instanceof InputRejected) {
      io.err(err.headlineZh);
      for (const i of err.issues)
        io.err(`  - ${i.row !== undefined ? `第 ${i.row} 行 ` : ''}${i.field}：${i.problem}`);
      return EXIT.badInput;
    }
    if (err instanceof ApiFailed) {
      io.err(err.messageZh);
      return EXIT.failure;
    }
    throw err;
  }
}
