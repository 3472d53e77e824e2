import { z } from 'zod';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import { UNIT_KINDS, unitKindOf } from '../../workflows/catalog/schema.ts';
import { appendAuditBatch, type AuditEntry } from '../adapters/audit.ts';
import { releaseAddresses } from '../adapters/outbox-store.ts';
import { listLeaders, listUnits, putLeaders, putUnits } from '../adapters/store.ts';
import { addressKey } from '../notices/model.ts';
import { auditKey } from './audit-subjects.ts';
import { clock } from './clock.ts';
import { safetyOfficeUnitId } from './directory.ts';
import { CsvSyntaxError, parseCsv } from './csv.ts';
import { ValidationError, fieldPath, type FieldIssue } from './errors.ts';
import { leaderSchema, unitSchema, type Leader, type Unit } from './model.ts';
import {
  canonical,
  changedFields,
  referenceProblems,
  rosterEntry,
  unitAddresses,
  unitOnly,
  type ChangeContext,
  type Reference,
} from './units.ts';

/** A problem in an import: `row` is the CSV line (the header is line 1); JSON problems name the path. */
export interface RosterIssue extends FieldIssue {
  row?: number;
}

export interface Roster {
  units: Unit[];
  leaders: Leader[];
}

/** Where each unit and leader came from, to name it in a problem. */
interface Located extends Roster {
  unitAt: (index: number, field: string) => RosterIssue;
  leaderAt: (index: number, field: string) => RosterIssue;
}

/** At most this many problems are listed; the count says how many there were. */
const MAX_ISSUES = 200;

// ---------------------------------------------------------------- CSV

/**
 * The CSV columns and the unit fields they fill. Required: id, name, kind and the contact's and principal's
 * names and addresses; the rest may be empty or left out. Every unit in a CSV file is active after the import.
 */
export const CSV_COLUMNS = {
  id: 'id',
  name: 'name',
  kind: 'kind',
  parent: 'parentId',
  supervisingDepartment: 'supervisingDepartmentId',
  leaderInCharge: 'leaderInChargeId',
  contactName: 'contact.name',
  contactEmail: 'contact.email',
  contactPhone: 'contact.phone',
  principalName: 'principal.name',
  principalEmail: 'principal.email',
  principalPhone: 'principal.phone',
  staffName: 'staffRepresentative.name',
  staffEmail: 'staffRepresentative.email',
} as const;
type Column = keyof typeof CSV_COLUMNS;

/** The columns as a Chinese spreadsheet heads them; either name is accepted. */
export const CSV_COLUMNS_ZH: Record<Column, string> = {
  id: '单位编号',
  name: '单位名称',
  kind: '单位类型',
  parent: '上级单位',
  supervisingDepartment: '主管部门',
  leaderInCharge: '分管县领导',
  contactName: '联络人',
  contactEmail: '联络人邮箱',
  contactPhone: '联络人电话',
  principalName: '主要负责人',
  principalEmail: '主要负责人邮箱',
  principalPhone: '主要负责人电话',
  staffName: '职工代表',
  staffEmail: '职工代表邮箱',
};
const COLUMN_BY_ZH = new Map(Object.entries(CSV_COLUMNS_ZH).map(([col, zh]) => [zh, col as Column]));
const REQUIRED_COLUMNS: Column[] = [
  'id',
  'name',
  'kind',
  'contactName',
  'contactEmail',
  'principalName',
  'principalEmail',
];
const COLUMN_OF_FIELD = new Map<string, Column>(
  Object.entries(CSV_COLUMNS).map(([col, field]) => [field, col as Column]),
);

function columnOf(field: string): string {
  return COLUMN_OF_FIELD.get(field) ?? field.split('.')[0] ?? field;
}

