import { z } from 'zod';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import { UNIT_KINDS, UNIT_KIND_ZH, unitKindOf } from '../../workflows/catalog/schema.ts';
import { appendAuditBatch, type AuditEntry } from '../adapters/audit.ts';
import { releaseAddresses } from '../adapters/outbox-store.ts';
import { listLeaders, listUnits, putLeaders, putUnits } from '../adapters/store.ts';
import { addressKey } from '../notices/model.ts';
import { auditKey } from './audit-subjects.ts';
import { clock } from './clock.ts';
import { safetyOfficeUnitId } from './directory.ts';
import type { Cell } from 'exceljs';
import { attributesOf, type ContactChange, type ImportSummary, type RosterChange } from './roster-model.ts';

export type { ContactChange, ImportSummary, RosterChange } from './roster-model.ts';
import iconv from 'iconv-lite';
import { CsvSyntaxError, parseCsv, type CsvRow } from './csv.ts';
import { ValidationError, fieldPath, type FieldIssue } from './errors.ts';
import { leaderSchema, unitSchema, type Leader, type Unit } from './model.ts';
import {
  canonical,
  changedFields,
  referenceProblems,
  rosterEntry,
  unitAddresses,
  personAddresses,
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
  attributes: 'attributes',
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
  attributes: '单位属性',
};
/** The export's header: every column, in Chinese, as the import reads it back. */
export const ROSTER_HEADER_ZH: readonly string[] = Object.values(CSV_COLUMNS_ZH);

/** A unit as one row under ROSTER_HEADER_ZH, its kind in Chinese. */
export function rosterRow(u: Unit): string[] {
  const cells: Record<Column, string | undefined> = {
    id: u.id,
    name: u.name,
    kind: UNIT_KIND_ZH[u.kind],
    parent: u.parentId,
    supervisingDepartment: u.supervisingDepartmentId,
    leaderInCharge: u.leaderInChargeId,
    contactName: u.contact.name,
    contactEmail: u.contact.email,
    contactPhone: u.contact.phone,
    principalName: u.principal.name,
    principalEmail: u.principal.email,
    principalPhone: u.principal.phone,
    staffName: u.staffRepresentative?.name,
    staffEmail: u.staffRepresentative?.email,
    attributes: u.attributes?.join('、'),
  };
  return (Object.keys(CSV_COLUMNS_ZH) as Column[]).map((c) => cells[c] ?? '');
}

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

/** The column a unit field came from, named as the file's header names it (联络人邮箱 or contactEmail). */
function columnOf(field: string, heading: ReadonlyMap<string, string> = new Map()): string {
  const col = COLUMN_OF_FIELD.get(field) ?? field.split('.')[0] ?? field;
  return heading.get(col) ?? col;
}

/** What a parsed file holds: the valid entries, every problem, and every id a row named (valid or not). */
export interface ParsedRoster {
  located: Located;
  issues: RosterIssue[];
  /** Ids of every row, including rows with problems: a reference to one of them is not a second problem. */
  idsInFile: Set<string>;
  /**
   * A CSV or worksheet's optional columns it does not have: for a unit already stored, those fields keep their
   * stored values (a file without phone numbers does not erase them). A JSON roster gives whole units.
   */
  absent?: ReadonlySet<Column>;
}

const EMPTY: Located = {
  units: [],
  leaders: [],
  unitAt: (_i, field) => ({ field, problem: '' }),
  leaderAt: (_i, field) => ({ field, problem: '' }),
};

/** Parses a CSV roster; every problem in the file is collected before anything is reported. */
export function parseRosterCsv(text: string): ParsedRoster {
  let rows;
  try {
    rows = parseCsv(text);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    return {
      located: EMPTY,
      issues: [{ row: err.line, field: '(file)', problem: err.problem }],
      idsInFile: new Set(),
    };
  }
  return parseRosterRows(rows);
}

/**
 * Parses an Excel workbook (.xlsx): the first worksheet, laid out like the CSV (the header in row 1). Cells are
 * read as the text Excel shows, so a numeric id or a phone number keeps its digits.
 */
