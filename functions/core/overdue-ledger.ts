import { toShanghaiIso } from '../../workflows/calendar.ts';
import { toCsv } from './csv.ts';
import { minuteLabel } from './labels.ts';

/**
 * The overdue ledger (一个不放心名单): every open item a unit has not done by its deadline, across recurring
 * duty cycles and cases. Each area contributes a source; the cycles source is registered by the HTTP app, the
 * cases module registers its own. The ledger itself only merges, sorts and formats.
 */
export interface OverdueItem {
  kind: 'cycle' | 'case';
  /** `cycle:<dutyId>:<periodKey>` or `case:<caseId>` — the item a unit link or an audit subject names. */
  item: string;
  /** What is overdue, in Chinese: the duty and its period, or the case and its stage. */
  titleZh: string;
  unitId: string;
  unitName: string;
  /** The deadline that passed, ISO in Asia/Shanghai. */
  deadline: string;
  /** Working days since the deadline on the official calendar (0 on the deadline's own day). */
  workdaysOverdue: number;
  /** Highest escalation level sent so far (0: none yet). */
  escalationLevel: number;
  /** A cycle's duty and period. */
  dutyId?: string;
  periodKey?: string;
}

/** An item with where its unit sits: the town it is in and the department that supervises it. */
export interface PlacedOverdueItem extends OverdueItem {
  townId?: string;
  townName?: string;
  departmentId?: string;
  departmentName?: string;
}

interface RosterUnit {
  id: string;
  name: string;
  kind: string;
  parentId?: string | undefined;
  supervisingDepartmentId?: string | undefined;
}

/**
 * Where a unit sits: its town (itself, or the nearest town up its parents: a site's enterprise's town) and its
 * supervising department (its own, or the nearest one up its parents). County units have no town.
 */
export function placeUnit(
  unitId: string,
  units: ReadonlyMap<string, RosterUnit>,
): { town?: RosterUnit; department?: RosterUnit } {
  let town: RosterUnit | undefined;
  let department: RosterUnit | undefined;
  const seen = new Set<string>();
  for (let u = units.get(unitId); u && !seen.has(u.id); u = u.parentId ? units.get(u.parentId) : undefined) {
    seen.add(u.id);
    if (!town && u.kind === 'town') town = u;
    if (!department && u.supervisingDepartmentId) department = units.get(u.supervisingDepartmentId);
    if (!department && u.kind === 'county-department') department = u;
  }
  return { ...(town ? { town } : {}), ...(department ? { department } : {}) };
}

export function placeOverdue(
  items: readonly OverdueItem[],
  units: ReadonlyMap<string, RosterUnit>,
): PlacedOverdueItem[] {
  return items.map((i) => {
    const { town, department } = placeUnit(i.unitId, units);
    return {
      ...i,
      ...(town ? { townId: town.id, townName: town.name } : {}),
      ...(department ? { departmentId: department.id, departmentName: department.name } : {}),
    };
  });
}

/** The ledger's filters; each given one must match. */
export interface OverdueFilter {
  town?: string | undefined;
  department?: string | undefined;
  duty?: string | undefined;
  period?: string | undefined;
  level?: number | undefined;
  kind?: 'cycle' | 'case' | undefined;
  unit?: string | undefined;
}

export function filterOverdue(items: readonly PlacedOverdueItem[], f: OverdueFilter): PlacedOverdueItem[] {
  return items.filter(
    (i) =>
      (f.town === undefined || i.townId === f.town) &&
      (f.department === undefined || i.departmentId === f.department) &&
      (f.duty === undefined || i.dutyId === f.duty) &&
      (f.period === undefined || i.periodKey === f.period) &&
      (f.level === undefined || i.escalationLevel === f.level) &&
      (f.kind === undefined || i.kind === f.kind) &&
      (f.unit === undefined || i.unitId === f.unit),
  );
}

export interface OverdueSource {
  /** Unique; registering a source with the same name replaces the earlier one. */
  readonly name: string;
  list(now: Date): Promise<OverdueItem[]>;
}

const sources = new Map<string, OverdueSource>();

export function registerOverdueSource(source: OverdueSource): void {
  sources.set(source.name, source);
}

export function overdueSources(): string[] {
  return [...sources.keys()];
}

/** Most overdue first, then by unit and item, so the list reads the same on every call. */
export async function listOverdue(now: Date): Promise<OverdueItem[]> {
  const lists = await Promise.all([...sources.values()].map((s) => s.list(now)));
  return lists
    .flat()
    .sort(
      (a, b) =>
        b.workdaysOverdue - a.workdaysOverdue ||
        b.escalationLevel - a.escalationLevel ||
        a.unitId.localeCompare(b.unitId) ||
        a.item.localeCompare(b.item),
    );
}

export const OVERDUE_CSV_HEADER = [
  '单位编号',
  '单位名称',
  '所在乡镇',
  '主管部门',
  '事项类型',
  '事项',
  '事项编号',
  '截止时间',
  '逾期工作日',
  '督办级别',
];

/** The ledger as rows for Excel: dates as a reader writes them (2023年3月4日 18:00), levels in words. */
export function overdueRows(items: readonly PlacedOverdueItem[]): (string | number)[][] {
  return items.map((i) => [
    i.unitId,
    i.unitName,
    i.townName ?? '',
    i.departmentName ?? '',
    i.kind === 'cycle' ? '周期职责' : '案件',
    i.titleZh,
    i.item,
    minuteLabel(i.deadline),
    i.workdaysOverdue,
    i.escalationLevel === 0 ? '尚未督办' : `第${i.escalationLevel}级`,
  ]);
}

/** The ledger as CSV for Excel: UTF-8 with a byte order mark, CRLF, formula-safe cells. */
export function overdueCsv(items: readonly PlacedOverdueItem[]): string {
  return toCsv(OVERDUE_CSV_HEADER, overdueRows(items));
}

export function overdueAsOf(now: Date): string {
  return toShanghaiIso(now);
}