/** Parses a CSV roster; every problem in the file is collected before anything is reported. */
export function parseRosterCsv(text: string): { located: Located; issues: RosterIssue[] } {
  const issues: RosterIssue[] = [];
  const empty: Located = {
    units: [],
    leaders: [],
    unitAt: (_i, field) => ({ field, problem: '' }),
    leaderAt: (_i, field) => ({ field, problem: '' }),
  };
  let rows;
  try {
    rows = parseCsv(text);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    return { located: empty, issues: [{ row: err.line, field: '(file)', problem: err.problem }] };
  }
  const [header, ...records] = rows;
  if (!header) return { located: empty, issues: [{ row: 1, field: '(file)', problem: '文件是空的' }] };
  const columns = header.fields.map((f) => COLUMN_BY_ZH.get(f.trim()) ?? f.trim());
  const seen = new Set<string>();
  for (const col of columns) {
    if (!(col in CSV_COLUMNS))
      issues.push({
        row: header.line,
        field: col || '(empty)',
        problem: `不认识的列；可用的列：${Object.values(CSV_COLUMNS_ZH).join('、')}（或其英文列名）`,
      });
    else if (seen.has(col)) issues.push({ row: header.line, field: col, problem: '列名重复' });
    seen.add(col);
  }
  for (const col of REQUIRED_COLUMNS)
    if (!seen.has(col)) issues.push({ row: header.line, field: col, problem: '缺少必需的列' });
  if (issues.length > 0) return { located: empty, issues };
  if (records.length === 0)
    return {
      located: empty,
      issues: [{ row: header.line + 1, field: '(file)', problem: '表头之后没有任何单位' }],
    };

  const units: Unit[] = [];
  const lines: number[] = [];
  for (const record of records) {
    if (record.fields.length !== columns.length) {
      issues.push({
        row: record.line,
        field: '(row)',
        problem: `本行有 ${record.fields.length} 列，表头有 ${columns.length} 列`,
      });
      continue;
    }
    const raw: Record<string, unknown> = {};
    const person = (name?: string, email?: string, phone?: string) =>
      name === undefined && email === undefined
        ? undefined
        : { name: name ?? '', email: email ?? '', ...(phone ? { phone } : {}) };
    const cell = new Map(columns.map((c, i) => [c, (record.fields[i] ?? '').trim()]));
    const get = (c: Column) => (cell.get(c) ? cell.get(c) : undefined);
    raw.id = get('id') ?? '';
    raw.name = get('name') ?? '';
    // Excel users write the kind in Chinese (企业, 乡镇); the code is accepted too.
    raw.kind = unitKindOf(get('kind') ?? '') ?? get('kind') ?? '';
    if (get('parent')) raw.parentId = get('parent');
    if (get('supervisingDepartment')) raw.supervisingDepartmentId = get('supervisingDepartment');
    if (get('leaderInCharge')) raw.leaderInChargeId = get('leaderInCharge');
    raw.contact = person(get('contactName') ?? '', get('contactEmail') ?? '', get('contactPhone'));
    raw.principal = person(get('principalName') ?? '', get('principalEmail') ?? '', get('principalPhone'));
    const staff = person(get('staffName'), get('staffEmail'));
    if (staff) raw.staffRepresentative = staff;
    const r = unitSchema.safeParse(raw);
    if (!r.success) {
      for (const i of r.error.issues) {
        issues.push({
          row: record.line,
          field: columnOf(fieldPath(i.path)),
          problem: i.message,
        });
      }
      continue;
    }
    units.push(r.data);
    lines.push(record.line);
  }
  return {
    located: {
      units,
      leaders: [],
      unitAt: (i, field) => ({ row: lines[i] ?? 0, field: columnOf(field), problem: '' }),
      leaderAt: (_i, field) => ({ field, problem: '' }),
    },
    issues,
  };
}

// ---------------------------------------------------------------- JSON

export const rosterFileSchema = z
  .object({
    /** Free text about the file (who keeps it, when it was updated); not stored. */
    description: z.string().max(2_000).optional(),
    leaders: z.array(leaderSchema).max(500).default([]),
    units: z.array(unitSchema).max(10_000).default([]),
  })
  .strict();

/** A JSON roster (already parsed): zod reports every problem with its path, e.g. `units[3].contact.email`. */
export function parseRosterJson(body: unknown): { located: Located; issues: RosterIssue[] } {
  const r = rosterFileSchema.safeParse(withKindCodes(body));
  const at = (kind: 'units' | 'leaders') => (i: number, field: string) => ({
    field: `${kind}[${i}].${field}`,
    problem: '',
  });
  if (!r.success) {
    return {
      located: { units: [], leaders: [], unitAt: at('units'), leaderAt: at('leaders') },
      issues: r.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => ({ field: fieldPath([...i.path, k]), problem: '不认识的字段' }))
          : [{ field: fieldPath(i.path), problem: i.message }],
      ),
    };
  }
  return { located: { ...r.data, unitAt: at('units'), leaderAt: at('leaders') }, issues: [] };
}

// ---------------------------------------------------------------- checking and writing

/**
 * Problems that need the stored roster: duplicates inside the file, and references (parent, supervising
 * department, leader in charge) that resolve neither in the file nor in the table.
 */
export function crossCheck(located: Located, stored: Roster): RosterIssue[] {
  const issues: RosterIssue[] = [];
  const unitIndex = new Map<string, number>();
  located.units.forEach((u, i) => {
    const first = unitIndex.get(u.id);
    if (first !== undefined) {
      const where = located.unitAt(first, 'id');
      issues.push({
        ...located.unitAt(i, 'id'),
        problem: `编号 ${u.id} 重复（另见${where.row !== undefined ? `第 ${where.row} 行` : where.field}）`,
      });
    } else unitIndex.set(u.id, i);
  });
  const leaderIndex = new Map<string, number>();
  located.leaders.forEach((l, i) => {
    const first = leaderIndex.get(l.id);
    if (first !== undefined)
      issues.push({
        ...located.leaderAt(i, 'id'),
        problem: `编号 ${l.id} 重复（另见 leaders[${first}]）`,
      });
    else leaderIndex.set(l.id, i);
  });
  const units = new Map(stored.units.map((u) => [u.id, u]));
  for (const u of located.units) units.set(u.id, u);
  const leaders = new Map(stored.leaders.map((l) => [l.id, l]));
  for (const l of located.leaders) leaders.set(l.id, l);
  located.units.forEach((u, i) => {
    if (u.id === safetyOfficeUnitId() && !u.active)
      issues.push({ ...located.unitAt(i, 'active'), problem: '县安委办不能停用' });
    for (const p of referenceProblems(
      u,
      (id) => units.get(id),
      (id) => leaders.get(id),
    ))
      issues.push({ ...located.unitAt(i, p.field satisfies Reference), problem: p.problem });
  });
  return issues;
}