export async function parseRosterXlsx(bytes: Buffer): Promise<ParsedRoster> {
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  try {
    await book.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch {
    return {
      located: EMPTY,
      issues: [
        {
          field: '(file)',
          problem: '不是有效的 Excel 工作簿（.xlsx）；旧版 .xls 请在 Excel 中另存为 .xlsx 或 CSV',
        },
      ],
      idsInFile: new Set(),
    };
  }
  const sheet = book.worksheets[0];
  const rows: CsvRow[] = [];
  if (sheet) {
    const width = sheet.getRow(1).cellCount;
    sheet.eachRow({ includeEmpty: false }, (row, line) => {
      const fields: string[] = [];
      for (let c = 1; c <= Math.max(width, row.cellCount); c++) fields.push(cellText(row.getCell(c)));
      // Trailing empty cells beyond the header are Excel's formatting, not data.
      while (fields.length > width && fields[fields.length - 1] === '') fields.pop();
      if (fields.some((f) => f.trim() !== '')) rows.push({ line, fields });
    });
  }
  return parseRosterRows(rows);
}

function cellText(cell: Cell): string {
  const v = cell.value;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object' && 'text' in v && typeof v.text === 'string') return v.text; // hyperlink (an email)
  if (typeof v === 'object' && 'richText' in v) return v.richText.map((r) => r.text).join('');
  if (typeof v === 'object' && 'result' in v) return String(v.result ?? ''); // formula
  return cell.text;
}

/**
 * The text of a CSV file as Excel saves it: UTF-8 (with or without a byte order mark), or GB18030/GBK, the default
 * of a Chinese Windows. A declared charset is followed; otherwise bytes that are not valid UTF-8 are read as
 * GB18030 (a superset of GBK and GB2312).
 */
export function decodeCsvBytes(bytes: Buffer, contentType: string): string {
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset && /^(gb18030|gbk|gb2312|cp936|x-gbk)$/.test(charset)) return iconv.decode(bytes, 'gb18030');
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return iconv.decode(bytes, 'gb18030');
  }
}

/** The rows of a CSV file or a worksheet, header first. */
function parseRosterRows(rows: CsvRow[]): ParsedRoster {
  const issues: RosterIssue[] = [];
  const idsInFile = new Set<string>();
  const empty = EMPTY;
  const [header, ...records] = rows;
  if (!header)
    return { located: empty, issues: [{ row: 1, field: '(file)', problem: '文件是空的' }], idsInFile };
  const columns = header.fields.map((f) => COLUMN_BY_ZH.get(f.trim()) ?? f.trim());
  const heading = new Map(columns.map((c, i) => [c, header.fields[i]?.trim() ?? c]));
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
  if (issues.length > 0) return { located: empty, issues, idsInFile };
  if (records.length === 0)
    return {
      located: empty,
      issues: [{ row: header.line + 1, field: '(file)', problem: '表头之后没有任何单位' }],
      idsInFile,
    };

  const units: Unit[] = [];
  const lines: number[] = [];
  for (const record of records) {
    const rowId = (record.fields[columns.indexOf('id')] ?? '').trim();
    if (rowId) idsInFile.add(rowId);
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
    // Our export guards cells a spreadsheet would run as formulas with a leading ' (csv.ts): read them back as written.
    const cell = new Map(
      columns.map((c, i) => [c, (record.fields[i] ?? '').trim().replace(/^'(?=[=+\-@\t\r])/, '')]),
    );
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
    // Several attributes in one cell, as people write lists: 县属监管企业、燃气.
    const attributes = attributesOf(get('attributes') ?? '');
    if (attributes.length > 0) raw.attributes = attributes;
    const r = unitSchema.safeParse(raw);
    if (!r.success) {
      for (const i of r.error.issues) {
        issues.push({
          row: record.line,
          field: columnOf(fieldPath(i.path), heading),
          problem: i.message,
        });
      }
      continue;
    }
    units.push(r.data);
    lines.push(record.line);
  }
  return {
    absent: new Set((Object.keys(CSV_COLUMNS) as Column[]).filter((c) => !seen.has(c))),
    located: {
      units,
      leaders: [],
      unitAt: (i, field) => ({ row: lines[i] ?? 0, field: columnOf(field, heading), problem: '' }),
      leaderAt: (_i, field) => ({ field, problem: '' }),
    },
    issues,
    idsInFile,
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
export function parseRosterJson(body: unknown): ParsedRoster {
  const idsInFile = new Set<string>();
  for (const list of ['units', 'leaders'] as const) {
    const entries = body && typeof body === 'object' ? (body as Record<string, unknown>)[list] : undefined;
    if (Array.isArray(entries))
      for (const e of entries as unknown[])
        if (e && typeof e === 'object' && typeof (e as { id?: unknown }).id === 'string')
          idsInFile.add((e as { id: string }).id);
  }
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
      idsInFile,
    };
  }
  return { located: { ...r.data, unitAt: at('units'), leaderAt: at('leaders') }, issues: [], idsInFile };
}

// ---------------------------------------------------------------- checking and writing

/** Units of a file as they will be stored: where the file has no column for a field, a stored unit keeps it. */
export function withAbsentColumnsKept(
  units: readonly Unit[],
  stored: ReadonlyMap<string, Unit>,
  absent: ReadonlySet<Column> | undefined,
): Unit[] {
  if (!absent || absent.size === 0) return [...units];
  return units.map((u) => {
    const old = stored.get(u.id);
    if (!old) return u;
    const kept: Unit = { ...u, contact: { ...u.contact }, principal: { ...u.principal } };
    const keep = <K extends keyof Unit>(col: Column, key: K) => {
      if (!absent.has(col)) return;
      if (old[key] === undefined) delete kept[key];
      else kept[key] = old[key];
    };
    keep('parent', 'parentId');
    keep('supervisingDepartment', 'supervisingDepartmentId');
    keep('leaderInCharge', 'leaderInChargeId');
    keep('attributes', 'attributes');
    if (absent.has('staffName') && absent.has('staffEmail')) keep('staffName', 'staffRepresentative');
    if (absent.has('contactPhone') && old.contact.phone) kept.contact.phone = old.contact.phone;
    if (absent.has('principalPhone') && old.principal.phone) kept.principal.phone = old.principal.phone;
    return kept;
  });
}

/**
 * Problems that need the stored roster: duplicates inside the file, and references (parent, supervising
 * department, leader in charge) that resolve neither in the file nor in the table. A reference to a row of the file
 * that has problems of its own (`idsInFile`) is not reported again: its row already is.
 */
export function crossCheck(
  located: Located,
  stored: Roster,
  idsInFile: ReadonlySet<string> = new Set(),
): RosterIssue[] {
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
    )) {
      const target = u[p.field satisfies Reference];
      const rowWithProblems =
        target !== undefined && idsInFile.has(target) && !units.has(target) && !leaders.has(target);
      if (!rowWithProblems) issues.push({ ...located.unitAt(i, p.field), problem: p.problem });
    }
  });
  return issues;
}

