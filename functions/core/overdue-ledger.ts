import { toShanghaiIso } from '../../workflows/calendar.ts';
import { toCsv } from './csv.ts';

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
  '事项类型',
  '事项',
  '事项编号',
  '截止时间',
  '逾期工作日',
  '督办级别',
];

/** The ledger as CSV for Excel: UTF-8 with a byte order mark, CRLF, formula-safe cells. */
export function overdueCsv(items: OverdueItem[]): string {
  return toCsv(
    OVERDUE_CSV_HEADER,
    items.map((i) => [
      i.unitId,
      i.unitName,
      i.kind === 'cycle' ? '周期职责' : '案件',
      i.titleZh,
      i.item,
      i.deadline,
      i.workdaysOverdue,
      i.escalationLevel,
    ]),
  );
}

export function overdueAsOf(now: Date): string {
  return toShanghaiIso(now);
}
