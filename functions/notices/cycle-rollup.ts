// A daily duty's day summed up for 安委办: who owed it, who reported (late or not), who did not, per town and per
// supervising department, and the sum of one number of the reports. Pure: the roster, the submissions and the plan
// decide it; the cycle records what comes out.
import type { Duty } from '../../workflows/catalog/schema.ts';
import type { CyclePlan, PlannedStage } from '../../workflows/plan.ts';
import type { Person, Submission, UnitRecord } from '../core/model.ts';
import { escalates } from './cycle-notices.ts';
import type { Notice, RollupRow } from './model.ts';

const LISTED_MISSING = 20;
const NO_TOWN = '（未归属乡镇）';
const NO_DEPARTMENT = '（未指定监管部门）';

export interface RollupInput {
  duty: Duty;
  plan: CyclePlan;
  stage: PlannedStage;
  /** The duty's responsible units on the roster now. */
  units: readonly UnitRecord[];
  submissions: readonly Submission[];
  /** Units a responsible unit may belong to or be supervised by (towns, enterprises, departments), by id. */
  related: ReadonlyMap<string, UnitRecord>;
  office: Person;
  trackedSince?: string;
  recordedAt: string;
}

/** The town a unit belongs to: itself, its parent, or its parent enterprise's town. */
function townOf(u: UnitRecord, related: ReadonlyMap<string, UnitRecord>): UnitRecord | undefined {
  if (u.kind === 'town') return u;
  const parent = u.parentId ? related.get(u.parentId) : undefined;
  if (!parent) return undefined;
  if (parent.kind === 'town') return parent;
  const grand = parent.parentId ? related.get(parent.parentId) : undefined;
  return grand?.kind === 'town' ? grand : undefined;
}

/** The department that supervises a unit's sector: its own, else its parent enterprise's. */
function departmentOf(u: UnitRecord, related: ReadonlyMap<string, UnitRecord>): UnitRecord | undefined {
  const id =
    u.supervisingDepartmentId ?? (u.parentId ? related.get(u.parentId)?.supervisingDepartmentId : undefined);
  return id ? related.get(id) : undefined;
}

function sumOf(s: Submission, field: string | undefined): number {
  if (!field) return 0;
  const n = Number(s.evidence.fields?.[field] ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export function rollupNotice(input: RollupInput): Notice | undefined {
  const { duty, plan, related } = input;
  const rollup = duty.rollup;
  if (!rollup) return undefined;
  // Owed by the units on the roster before the deadline (the fair start), as the overdue list counts them.
  const owed = input.units.filter((u) => escalates(u, plan.deadline, input.trackedSince));
  const byUnit = new Map(input.submissions.map((s) => [s.unitId, s]));
  const row = (nameZh: string): RollupRow => ({
    nameZh,
    owed: 0,
    reported: 0,
    late: 0,
    missing: 0,
    ...(rollup.sumField ? { sum: 0 } : {}),
  });
  const total = row('合计');
  const bucket = (m: Map<string, RollupRow>, id: string, nameZh: string): RollupRow => {
    const found = m.get(id);
    if (found) return found;
    const made = row(nameZh);
    m.set(id, made);
    return made;
  };
  const towns = new Map<string, RollupRow>();
  const departments = new Map<string, RollupRow>();
  const missing: UnitRecord[] = [];
  for (const u of [...owed].sort((a, b) => a.id.localeCompare(b.id))) {
    const town = townOf(u, related);
    const dept = departmentOf(u, related);
    const rows = [
      total,
      bucket(towns, town?.id ?? '', town?.name ?? NO_TOWN),
      bucket(departments, dept?.id ?? '', dept?.name ?? NO_DEPARTMENT),
    ];
    const s = byUnit.get(u.id);
    if (!s) missing.push(u);
    for (const r of rows) {
      r.owed++;
      if (s) {
        r.reported++;
        if (s.late) r.late++;
        if (r.sum !== undefined) r.sum += sumOf(s, rollup.sumField);
      } else r.missing++;
    }
  }
  // Named units first, in the order people know them (their ids), the unassigned last.
  const ordered = (m: Map<string, RollupRow>) =>
    [...m.entries()]
      .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
      .map(([, r]) => r);
  return {
    recipient: { address: input.office.email, name: input.office.name },
    at: input.stage.at,
    urgency: input.stage.urgency,
    subject: `CYCLE#${duty.id}#${plan.periodKey}`,
    stage: input.stage.id,
    part: 0,
    body: {
      type: 'cycle-rollup',
      dutyId: duty.id,
      periodKey: plan.periodKey,
      titleZh: rollup.titleZh,
      deadline: plan.deadline,
      ...(rollup.sumLabelZh ? { sumLabelZh: rollup.sumLabelZh } : {}),
      total,
      byTown: ordered(towns).slice(0, 500),
      byDepartment: ordered(departments).slice(0, 500),
      missingUnits: missing.slice(0, LISTED_MISSING).map((u) => u.name),
    },
    recordedAt: input.recordedAt,
  };
}
