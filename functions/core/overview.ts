// The administrators' overview (总览): what is due today and this week, how each duty and each town and department
// stands in its current period, the on-time trend of recent weeks, and what needs attention (overdue items by
// escalation level, open cases by stage, addresses that cannot be delivered to).
import type { Catalog } from '../../workflows/catalog/index.ts';
import { UNIT_KINDS } from '../../workflows/catalog/schema.ts';
import type { CaseTypes } from '../../workflows/cases/index.ts';
import { addDays, shanghaiDateOf, toShanghaiIso } from '../../workflows/calendar.ts';
import { parsePeriodKey, periodKeyOf } from '../../workflows/periods.ts';
import { listCasesByStatus } from '../adapters/case-store.ts';
import { addressesStore } from '../adapters/outbox-store.ts';
import { listUnits } from '../adapters/store.ts';
import { gatherCycles } from './assessment-data.ts';
import type { AssessedCycle } from './assessment.ts';
import { caseSummary } from './cases.ts';
import { periodLabel } from './labels.ts';
import { listOverdue, placeUnit } from './overdue-ledger.ts';
import { undeliverableMarks } from './units.ts';
import type { CycleStanding, Overview, PlaceStanding, Tally } from './overview-model.ts';

export type { Overview } from './overview-model.ts';

/** How many weeks the trend covers, this one included. */
export const TREND_WEEKS = 8;

function tally(cycles: readonly { states: Map<string, 'onTime' | 'late' | 'missing'> }[]): Tally {
  const t = { responsible: 0, onTime: 0, late: 0, missing: 0 };
  for (const c of cycles)
    for (const s of c.states.values()) {
      t.responsible++;
      t[s]++;
    }
  return withRates(t);
}

function withRates(t: Omit<Tally, 'onTimeRate' | 'doneRate'>): Tally {
  return {
    ...t,
    onTimeRate: t.responsible ? t.onTime / t.responsible : null,
    doneRate: t.responsible ? (t.onTime + t.late) / t.responsible : null,
  };
}

/** Each responsible unit's state in a cycle: on time, late, or not yet (missing). */
function statesOf(c: AssessedCycle): Map<string, 'onTime' | 'late' | 'missing'> {
  const deadlineMs = Date.parse(c.cycle.deadline);
  const submitted = new Map(c.submissions.map((s) => [s.unitId, Date.parse(s.submittedAt)]));
  return new Map(
    c.responsible.map((id) => {
      const at = submitted.get(id);
      return [id, at === undefined ? 'missing' : at <= deadlineMs ? 'onTime' : 'late'] as const;
    }),
  );
}

