// The case types: the built-in ones (types.json), validated with the zod schema when first used, so a bad type
// fails at start-up with the type, the field and the problem, never inside a running case.
import builtInJson from './types.json' with { type: 'json' };
import { caseTypesFileSchema, type CaseEvent, type CaseType, type Stage } from './schema.ts';

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
  const seen = new Set<string>();
  const prefixes = new Set<string>();
  const issues: CaseTypeIssue[] = [];
  for (const t of r.data.types) {
    if (seen.has(t.id)) issues.push({ typeId: t.id, field: 'id', problem: 'duplicate type id' });
    if (prefixes.has(t.idPrefix))
      issues.push({ typeId: t.id, field: 'idPrefix', problem: 'duplicate id prefix' });
    seen.add(t.id);
    prefixes.add(t.idPrefix);
  }
  if (issues.length > 0) throw new CaseTypeError(origin, issues);
  return r.data.types;
}

export interface CaseTypes {
  readonly types: readonly CaseType[];
  get(id: string): CaseType | undefined;
}

let builtIn: CaseTypes | undefined;

/** The built-in case types, validated once per process. */
export function loadCaseTypes(): CaseTypes {
  if (builtIn) return builtIn;
  const types = parseCaseTypes(builtInJson, 'built-in types.json');
  const byId = new Map(types.map((t) => [t.id, t]));
  builtIn = Object.freeze({ types: Object.freeze([...types]), get: (id: string) => byId.get(id) });
  return builtIn;
}

export function stageOf(type: CaseType, stageId: string): Stage {
  const s = type.stages.find((x) => x.id === stageId);
  if (!s) throw new Error(`case type ${type.id} has no stage ${stageId}`);
  return s;
}

export function eventOf(type: CaseType, eventId: string): CaseEvent | undefined {
  return type.events.find((e) => e.id === eventId);
}
