// The duty catalog: the built-in duties of the county notice (duties.json), optionally extended or replaced by a
// deployment's own catalog file. Everything is validated with the zod schema when it loads, so a bad file fails
// at start-up with a message naming the duty, the field and the problem, not later inside a scheduled run.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
// Imported rather than read from disk so that a bundler (esbuild for the Lambda functions) carries it along.
import builtInJson from './duties.json' with { type: 'json' };
import { DUTY_ID_PATTERN, catalogFileSchema, type CatalogFile, type Duty, type UnitKind } from './schema.ts';

export type { CatalogFile, Duty, UnitKind } from './schema.ts';

/** Environment variable naming a deployment catalog file, used when `loadCatalog` gets no `file`. */
export const CATALOG_ENV = 'SAFEDUTY_CATALOG';

const BUILT_IN_ORIGIN = 'built-in duties.json';

// ---------------------------------------------------------------------------------------------------------
// Errors

export interface CatalogIssue {
  /** The duty's id, when the entry has a valid one. */
  dutyId?: string;
  /** Position of the duty in the file's `duties` array (0-based). */
  dutyIndex?: number;
  /** Path inside the duty (e.g. `escalation[1].offset.amount`), inside the file for file-level problems, or `(file)`. */
  field: string;
  problem: string;
  problemZh: string;
}

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
  readonly code = 'invalid-catalog' as const;
  /** The file the problems are in (absolute path), or `built-in duties.json`. */
  readonly origin: string;
  readonly issues: CatalogIssue[];
  /** Message for end users, in Simplified Chinese. */
  readonly messageZh: string;

  constructor(origin: string, issues: CatalogIssue[]) {
    super(`Invalid duty catalog ${origin}:\n${issues.map((i) => `  - ${describeEn(i)}`).join('\n')}`);
    this.origin = origin;
    this.issues = issues;
    this.messageZh = `职责目录 ${origin} 校验未通过：\n${issues.map((i) => `  - ${describeZh(i)}`).join('\n')}`;
  }
}

function describeEn(i: CatalogIssue): string {
  const where =
    i.dutyId !== undefined
      ? `duty "${i.dutyId}" (duties[${i.dutyIndex}]), `
      : i.dutyIndex !== undefined
        ? `duties[${i.dutyIndex}] (no valid id), `
        : '';
  return `${where}field ${i.field}: ${i.problem}`;
}

function describeZh(i: CatalogIssue): string {
  const where =
    i.dutyId !== undefined
      ? `职责 ${i.dutyId}（第 ${(i.dutyIndex ?? 0) + 1} 条）`
      : i.dutyIndex !== undefined
        ? `第 ${i.dutyIndex + 1} 条职责（id 缺失或无效）`
        : '';
  return `${where}字段 ${i.field}：${i.problemZh}`;
}

export class UnknownDutyError extends Error {
  override readonly name = 'UnknownDutyError';
  readonly code = 'unknown-duty' as const;
  readonly dutyId: string;
  readonly messageZh: string;

