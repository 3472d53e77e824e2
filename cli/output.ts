import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
/** Exit codes: 0 success, 1 failure while running, 2 bad input (usage, unknown duty, bad date or period). */
export const EXIT = { ok: 0, failure: 1, badInput: 2 } as const;

export class UsageError extends Error {
  constructor(readonly messageZh: string) {
    super(messageZh);
    this.name = 'UsageError';
  }
}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const stdio: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Why a file could not be read, in the words of the person who named it. */
export function fileProblemZh(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return '文件不存在';
  if (code === 'EACCES' || code === 'EPERM') return '没有访问权限';
  if (code === 'EISDIR') return '这是一个文件夹，不是文件';
  if (err instanceof SyntaxError) return '不是有效的 JSON';
  return '无法读取';
}

/** A JSON object from a file a person wrote (a BOM allowed); each problem a Chinese usage error. */
export function readJsonObject(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new UsageError(`无法读取${what}文件 ${file}：${fileProblemZh(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new UsageError(`${what}文件不是有效的 JSON，请检查括号、引号和逗号`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UsageError(`${what}文件应为 JSON 对象：${file}`);
  return raw as Record<string, unknown>;
}