function rejected(issues: RosterIssue[]): ValidationError {
  const shown = issues.slice(0, MAX_ISSUES);
  if (issues.length > MAX_ISSUES)
    shown.push({ field: '(more)', problem: `${issues.length - MAX_ISSUES} more problems not listed` });
  return new ValidationError(
    `roster rejected: ${issues.length} problem(s)`,
    `名册校验未通过：共 ${issues.length} 处问题，未写入任何数据`,
    shown,
  );
}

export interface ImportSummary {
  units: { created: number; updated: number; unchanged: number };
  leaders: { created: number; updated: number; unchanged: number };
}

/**
 * Imports a roster (JSON `{ leaders, units }` or CSV text). Everything is validated first — each row's fields,
 * duplicates, and references against the file and the table — and nothing is written if anything is wrong.
 * Then leaders and the new or changed units are batch-written (leaders first, so references resolve), with
 * one audit entry per record written. Units not in the file are left as they are.
 */
export async function importRoster(
  input: { kind: 'json'; body: unknown } | { kind: 'csv'; text: string },
  ctx: ChangeContext,
): Promise<ImportSummary> {
  const { located, issues } = input.kind === 'csv' ? parseRosterCsv(input.text) : parseRosterJson(input.body);
  if (issues.length > 0) throw rejected(issues);
  if (located.units.length === 0 && located.leaders.length === 0)
    throw rejected([{ field: '(body)', problem: '名册中既没有单位也没有领导' }]);

  const [storedUnits, storedLeaders] = await Promise.all([
    listUnits({ kinds: UNIT_KINDS, includeInactive: true }),
    listLeaders(),
  ]);
  const cross = crossCheck(located, { units: storedUnits, leaders: storedLeaders });
  if (cross.length > 0) throw rejected(cross);

  const at = toShanghaiIso(clock.now());
  const audit: AuditEntry[] = [];
  const summary: ImportSummary = {
    units: { created: 0, updated: 0, unchanged: 0 },
    leaders: { created: 0, updated: 0, unchanged: 0 },
  };
  const diff = <T extends { id: string }>(
    incoming: T[],
    stored: T[],
    kind: 'unit' | 'leader',
    counts: ImportSummary['units'],
  ): T[] => {
    const before = new Map(stored.map((x) => [x.id, x]));
    const changed: T[] = [];
    for (const x of incoming) {
      const old = before.get(x.id);
      if (old && canonical(old) === canonical(x)) {
        counts.unchanged++;
        continue;
      }
      counts[old ? 'updated' : 'created']++;
      changed.push(x);
      audit.push({
        subject: auditKey({ kind, id: x.id }),
        at,
        actor: ctx.actor,
        action: `${kind}-${old ? 'updated' : 'created'}`,
        route: ctx.route,
        details: { import: input.kind, ...(old ? { changed: changedFields(old, x) } : {}) },
      });
    }
    return changed;
  };
  const leaders = diff(located.leaders, storedLeaders, 'leader', summary.leaders);
  const units = diff(located.units, storedUnits.map(unitOnly), 'unit', summary.units);
  const stored = new Map(storedUnits.map((u) => [u.id, u]));
  await putLeaders(leaders);
  await putUnits(units.map((u) => rosterEntry(u, stored.get(u.id), at)));
  // Every address in the file has been checked by whoever prepared it: refused ones get mail again.
  const released = new Set(
    await releaseAddresses([
      ...located.units.flatMap(unitAddresses),
      ...located.leaders.map((l) => l.holder.email),
    ]),
  );
  if (released.size > 0)
    for (const u of located.units) {
      const mine = unitAddresses(u).filter((a) => released.has(addressKey(a)));
      if (mine.length > 0)
        audit.push({
          subject: auditKey({ kind: 'unit', id: u.id }),
          at,
          actor: ctx.actor,
          action: 'addresses-released',
          route: ctx.route,
          details: { addresses: mine },
        });
    }
  await appendAuditBatch(audit);
  return summary;
}

/** A JSON roster whose units name their kind in Chinese (企业): the codes, so the schema reads them. */
function withKindCodes(body: unknown): unknown {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { units?: unknown }).units)) return body;
  const b = body as { units: unknown[] };
  return {
    ...b,
    units: b.units.map((u) =>
      u && typeof u === 'object' && typeof (u as { kind?: unknown }).kind === 'string'
        ? { ...u, kind: unitKindOf((u as { kind: string }).kind) ?? (u as { kind: string }).kind }
        : u,
    ),
  };
}
