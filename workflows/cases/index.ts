// The case types: the built-in ones (types.json) and a deployment's own file, validated with the zod schema when
// first used, so a bad type fails at start-up with the type, the field and the problem, never inside a running case.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import builtInJson from './types.json' with { type: 'json' };
import {
  caseTypesFileSchema,
  type CaseEvent,
  type CaseType,
  type CaseTypesFile,
  type Stage,
} from './schema.ts';

export type { CaseEvent, CaseRequest, CaseType, Stage } from './schema.ts';

export interface CaseTypeIssue {
  typeId?: string;
  field: string;
  problem: string;
}

export class CaseTypeError extends Error {
  override readonly name = 'CaseTypeError';
  readonly messageZh: string;
  constructor(
    readonly origin: string,
    readonly issues: CaseTypeIssue[],
  ) {
    const lines = issues.map(
      (i) => `${i.typeId ? `type "${i.typeId}", ` : ''}field ${i.field}: ${i.problem}`,
    );
    super(`Invalid case types ${origin}:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
    this.messageZh = `案件类型 ${origin} 校验未通过：\n${lines.map((l) => `  - ${l}`).join('\n')}`;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out || '(file)';
}

/** Validates parsed JSON as a case-types file; throws CaseTypeError naming the type and the field. */
export function parseCaseTypes(raw: unknown, origin: string): CaseType[] {
  return parseCaseTypesFile(raw, origin).types;
}

function parseCaseTypesFile(raw: unknown, origin: string): CaseTypesFile {
  const r = caseTypesFileSchema.safeParse(raw);
  if (!r.success) {
    throw new CaseTypeError(
      origin,
      r.error.issues.map((issue) => {
        const [first, index, ...rest] = issue.path;
        if (first === 'types' && typeof index === 'number') {
          const id = (raw as { types?: { id?: unknown }[] })?.types?.[index]?.id;
          return {
            ...(typeof id === 'string' ? { typeId: id } : {}),
            field: formatPath(rest) === '(file)' ? `types[${index}]` : formatPath(rest),
            problem: issue.message,
          };
        }
        return { field: formatPath(issue.path), problem: issue.message };
      }),
    );
  }
  checkUnique(r.data.types, origin);
  return r.data;
}

/** Type ids and case-id prefixes must be unique: a prefix names the type of every case id. */
function checkUnique(types: readonly CaseType[], origin: string): void {
  const seen = new Set<string>();
  const prefixes = new Set<string>();
  const issues: CaseTypeIssue[] = [];
  for (const t of types) {
    if (seen.has(t.id)) issues.push({ typeId: t.id, field: 'id', problem: 'duplicate type id' });
    if (prefixes.has(t.idPrefix))
      issues.push({ typeId: t.id, field: 'idPrefix', problem: 'duplicate id prefix' });
    seen.add(t.id);
    prefixes.add(t.idPrefix);
  }
  if (issues.length > 0) throw new CaseTypeError(origin, issues);
}

/** Reads and validates a deployment's case-types file; an unreadable or non-JSON file is a CaseTypeError too. */
export function readCaseTypesFile(file: string): CaseTypesFile {
  const origin = resolve(file);
  let text: string;
  try {
    text = readFileSync(origin, 'utf8');
  } catch (err) {
    throw new CaseTypeError(origin, [
      { field: '(file)', problem: `cannot read the file: ${(err as Error).message}` },
    ]);
  }
  let raw: unknown;
  try {
    // A UTF-8 byte order mark (common from Windows editors) is not JSON; drop it rather than reject the file.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new CaseTypeError(origin, [
      { field: '(file)', problem: `not valid JSON: ${(err as Error).message}` },
    ]);
  }
  return parseCaseTypesFile(raw, origin);
}

export interface CaseTypes {
  readonly types: readonly CaseType[];
  get(id: string): CaseType | undefined;
}

/** Names a deployment's own case-types file, as SAFEDUTY_CATALOG names its duty catalog. */
export const CASE_TYPES_ENV = 'SAFEDUTY_CASE_TYPES';

function createCaseTypes(types: readonly CaseType[]): CaseTypes {
  const byId = new Map(types.map((t) => [t.id, t]));
  return Object.freeze({ types: Object.freeze([...types]), get: (id: string) => byId.get(id) });
}

let builtIn: CaseTypes | undefined;
const fromFiles = new Map<string, CaseTypes>();

/**
 * The case types. With `file` (or, when no file is given, the file named by SAFEDUTY_CASE_TYPES), that file's
 * types either replace the built-in ones (`"mode": "replace"`) or are merged into them (`"extend"`, the default):
 * a type with a built-in id replaces that whole type, a new id is added. Validated once per process and file.
 * Cases already opened keep their type id, so a type that open cases use must stay. Throws CaseTypeError.
 */
export function loadCaseTypes(options: { file?: string } = {}): CaseTypes {
  builtIn ??= createCaseTypes(parseCaseTypes(builtInJson, 'built-in types.json'));
  const file = options.file ?? (process.env[CASE_TYPES_ENV] || undefined);
  if (file === undefined) return builtIn;
  const origin = resolve(file);
  const cached = fromFiles.get(origin);
  if (cached) return cached;
  const extra = readCaseTypesFile(origin);
  let types: CaseType[];
  if (extra.mode === 'replace') types = extra.types;
  else {
    const overrides = new Map(extra.types.map((t) => [t.id, t]));
    const builtInIds = new Set(builtIn.types.map((t) => t.id));
    types = [
      ...builtIn.types.map((t) => overrides.get(t.id) ?? t),
      ...extra.types.filter((t) => !builtInIds.has(t.id)),
    ];
    // A new type may not take a built-in type's case-id prefix.
    checkUnique(types, origin);
  }
  const loaded = createCaseTypes(types);
  fromFiles.set(origin, loaded);
  return loaded;
}

export function stageOf(type: CaseType, stageId: string): Stage {
  const s = type.stages.find((x) => x.id === stageId);
  if (!s) throw new Error(`case type ${type.id} has no stage ${stageId}`);
  return s;
}

export function eventOf(type: CaseType, eventId: string): CaseEvent | undefined {
  return type.events.find((e) => e.id === eventId);
}
