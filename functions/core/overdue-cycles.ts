import type { Catalog } from '../../workflows/catalog/index.ts';
import type { Duty } from '../../workflows/catalog/schema.ts';
import { addDays, shanghaiDateOf } from '../../workflows/calendar.ts';
import { parsePeriodKey, periodKeyOf } from '../../workflows/periods.ts';
import { periodKindOfDuty } from '../../workflows/plan.ts';
import { listCyclesFrom } from '../adapters/cycle-queries.ts';
import { planCycle } from '../../workflows/plan.ts';
import {
  dutyRoster,
  defaulterCount,
  getUnit,
  listCycles,
  listDefaulters,
  listSubmissions,
} from '../adapters/store.ts';
import { cycleItem } from './links.ts';
import { periodLabel } from './labels.ts';
import type { CycleRecord, UnitRecord } from './model.ts';
import type { OverdueItem, OverdueSource } from './overdue-ledger.ts';
import { escalationLevelReached, workdaysOverdue } from './overdue.ts';

/**
 * A closed cycle keeps its defaulters on the ledger while its deadline is at most this many days old (or until
 * they submit late); an open cycle's missing units are always on it.
 */
export const CLOSED_CYCLE_LOOKBACK_DAYS = 31;

/**
 * Units overdue in duty cycles: in open cycles past their deadline, the responsible units (active roster) that
 * have not submitted; in cycles closed within the lookback, the defaulters that still have not.
 */
export async function overdueCycleItems(catalog: Catalog, now: Date): Promise<OverdueItem[]> {
  const today = shanghaiDateOf(now);
  const since = addDays(today, -CLOSED_CYCLE_LOOKBACK_DAYS);
  const byKey = new Map<string, CycleRecord>();
  for (const c of await listCycles({ status: 'open' })) byKey.set(`${c.dutyId}#${c.periodKey}`, c);
  const recent = await Promise.all(
    catalog.duties.map((d) => listCyclesFrom(d.id, periodKeyOf(periodKindOfDuty(d), since))),
  );
  for (const c of recent.flat()) {
    if (c.status === 'closed' && c.deadline.slice(0, 10) >= since && defaulterCount(c) > 0)
      byKey.set(`${c.dutyId}#${c.periodKey}`, c);
  }

  const rosters = new Map<string, Promise<UnitRecord[]>>();
  const rosterOf = (duty: Duty) => {
    // Duties with a scope (ad-hoc ones) get a roster of their own.
    const key = duty.scope ? `duty:${duty.id}` : [...duty.responsibleKinds].sort().join(',');
    let p = rosters.get(key);
    if (!p) {
      p = dutyRoster(duty).then((r) => r.units);
      rosters.set(key, p);
    }
    return p;
  };
  const unitCache = new Map<string, Promise<UnitRecord | undefined>>();
  const unitOf = (id: string) => {
    let p = unitCache.get(id);
    if (!p) {
      p = getUnit(id);
      unitCache.set(id, p);
    }
    return p;
  };

  const perCycle = await Promise.all(
    [...byKey.values()].map(async (c): Promise<OverdueItem[]> => {
      const duty = catalog.get(c.dutyId);
      if (!duty || Date.parse(c.deadline) > now.getTime()) return [];
      const submitted = new Set((await listSubmissions(c.dutyId, c.periodKey)).map((s) => s.unitId));
      let missing: UnitRecord[];
      if (c.status === 'closed') {
        const defaulters = (await listDefaulters(c)).filter((id) => !submitted.has(id));
        missing = (await Promise.all(defaulters.map(unitOf))).filter((u): u is UnitRecord => !!u?.active);
      } else {
        missing = (await rosterOf(duty)).filter((u) => !submitted.has(u.id));
      }
      if (missing.length === 0) return [];
      const plan = planCycle(duty, c.periodKey);
      const period = parsePeriodKey(c.periodKey);
      const titleZh = `${duty.titleZh}（${periodLabel(c.periodKey, period.start, period.end)}）`;
      const overdue = workdaysOverdue(c.deadline, today);
      return missing.map((u) => ({
        kind: 'cycle',
        item: cycleItem(c.dutyId, c.periodKey),
        dutyId: c.dutyId,
        periodKey: c.periodKey,
        titleZh,
        unitId: u.id,
        unitName: u.name,
        deadline: c.deadline,
        workdaysOverdue: overdue,
        escalationLevel: escalationLevelReached(
          plan,
          c.stagesDone,
          u,
          undefined,
          c.trackedSince,
          now.getTime(),
        ),
      }));
    }),
  );
  return perCycle.flat();
}

export function cycleOverdueSource(catalog: Catalog): OverdueSource {
  return { name: 'cycles', list: (now) => overdueCycleItems(catalog, now) };
}