  constructor(id: string) {
    super(`Unknown duty: ${id}`);
    this.dutyId = id;
    this.messageZh = `未知的职责：${id}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Turning zod issues into catalog issues

type ZodIssue = z.core.$ZodIssue;

/** Chinese for the schema's own messages; anything not listed falls back to the English text. */
const SCHEMA_MESSAGES_ZH: [RegExp, string][] = [
  [/^must be a time of day HH:MM$/, '应为 HH:MM 格式的时刻（00:00–23:59）'],
  [/^must be a month-day MM-DD$/, '应为 MM-DD 格式的月日'],
  [/^must be a day that exists every year.*$/, '应为每年都有的日期（不能是 02-29、02-30、04-31 等）'],
  [/^must be kebab-case.*$/, '应为由小写字母、数字和连字符组成的 kebab-case'],
  [/^the window must end on or after it starts.*$/, '时段结束日不能早于开始日（须在同一年内）'],
  [/^a reminder must come before the deadline.*$/, '提醒须早于截止时间（偏移量应为负数）'],
  [
    /^levels must be numbered 1, 2, 3… in order; expected (\d+)$/,
    '升级级别须按 1、2、3… 顺序编号，此处应为 $1',
  ],
  [/^an escalation must come after the deadline.*$/, '升级须晚于截止时间（偏移量应为正数）'],
  [/^escalation levels must come later than the level before$/, '每一级升级须晚于上一级'],
  [
    /^a seasonal fixed-date deadline cannot fall before the window opens$/,
    '季节性职责的固定截止日不能早于时段开始',
  ],
  [/^fixed-date deadlines need a yearly or seasonal cadence$/, '固定日期截止只适用于每年或季节性周期'],
];

function schemaMessageZh(message: string): string {
  for (const [re, zh] of SCHEMA_MESSAGES_ZH) {
    if (re.test(message)) return message.replace(re, zh);
  }
  return message;
}

const TYPE_ZH: Record<string, string> = {
  string: '字符串',
  number: '数字',
  int: '整数',
  boolean: '布尔值',
  array: '数组',
  object: '对象',
};

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)) return 'fraction';
  return typeof value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function listed(values: readonly unknown[], sep: string): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(sep);
}

/** One zod issue as problems (an unknown-keys issue becomes one problem per key, each at its own path). */
function problemsOf(
  issue: ZodIssue,
  raw: unknown,
): { path: PropertyKey[]; problem: string; problemZh: string }[] {
  const path = [...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: [...path, key],
        problem: 'unknown field',
        problemZh: '未知字段',
      }));
    case 'invalid_type': {
      const value = valueAt(raw, path);
      if (value === undefined) {
        return [{ path, problem: 'required field is missing', problemZh: '缺少必填字段' }];
      }
      const expectedZh = TYPE_ZH[issue.expected] ?? issue.expected;
      return [
        {
          path,
          problem: `expected ${issue.expected}, got ${typeName(value)}`,
          problemZh: `类型错误：应为${expectedZh}`,
        },
      ];
    }
    case 'invalid_value':
      if (valueAt(raw, path) === undefined) {
        return [
          {
            path,
            problem: `required field is missing; expected one of: ${listed(issue.values, ', ')}`,
            problemZh: `缺少必填字段，应为以下之一：${listed(issue.values, '、')}`,
          },
        ];
      }
      return [
        {
          path,
          problem: `invalid value ${JSON.stringify(valueAt(raw, path))}; expected one of: ${listed(issue.values, ', ')}`,
          problemZh: `取值无效，应为以下之一：${listed(issue.values, '、')}`,
        },
      ];
    case 'invalid_union': {
      if ('discriminator' in issue && typeof issue.discriminator === 'string') {
        const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : [];
        const value = valueAt(raw, path);
        return [
          {
            path,
            problem:
              value === undefined
                ? `required field is missing; expected one of: ${listed(options, ', ')}`
                : `invalid value ${JSON.stringify(value)}; expected one of: ${listed(options, ', ')}`,
            problemZh: `${value === undefined ? '缺少必填字段' : '取值无效'}，应为以下之一：${listed(options, '、')}`,
          },
        ];
      }
      return [{ path, problem: issue.message, problemZh: '不符合任何一种允许的格式' }];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = small ? issue.minimum : issue.maximum;
      const bound = `${Number(limit)}`;
      const problemZh =
        issue.origin === 'array'
          ? `${small ? '至少需要' : '最多'} ${bound} 项`
          : issue.origin === 'string'
            ? `长度不能${small ? '少于' : '超过'} ${bound} 个字符`
            : `不能${small ? '小于' : '大于'} ${bound}`;
      return [{ path, problem: issue.message, problemZh }];
    }
    default:
      return [{ path, problem: issue.message, problemZh: schemaMessageZh(issue.message) }];
  }
}

function validDutyId(raw: unknown, index: number): string | undefined {
  const id = valueAt(raw, ['duties', index, 'id']);
  return typeof id === 'string' && DUTY_ID_PATTERN.test(id) ? id : undefined;
}

function toCatalogIssues(issues: readonly ZodIssue[], raw: unknown): CatalogIssue[] {
  const out: CatalogIssue[] = [];
  for (const issue of issues) {
    for (const p of problemsOf(issue, raw)) {
      const [first, index] = p.path;
      if (first === 'duties' && typeof index === 'number') {
        const dutyId = validDutyId(raw, index);
        out.push({
          ...(dutyId !== undefined ? { dutyId } : {}),
          dutyIndex: index,
          field: formatPath(p.path.slice(2)) || '(entry)',
          problem: p.problem,
          problemZh: p.problemZh,
        });
      } else {
        out.push({ field: formatPath(p.path) || '(file)', problem: p.problem, problemZh: p.problemZh });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing and reading

/** Validates parsed JSON as a catalog file; throws CatalogError naming `origin`. */
export function parseCatalogFile(raw: unknown, origin: string): CatalogFile {
  const result = catalogFileSchema.safeParse(raw);
  if (!result.success) throw new CatalogError(origin, toCatalogIssues(result.error.issues, raw));
  const seen = new Map<string, number>();
  const duplicates: CatalogIssue[] = [];
  result.data.duties.forEach((duty, index) => {
    const first = seen.get(duty.id);
    if (first === undefined) {
      seen.set(duty.id, index);
      return;
    }
    duplicates.push({
      dutyId: duty.id,
      dutyIndex: index,
      field: 'id',
      problem: `duplicate id: duties[${first}] has the same id`,
      problemZh: `id 重复：与第 ${first + 1} 条职责相同`,
    });
  });
  if (duplicates.length > 0) throw new CatalogError(origin, duplicates);
  return result.data;
}

/** Reads and validates a catalog file; unreadable files and malformed JSON are CatalogErrors too. */
export function readCatalogFile(file: string): CatalogFile {
  const origin = resolve(file);
  let text: string;
  try {
    text = readFileSync(origin, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CatalogError(origin, [
      { field: '(file)', problem: `cannot read the file: ${reason}`, problemZh: `无法读取文件：${reason}` },
    ]);
  }
  let raw: unknown;
  try {
    // A UTF-8 byte order mark (common from Windows editors) is not JSON; drop it rather than reject the file.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CatalogError(origin, [
      { field: '(file)', problem: `malformed JSON: ${reason}`, problemZh: `JSON 格式错误：${reason}` },
    ]);
  }
  return parseCatalogFile(raw, origin);
}

// ---------------------------------------------------------------------------------------------------------
// The catalog

export interface CatalogSource {
  /** An absolute file path, or `built-in duties.json`. */
  origin: string;
  /** The file's own `source` text. */
  source?: string;
}

export interface Catalog {
  /** Every duty, disabled ones included (so stored cycles of a switched-off duty can still be shown). */
  readonly duties: readonly Duty[];
  readonly sources: readonly CatalogSource[];
  get(id: string): Duty | undefined;
  /** Throws UnknownDutyError. */
  require(id: string): Duty;
  /** The enabled duties a unit of this kind owes. */
  forKind(kind: UnitKind): Duty[];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function createCatalog(duties: readonly Duty[], sources: CatalogSource[]): Catalog {
  const byId = new Map(duties.map((d) => [d.id, d]));
  return Object.freeze({
    duties: Object.freeze([...duties]),
    sources: Object.freeze(sources),
    get: (id: string) => byId.get(id),
    require(id: string): Duty {
      const duty = byId.get(id);
      if (duty === undefined) throw new UnknownDutyError(id);
      return duty;
    },
    forKind: (kind: UnitKind) => duties.filter((d) => d.enabled && d.responsibleKinds.includes(kind)),
  });
}

function sourceOf(origin: string, file: CatalogFile): CatalogSource {
  return file.source !== undefined ? { origin, source: file.source } : { origin };
}

// Validated and frozen once per process: the built-in file never changes at run time.
let builtInFile: CatalogFile | undefined;
let builtInCatalog: Catalog | undefined;

function loadBuiltIn(): CatalogFile {
  builtInFile ??= deepFreeze(parseCatalogFile(builtInJson, BUILT_IN_ORIGIN));
  return builtInFile;
}

/**
 * The duty catalog. With `file` (or, when no file is given, the file named by SAFEDUTY_CATALOG), that file's
 * duties either replace the built-in ones (`"mode": "replace"`) or are merged into them (`"extend"`, the
 * default): a duty with a built-in id replaces that whole duty in place, a new id is appended.
 * Throws CatalogError.
 */
export function loadCatalog(options: { file?: string } = {}): Catalog {
  const base = loadBuiltIn();
  const file = options.file ?? (process.env[CATALOG_ENV] || undefined);
  if (file === undefined) {
    builtInCatalog ??= createCatalog(base.duties, [sourceOf(BUILT_IN_ORIGIN, base)]);
    return builtInCatalog;
  }
  const extra = deepFreeze(readCatalogFile(file));
  const extraSource = sourceOf(resolve(file), extra);
  if (extra.mode === 'replace') return createCatalog(extra.duties, [extraSource]);
  const overrides = new Map(extra.duties.map((d) => [d.id, d]));
  const merged = base.duties.map((d) => overrides.get(d.id) ?? d);
  const builtInIds = new Set(base.duties.map((d) => d.id));
  merged.push(...extra.duties.filter((d) => !builtInIds.has(d.id)));
  return createCatalog(merged, [sourceOf(BUILT_IN_ORIGIN, base), extraSource]);
}

// ---------------------------------------------------------------------------------------------------------
// The notice

let notice: string | undefined;
let squashedNotice: string | undefined;

/** The text of the county notice the built-in duties come from (extracted from the PDF, line breaks and all). */
export function noticeText(): string {
  notice ??= readFileSync(new URL('./xiangyuan-2023-work-safety-notice.txt', import.meta.url), 'utf8');
  return notice;
}

// The PDF extraction breaks lines mid-sentence and pads with spaces, so quotes are compared without whitespace.
const squash = (s: string): string => s.replace(/\s+/g, '');

/** Whether `quote` appears in the notice, ignoring all whitespace on both sides. */
export function quoteAppearsInNotice(quote: string): boolean {
  const q = squash(quote);
  if (q === '') return false;
  squashedNotice ??= squash(noticeText());
  return squashedNotice.includes(q);
}