function rejected(issues: RosterIssue[]): ValidationError {
  const shown = issues.slice(0, MAX_ISSUES);
  if (issues.length > MAX_ISSUES)
    shown.push({ field: '(more)', problem: `另有 ${issues.length - MAX_ISSUES} 处问题未列出` });
  return new ValidationError(
    `roster rejected: ${issues.length} problem(s)`,
    `名册校验未通过：共 ${issues.length} 处问题，未写入任何数据`,
    shown,
  );
}

const MAX_CHANGES = 2_000;
const POSITIONS = ['contact', 'principal', 'staffRepresentative'] as const;

function contactChanges(before: Unit, after: Unit): ContactChange[] {
  return POSITIONS.flatMap((position) => {
    const b = before[position];
    const a = after[position];
    if (canonical(b ?? null) === canonical(a ?? null)) return [];
    return [{ position, ...(b ? { before: b } : {}), ...(a ? { after: a } : {}) }];
  });
}

/** An import's input: a JSON body, CSV bytes (UTF-8 or GB18030, see decodeCsvBytes) or an Excel workbook. */
export type RosterInput =
  { kind: 'json'; body: unknown } | { kind: 'csv'; text: string } | { kind: 'xlsx'; bytes: Buffer };

/**
 * Imports a roster (JSON `{ leaders, units }`, CSV text or an .xlsx workbook). Everything is validated in one
 * pass — each row's fields, duplicates, and references against the file and the table — and nothing is written if
 * anything is wrong: every problem is listed at once. `dryRun` stops there and says what would be written,
 * including each existing unit whose people would be replaced. Otherwise leaders and the new or changed units are
 * batch-written (leaders first, so references resolve), with one audit entry per record written. Units not in the
 * file are left as they are.
 */