export async function gatherOverview(catalog: Catalog, types: CaseTypes, now: Date): Promise<Overview> {
  const today = shanghaiDateOf(now);
  const week = parsePeriodKey(periodKeyOf('weekly', today));
  const trendStart = addDays(week.start, -7 * (TREND_WEEKS - 1));
  const year = Number(today.slice(0, 4));
  const nowMs = now.getTime();
  // Everything due since the trend began, and every cycle already started (the current periods, not yet due).
  const cycles = (
    await gatherCycles(
      catalog,
      { from: year - 1, to: year },
      (c) => c.deadline.slice(0, 10) >= trendStart && Date.parse(c.createdAt) <= nowMs,
    )
  )
    .filter((c) => c.cycle.status !== 'cancelled')
    .map((c) => ({ ...c, states: statesOf(c) }));

  const standing = (c: (typeof cycles)[number]): CycleStanding => {
    const p = parsePeriodKey(c.cycle.periodKey);
    return {
      dutyId: c.duty.id,
      titleZh: c.duty.titleZh,
      periodKey: c.cycle.periodKey,
      periodZh: periodLabel(p.key, p.start, p.end),
      deadline: c.cycle.deadline,
      status: c.cycle.status,
      ...tally([c]),
    };
  };
  /** Each duty's latest cycle among some. */
  const latestPerDuty = (among: typeof cycles) => {
    const latest = new Map<string, (typeof cycles)[number]>();
    for (const c of among) {
      const seen = latest.get(c.duty.id);
      if (!seen || c.cycle.periodKey > seen.cycle.periodKey) latest.set(c.duty.id, c);
    }
    return [...latest.values()];
  };
  const current = latestPerDuty(cycles);
  // Towns and departments are compared on what is already due: each duty's latest period past its deadline.
  const latestDue = latestPerDuty(cycles.filter((c) => Date.parse(c.cycle.deadline) <= nowMs));
  const openDue = (from: string, to: string) =>
    cycles
      .filter(
        (c) =>
          c.cycle.status === 'open' &&
          c.cycle.deadline.slice(0, 10) >= from &&
          c.cycle.deadline.slice(0, 10) <= to,
      )
      .sort((a, b) => a.cycle.deadline.localeCompare(b.cycle.deadline))
      .map(standing);

  const units = await listUnits({ kinds: UNIT_KINDS, includeInactive: true });
  const byId = new Map(units.map((u) => [u.id, u]));
  const places = {
    towns: new Map<string, Tally & { name: string }>(),
    departments: new Map<string, Tally & { name: string }>(),
  };
  const count = (
    map: Map<string, Tally & { name: string }>,
    id: string,
    name: string,
    s: 'onTime' | 'late' | 'missing',
  ) => {
    const t = map.get(id) ?? {
      name,
      responsible: 0,
      onTime: 0,
      late: 0,
      missing: 0,
      onTimeRate: null,
      doneRate: null,
    };
    t.responsible++;
    t[s]++;
    map.set(id, t);
  };
  for (const c of latestDue)
    for (const [unitId, s] of c.states) {
      const { town, department } = placeUnit(unitId, byId);
      if (town) count(places.towns, town.id, town.name, s);
      if (department) count(places.departments, department.id, department.name, s);
    }
  const placeList = (m: Map<string, Tally & { name: string }>): PlaceStanding[] =>
    [...m.entries()]
      .map(([id, t]) => ({ id, ...withRates(t), name: t.name }))
      .sort((a, b) => (a.onTimeRate ?? 1) - (b.onTimeRate ?? 1) || a.id.localeCompare(b.id));

  const trend = Array.from({ length: TREND_WEEKS }, (_, i) => {
    const start = addDays(trendStart, 7 * i);
    const end = addDays(start, 6);
    const due = cycles.filter(
      (c) =>
        c.cycle.deadline.slice(0, 10) >= start &&
        c.cycle.deadline.slice(0, 10) <= end &&
        Date.parse(c.cycle.deadline) <= nowMs,
    );
    return { week: periodKeyOf('weekly', start), start, end, cycles: due.length, ...tally(due) };
  });

  const [overdueItems, openCases, known] = await Promise.all([
    listOverdue(now),
    listCasesByStatus(['open']),
    addressesStore.undeliverable(),
  ]);
  const byLevel: Record<string, number> = {};
  for (const i of overdueItems) byLevel[i.escalationLevel] = (byLevel[i.escalationLevel] ?? 0) + 1;
  const stages = new Map<
    string,
    { type: string; typeTitleZh: string; stageTitleZh: string; count: number }
  >();
  for (const r of openCases.cases) {
    const type = types.get(r.typeId);
    if (!type) continue;
    const s = caseSummary(type, r, now);
    const key = `${type.id}#${s.stageTitleZh}`;
    const entry = stages.get(key) ?? {
      type: type.id,
      typeTitleZh: type.titleZh,
      stageTitleZh: s.stageTitleZh,
      count: 0,
    };
    entry.count++;
    stages.set(key, entry);
  }
  const undeliverable = units
    .filter((u) => u.active)
    .flatMap((u) =>
      undeliverableMarks(u, known).map((m) => ({
        unitId: u.id,
        name: u.name,
        position: m.position,
        address: m.address,
        reasonZh: m.reasonZh,
      })),
    );

  return {
    asOf: toShanghaiIso(now),
    today,
    week: { key: week.key, start: week.start, end: week.end },
    dueToday: openDue(today, today),
    dueThisWeek: openDue(today, week.end),
    duties: current.sort((a, b) => a.duty.id.localeCompare(b.duty.id)).map(standing),
    towns: placeList(places.towns),
    departments: placeList(places.departments),
    trend,
    overdue: { total: overdueItems.length, byLevel },
    cases: { open: openCases.cases.length, byStage: [...stages.values()] },
    undeliverable: { count: undeliverable.length, entries: undeliverable.slice(0, 50) },
  };
}
