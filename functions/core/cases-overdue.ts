import type { CaseTypes } from '../../workflows/cases/index.ts';
import { planCase } from '../../workflows/cases/plan.ts';
import type { CaseType } from '../../workflows/cases/schema.ts';
import { listCasesByStatus, listCasesInTown } from '../adapters/case-store.ts';
import { getUnit } from '../adapters/store.ts';
import type { CaseRecord } from './cases-model.ts';
import { caseSummary, overdueOf, requireType, snapshotOf } from './cases.ts';
import { caseItem } from './links.ts';
import type { OverdueItem, OverdueSource } from './overdue-ledger.ts';

/**
 * Open case stages past their deadline (and extension requests past their decision deadline), for the overdue
 * ledger (一个不放心名单). The unit is the one that must act: the responsible unit, or the supervising unit for
 * an acceptance or a decision.
 */
export async function overdueCaseItems(types: CaseTypes, now: Date): Promise<OverdueItem[]> {
  const { cases } = await listCasesByStatus(['open']);
  const names = new Map<string, Promise<string>>();
  const nameOf = (id: string) => {
    let p = names.get(id);
    if (!p) {
      p = getUnit(id).then((u) => u?.name ?? id);
      names.set(id, p);
    }
    return p;
  };
  const items: OverdueItem[] = [];
  for (const c of cases) {
    const type = types.get(c.typeId);
    if (!type) continue;
    const plan = planCase(type, snapshotOf(c));
    const overdue = overdueOf(type, c, plan, now);
    if (!overdue) continue;
    const party =
      overdue.what === 'request'
        ? type.requests.find((r) => r.id === c.request?.id)?.party
        : plan.stage.party;
    const unitId = party === 'supervising' ? c.supervisingUnitId : c.responsibleUnitId;
    items.push({
      kind: 'case',
      item: caseItem(c.caseId),
      titleZh: `${type.titleZh}：${c.title}（${overdue.titleZh}：${overdue.actionZh}）`,
      unitId,
      unitName: await nameOf(unitId),
      deadline: overdue.since,
      workdaysOverdue: overdue.workdaysOverdue,
      escalationLevel: overdue.escalationLevel,
    });
  }
  return items;
}

export function caseOverdueSource(types: CaseTypes): OverdueSource {
  return { name: 'cases', list: (now) => overdueCaseItems(types, now) };
}

export interface ReconciliationRow {
  townId: string;
  /** Cases opened (listed) in the town. */
  listed: number;
  /** Rectification reported complete: awaiting acceptance, or accepted. */
  rectified: number;
  /** Accepted and closed (销号). */
  accepted: number;
  /** Open cases past a deadline (a stage's, or an undecided request's). */
  overdue: number;
  /** Cases per current stage. */
  byStage: Record<string, number>;
  overdueCases: string[];
}

function tally(type: CaseType, townId: string, cases: CaseRecord[], now: Date): ReconciliationRow {
  const row: ReconciliationRow = {
    townId,
    listed: 0,
    rectified: 0,
    accepted: 0,
    overdue: 0,
    byStage: Object.fromEntries(type.stages.map((s) => [s.id, 0])),
    overdueCases: [],
  };
  for (const c of cases) {
    const stage = type.stages.find((s) => s.id === c.stage);
    row.listed++;
    row.byStage[c.stage] = (row.byStage[c.stage] ?? 0) + 1;
    if (stage?.terminal) {
      row.accepted++;
      row.rectified++;
      continue;
    }
    if (stage?.party === 'supervising') row.rectified++;
    if (caseSummary(type, c, now).overdue) {
      row.overdue++;
      row.overdueCases.push(c.caseId);
    }
  }
  row.overdueCases.sort();
  return row;
}

/**
 * 对账销号: per town, how many cases of a type were listed, rectified, accepted, and are overdue. One town is
 * one GSI1 query; all towns read the type's cases by status (GSI2), never a scan.
 */
export async function reconciliation(
  types: CaseTypes,
  typeId: string,
  townId: string | undefined,
  now: Date,
) {
  const type = requireType(types, typeId);
  let cases: CaseRecord[];
  if (townId) cases = (await listCasesInTown(type.id, townId)).cases;
  else cases = (await listCasesByStatus(['open', 'closed'], type.id)).cases;
  const byTown = new Map<string, CaseRecord[]>();
  for (const c of cases) byTown.set(c.townId, [...(byTown.get(c.townId) ?? []), c]);
  if (townId && !byTown.has(townId)) byTown.set(townId, []);
  const towns = [...byTown.keys()].sort();
  const rows = towns.map((t) => tally(type, t, byTown.get(t) ?? [], now));
  const names = await Promise.all(
    towns.map(async (t) => (t === '-' ? '（无所属镇）' : ((await getUnit(t))?.name ?? t))),
  );
  const total = tally(type, '*', cases, now);
  return {
    type: type.id,
    typeTitleZh: type.titleZh,
    towns: rows.map((r, i) => ({ ...r, townName: names[i] })),
    total: {
      listed: total.listed,
      rectified: total.rectified,
      accepted: total.accepted,
      overdue: total.overdue,
    },
  };
}