export async function importRoster(
  input: RosterInput,
  ctx: ChangeContext,
  options: { dryRun?: boolean } = {},
): Promise<ImportSummary> {
  const {
    located: parsed,
    issues,
    idsInFile,
    absent,
  } = input.kind === 'csv'
    ? parseRosterCsv(input.text)
    : input.kind === 'xlsx'
      ? await parseRosterXlsx(input.bytes)
      : parseRosterJson(input.body);
  const fileLevel = issues.some((i) => i.field === '(file)' || i.row === 1);
  if (fileLevel) throw rejected(issues);
  if (issues.length === 0 && parsed.units.length === 0 && parsed.leaders.length === 0)
    throw rejected([{ field: '(body)', problem: '名册中既没有单位也没有领导' }]);

  const [storedUnits, storedLeaders] = await Promise.all([
    listUnits({ kinds: UNIT_KINDS, includeInactive: true }),
    listLeaders(),
  ]);
  const located: Located = {
    ...parsed,
    units: withAbsentColumnsKept(parsed.units, new Map(storedUnits.map((u) => [u.id, unitOnly(u)])), absent),
  };
  const cross = crossCheck(located, { units: storedUnits, leaders: storedLeaders }, idsInFile);
  if (issues.length + cross.length > 0) throw rejected(byRow([...issues, ...cross]));

  const dryRun = options.dryRun === true;
  const plan = planRoster(located, storedUnits.map(unitOnly), storedLeaders, dryRun);
  if (dryRun) return plan.summary;
  const at = toShanghaiIso(clock.now());
  const audit: AuditEntry[] = plan.all.map((c) => ({
    subject: auditKey({ kind: c.kind, id: c.id }),
    at,
    actor: ctx.actor,
    action: `${c.kind}-${c.action}`,
    route: ctx.route,
    details: { import: input.kind, ...(c.fields ? { changed: c.fields } : {}) },
  }));
  const { units, leaders, summary } = plan;
  const stored = new Map(storedUnits.map((u) => [u.id, u]));
  await putLeaders(leaders);
  await putUnits(units.map((u) => rosterEntry(u, stored.get(u.id), at)));
  // Every address in the file has been checked by whoever prepared it: refused ones get mail again.
  const released = new Set(
    await releaseAddresses([
      ...located.units.flatMap(unitAddresses),
      ...located.leaders.flatMap((l) => personAddresses(l.holder)),
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

/**
 * What importing a checked roster does to the stored one: the new and changed records, and the summary the
 * answer (or a dry run) gives. Pure: the CLI plans a roster too large for one request with it.
 */
export function planRoster(
  located: Roster,
  storedUnits: readonly Unit[],
  storedLeaders: readonly Leader[],
  dryRun: boolean,
): { summary: ImportSummary; units: Unit[]; leaders: Leader[]; all: RosterChange[] } {
  const all: RosterChange[] = [];
  const summary: ImportSummary = {
    dryRun,
    units: { created: 0, updated: 0, unchanged: 0 },
    leaders: { created: 0, updated: 0, unchanged: 0 },
    contactsReplaced: 0,
    changes: [],
    changesTotal: 0,
  };
  const diff = <T extends { id: string }>(
    incoming: readonly T[],
    stored: readonly T[],
    kind: 'unit' | 'leader',
    counts: ImportSummary['units'],
    describe: (x: T, old: T | undefined) => Pick<RosterChange, 'name' | 'contacts'>,
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
      const { name, contacts } = describe(x, old);
      if (contacts && contacts.length > 0) summary.contactsReplaced++;
      all.push({
        kind,
        id: x.id,
        name,
        action: old ? 'updated' : 'created',
        ...(old ? { fields: changedFields(old, x) } : {}),
        ...(contacts && contacts.length > 0 ? { contacts } : {}),
      });
    }
    return changed;
  };
  const leaders = diff(located.leaders, storedLeaders, 'leader', summary.leaders, (l, old) => ({
    name: l.titleZh,
    ...(old && canonical(old.holder) !== canonical(l.holder)
      ? { contacts: [{ position: 'holder' as const, before: old.holder, after: l.holder }] }
      : {}),
  }));
  const units = diff(located.units, storedUnits, 'unit', summary.units, (u, old) => ({
    name: u.name,
    ...(old ? { contacts: contactChanges(old, u) } : {}),
  }));
  summary.changesTotal = all.length;
  summary.changes = all.slice(0, MAX_CHANGES);
  return { summary, units, leaders, all };
}

/** Problems in file order: by row, then as found. */
function byRow(issues: RosterIssue[]): RosterIssue[] {
  return issues
    .map((issue, n) => ({ issue, n }))
    .sort((a, b) => (a.issue.row ?? 0) - (b.issue.row ?? 0) || a.n - b.n)
    .map((x) => x.issue);
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
