// 安委办's annual assessment (考核, notice section 八): for each unit and year, how each duty's periods were done —
// on time, late, or not at all — its cases and their terms, and the contacts mail cannot reach. Pure: the cycles,
// submissions, cases and roster decide it; the route gathers them and the export lays them out.
import type { Duty } from '../../workflows/catalog/schema.ts';
import type { CycleRecord, Submission, UnitRecord } from './model.ts';
import type { UndeliverableMark } from './units.ts';

/** One cycle of the year, as the assessment needs it. */
export interface AssessedCycle {
  duty: Pick<Duty, 'id' | 'titleZh'>;
  cycle: Pick<CycleRecord, 'periodKey' | 'deadline' | 'status' | 'trackedSince'>;
  /**
   * The units that owed it: for a closed cycle, those that reported and its defaulters (as recorded at the close,
   * whatever the roster has become since); for an open one, the duty's roster now.
   */
  responsible: readonly string[];
  submissions: readonly Pick<Submission, 'unitId' | 'submittedAt'>[];
}

/** A case as the assessment shows it: its term and whether it was kept. */
export interface AssessedCase {
  caseId: string;
  typeTitleZh: string;
  title: string;
  responsibleUnitId: string;
  openedAt: string;
  /** The rectification term (a date). */
  term: string;
  stageTitleZh: string;
  status: 'open' | 'closed';
  closedAt?: string;
}

export type CaseTermResult = 'kept' | 'missed' | 'running';

export interface DutyRecordOfUnit {
  dutyId: string;
  titleZh: string;
  /** Periods whose deadline had passed by the assessment's instant. */
  owed: number;
  onTime: number;
  late: number;
  missed: number;
  /** onTime / owed, or null when nothing was owed. */
  onTimeRate: number | null;
  latePeriods: string[];
  missedPeriods: string[];
}

export interface UnitAssessment {
  unit: Pick<UnitRecord, 'id' | 'name' | 'kind' | 'parentId' | 'supervisingDepartmentId'>;
  duties: DutyRecordOfUnit[];
  totals: { owed: number; onTime: number; late: number; missed: number; onTimeRate: number | null };
  cases: (AssessedCase & { termResult: CaseTermResult })[];
  undeliverable: UndeliverableMark[];
}

export interface Assessment {
  year: number;
  /** The instant it was made: periods due later are not counted yet. */
  asOf: string;
  units: UnitAssessment[];
}

/** An on-time rate as people read it: `83.3%`, or `—` when nothing was owed. */
export const onTimeRateZh = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);

const rate = (onTime: number, owed: number) =>
  owed === 0 ? null : Math.round((onTime / owed) * 1000) / 1000;

/**
 * Whether a case's term was kept: closed by it, or not (closed later, or still open past it). Judged by the term
 * alone: a stage late on the way is the overdue ledger's business, not the term's.
 */
export function termResult(c: AssessedCase, asOfMs: number): CaseTermResult {
  // A term is an instant (a date alone: its end, Asia/Shanghai).
  const termEnd = c.term.includes('T') ? Date.parse(c.term) : Date.parse(`${c.term}T23:59:59.999+08:00`);
  if (c.closedAt && Date.parse(c.closedAt) <= asOfMs)
    return Date.parse(c.closedAt) <= termEnd ? 'kept' : 'missed';
  return asOfMs > termEnd ? 'missed' : 'running';
}

/**
 * The assessment of every unit. A unit owes a period once its deadline has passed — unless the period was
 * cancelled, or the deadline came before the unit joined the roster or before the duty was tracked (the fair start:
 * nobody could have reminded it). Submitted by the deadline (the cycle's, as extended): on time; after it: late;
 * not at all: missed. Units deactivated since appear where they owed something.
 */
export function assess(input: {
  year: number;
  asOfMs: number;
  asOf: string;
  units: readonly UnitRecord[];
  cycles: readonly AssessedCycle[];
  cases: readonly AssessedCase[];
  undeliverable: (unit: UnitRecord) => UndeliverableMark[];
}): Assessment {
  const byUnit = new Map<string, Map<string, DutyRecordOfUnit>>();
  const joined = new Map(input.units.map((u) => [u.id, u.joinedAt]));
  const ordered = [...input.cycles].sort(
    (a, b) => a.duty.id.localeCompare(b.duty.id) || a.cycle.periodKey.localeCompare(b.cycle.periodKey),
  );
  for (const { duty, cycle, responsible, submissions } of ordered) {
    const due = Date.parse(cycle.deadline);
    if (cycle.status === 'cancelled' || due > input.asOfMs) continue;
    if (cycle.trackedSince && Date.parse(cycle.trackedSince) > due) continue;
    const byId = new Map(submissions.map((s) => [s.unitId, s]));
    for (const unitId of responsible) {
      if (!joined.has(unitId)) continue;
      const since = joined.get(unitId);
      if (since && Date.parse(since) > due) continue;
      const duties = byUnit.get(unitId) ?? new Map<string, DutyRecordOfUnit>();
      byUnit.set(unitId, duties);
      const r = duties.get(duty.id) ?? {
        dutyId: duty.id,
        titleZh: duty.titleZh,
        owed: 0,
        onTime: 0,
        late: 0,
        missed: 0,
        onTimeRate: null,
        latePeriods: [],
        missedPeriods: [],
      };
      duties.set(duty.id, r);
      r.owed++;
      const s = byId.get(unitId);
      // A submission recorded after the assessment's instant did not exist then.
      if (s && Date.parse(s.submittedAt) <= input.asOfMs) {
        if (Date.parse(s.submittedAt) > due) {
          r.late++;
          r.latePeriods.push(cycle.periodKey);
        } else r.onTime++;
      } else {
        r.missed++;
        r.missedPeriods.push(cycle.periodKey);
      }
    }
  }
  const units = [...input.units]
    .filter((u) => u.active || byUnit.has(u.id))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((u): UnitAssessment => {
      const duties = [...(byUnit.get(u.id)?.values() ?? [])].map((d) => ({
        ...d,
        onTimeRate: rate(d.onTime, d.owed),
      }));
      const sum = (k: 'owed' | 'onTime' | 'late' | 'missed') => duties.reduce((n, d) => n + d[k], 0);
      return {
        unit: {
          id: u.id,
          name: u.name,
          kind: u.kind,
          ...(u.parentId ? { parentId: u.parentId } : {}),
          ...(u.supervisingDepartmentId ? { supervisingDepartmentId: u.supervisingDepartmentId } : {}),
        },
        duties,
        totals: {
          owed: sum('owed'),
          onTime: sum('onTime'),
          late: sum('late'),
          missed: sum('missed'),
          onTimeRate: rate(sum('onTime'), sum('owed')),
        },
        cases: input.cases
          .filter((c) => c.responsibleUnitId === u.id)
          .sort((a, b) => a.openedAt.localeCompare(b.openedAt))
          .map((c) => ({ ...c, termResult: termResult(c, input.asOfMs) })),
        undeliverable: input.undeliverable(u),
      };
    });
  return { year: input.year, asOf: input.asOf, units };
}
