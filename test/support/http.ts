import { readFileSync } from 'node:fs';
import type { Leader, Unit } from '../../functions/core/model.ts';
import type { Runtime } from '../../local/runtime.ts';

/** The example roster shipped in examples/ (fictional), as the tests load it. */
export function exampleRoster(): { units: Unit[]; leaders: Leader[] } {
  const raw = JSON.parse(readFileSync(new URL('../../examples/roster.json', import.meta.url), 'utf8')) as {
    units: (Omit<Unit, 'active'> & { active?: boolean })[];
    leaders: Leader[];
  };
  return { units: raw.units.map((u) => ({ ...u, active: u.active ?? true })), leaders: raw.leaders };
}

export function exampleRosterCsv(): string {
  return readFileSync(new URL('../../examples/roster.csv', import.meta.url), 'utf8');
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  bytes: Uint8Array;
  json: Record<string, unknown> & {
    error?: string;
    message?: string;
    issues?: { field: string; problem: string; row?: number }[];
  };
}

/**
 * One request to the local API. Admin token by default (`auth: false` sends none, a string sends that token);
 * a string or byte body is sent as is, anything else as JSON.
 */
export async function call(
  rt: Runtime,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; auth?: boolean | string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const raw = typeof options.body === 'string' || options.body instanceof Uint8Array;
  if (options.body !== undefined && !raw) headers['content-type'] = 'application/json';
  if (options.auth !== false)
    headers.authorization = `Bearer ${typeof options.auth === 'string' ? options.auth : rt.adminToken}`;
  Object.assign(headers, options.headers ?? {});
  const res = await fetch(`${rt.apiUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined
      ? { body: raw ? (options.body as string | Uint8Array) : JSON.stringify(options.body) }
      : {}),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  let json: Reply['json'];
  try {
    json = JSON.parse(text) as Reply['json'];
  } catch {
    json = {};
  }
  return { status: res.status, headers: res.headers, text, bytes, json };
}

/** The checks every error body must pass: the shape, a Chinese message, no internals. */
export function expectErrorShape(r: Reply): void {
  if (!r.headers.get('content-type')?.startsWith('application/json'))
    throw new Error(`error answer is not JSON: ${r.status} ${r.text.slice(0, 200)}`);
  const { error, message, issues } = r.json;
  if (typeof error !== 'string' || typeof message !== 'string' || !Array.isArray(issues))
    throw new Error(`bad error body: ${r.text.slice(0, 300)}`);
  if (!/[\u4e00-\u9fff]/.test(message)) throw new Error(`message is not Chinese: ${message}`);
  if (
    /\bat \S+ \(|\.ts:\d+|node_modules|TableName|safeduty-table|dynamodb|ConditionalCheck|stack/i.test(r.text)
  )
    throw new Error(`error body leaks internals: ${r.text.slice(0, 300)}`);
}

/** Shorthand: the issues' fields. */
export const fields = (r: Reply) => (r.json.issues ?? []).map((i) => i.field);
