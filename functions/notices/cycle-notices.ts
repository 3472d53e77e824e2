// What each person is owed at one stage of a duty cycle. Pure: the missing units, the people their positions
// resolve to, and the plan decide it; the cycle records what comes out.
import type { Duty, DutyChange, Position } from '../../workflows/catalog/schema.ts';
import { POSITION_ZH } from '../../workflows/catalog/schema.ts';
import type { CyclePlan, PlannedStage } from '../../workflows/plan.ts';
import type { Placement } from '../../workflows/delivery/policy.ts';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import type { Person, UnitRecord } from '../core/model.ts';
import { addressKey, partsOf, type CycleEscalationBody, type Notice, type NoticeUnit } from './model.ts';

/** Unit links stay valid this long after the window closes, so late submissions can still be recorded. */
export const LINK_GRACE_MS = 30 * 24 * 3_600_000;

/** Who holds a position for a unit; `fallback` when it was empty and 安委办 stands in. */
export interface Addressee {
  person: Person;
  position: Position;
  fallback: boolean;
  /** What the person supervises through this position (for the overdue link): a department, leader or 安委办. */
  scope: { kind: 'department' | 'leader' | 'office'; id: string };
}

export interface StageNoticesInput {
  duty: Duty;
  plan: CyclePlan;
  /** The stage acted on (after an outage: the catch-up stage with every position of the levels it absorbs). */
  stage: PlannedStage;
  /** Units still missing, sorted by id. */
  missing: UnitRecord[];
  /** The holder of each supervising position of a missing unit (contact and principal are on the unit). */
  addressee: (unit: UnitRecord, position: Position) => Addressee | undefined;
  /** When this deployment started tracking the duty (a period due before that escalates nobody). */
  trackedSince?: string;
  recordedAt: string;
}

const OWN_POSITIONS: ReadonlySet<Position> = new Set(['contact', 'principal']);

function row(u: UnitRecord): NoticeUnit {
  return {
    id: u.id,
    name: u.name,
    contactName: u.contact.name,
    ...(u.contact.phone ? { contactPhone: u.contact.phone } : {}),
  };
}

/**
 * The fair start: a unit is escalated for a period only if both the duty was tracked and the unit was on the
 * roster before the deadline passed; otherwise nobody could have reminded it in time.
 */
export function escalates(unit: UnitRecord, deadline: string, trackedSince: string | undefined): boolean {
  const due = Date.parse(deadline);
  if (trackedSince !== undefined && Date.parse(trackedSince) > due) return false;
  return unit.joinedAt === undefined || Date.parse(unit.joinedAt) <= due;
}

export function stageNotices(input: StageNoticesInput): Notice[] {
  const { duty, plan, stage } = input;
  const subject = `CYCLE#${duty.id}#${plan.periodKey}`;
  const base = { at: stage.at, urgency: stage.urgency, subject, recordedAt: input.recordedAt };
  const notices: Notice[] = [];

  if (stage.kind === 'reminder') {
    // A person may be the contact of several units: one notice lists them all.
    const byAddress = new Map<string, { person: Person; units: UnitRecord[] }>();
    for (const u of input.missing) {
      const key = addressKey(u.contact.email);
      const entry = byAddress.get(key) ?? { person: u.contact, units: [] };
      entry.units.push(u);
      byAddress.set(key, entry);
    }
    const reminders = plan.stages.filter((s) => s.kind === 'reminder');
    const n = reminders.findIndex((s) => s.id === stage.id) + 1;
    const linkExpires = new Date(Date.parse(plan.window.closesAt) + LINK_GRACE_MS).toISOString();
    for (const { person, units } of byAddress.values()) {
      partsOf(units).forEach((part, i) =>
        notices.push({
          ...base,
          recipient: { address: person.email, name: person.name },
          stage: stage.id,
          part: i,
          body: {
            type: 'cycle-reminder',
            dutyId: duty.id,
            periodKey: plan.periodKey,
            titleZh: duty.titleZh,
            deadline: plan.deadline,
            reminder: { n: Math.max(1, n), of: Math.max(1, reminders.length) },
            units: part.map(row),
            linkExpires,
          },
        }),
      );
    }
    return notices;
  }

  const levels = Math.max(...duty.escalation.map((e) => e.level));
  const checkpoint = stage.kind === 'checkpoint' ? duty.checkpoints[stage.level - 1] : undefined;
  interface Group {
    person: Person;
    audience: CycleEscalationBody['audience'];
    scope: CycleEscalationBody['scope'];
    roles: Set<string>;
    units: Map<string, UnitRecord>;
  }
  const groups = new Map<string, Group>();
  const add = (
    person: Person,
    audience: Group['audience'],
    scope: Group['scope'],
    role: string,
    unit: UnitRecord,
  ) => {
    const key = `${addressKey(person.email)}|${audience}|${scope.kind}:${scope.id}`;
    const g = groups.get(key) ?? { person, audience, scope, roles: new Set(), units: new Map() };
    g.roles.add(role);
    g.units.set(unit.id, unit);
    groups.set(key, g);
  };
  for (const unit of input.missing) {
    if (!escalates(unit, plan.deadline, input.trackedSince)) continue;
    const own = new Set([addressKey(unit.contact.email), addressKey(unit.principal.email)]);
    for (const position of stage.addressed) {
      if (OWN_POSITIONS.has(position)) {
        const person = position === 'contact' ? unit.contact : unit.principal;
        add(person, 'own', { kind: 'unit', id: unit.id }, POSITION_ZH[position], unit);
        continue;
      }
      const a = input.addressee(unit, position);
      // Never escalate to the person who is late: the unit's own levels speak to them.
      if (!a || own.has(addressKey(a.person.email))) continue;
      const role = a.fallback ? `县安委办（代${POSITION_ZH[position]}）` : POSITION_ZH[position];
      add(a.person, 'supervisor', a.scope, role, unit);
    }
  }
  for (const g of groups.values()) {
    const units = [...g.units.values()].sort((a, b) => a.id.localeCompare(b.id));
    // Per unit for a unit's own people too: a principal of two late units gets both, not one over the other.
    const stageKey = `${stage.id}.${g.audience === 'own' ? `own-${g.scope.id}` : `${g.scope.kind}-${g.scope.id}`}`;
    partsOf(units).forEach((part, i) =>
      notices.push({
        ...base,
        recipient: { address: g.person.email, name: g.person.name },
        stage: stageKey,
        part: i,
        body: {
          type: 'cycle-escalation',
          dutyId: duty.id,
          periodKey: plan.periodKey,
          titleZh: duty.titleZh,
          deadline: plan.deadline,
          level: stage.level,
          levels,
          audience: g.audience,
          rolesZh: [...g.roles],
          scope: g.scope,
          units: part.map(row),
          ...(checkpoint ? { checkpoint: { titleZh: checkpoint.titleZh } } : {}),
        },
      }),
    );
  }
  return notices;
}

/** The stage key of a change's notices: told once per change. */
export const changeStageId = (change: Pick<DutyChange, 'seq'>) => `change-${change.seq}`;

/**
 * What the units a change concerns are told: one notice per contact address, listing its units. A change that
 * leaves the unit something to do (an extension, being added) carries the unit link.
 */
export function changeNotices(input: {
  duty: Duty;
  plan: CyclePlan;
  change: DutyChange;
  units: UnitRecord[];
  placement: Placement;
  recordedAt: string;
}): Notice[] {
  const { duty, plan, change } = input;
  const byAddress = new Map<string, { person: Person; units: UnitRecord[] }>();
  for (const u of input.units) {
    const key = addressKey(u.contact.email);
    const entry = byAddress.get(key) ?? { person: u.contact, units: [] };
    entry.units.push(u);
    byAddress.set(key, entry);
  }
  const todo = change.kind === 'extended' || change.kind === 'units-added';
  const linkExpires = new Date(Date.parse(plan.window.closesAt) + LINK_GRACE_MS).toISOString();
  return [...byAddress.values()].flatMap(({ person, units }) =>
    partsOf(units).map((part, i): Notice => ({
      recipient: { address: person.email, name: person.name },
      at: toShanghaiIso(new Date(input.placement.at)),
      urgency: input.placement.urgency,
      subject: `CYCLE#${duty.id}#${plan.periodKey}`,
      stage: changeStageId(change),
      part: i,
      recordedAt: input.recordedAt,
      body: {
        type: 'cycle-change',
        dutyId: duty.id,
        periodKey: plan.periodKey,
        titleZh: duty.titleZh,
        change: change.kind,
        seq: change.seq,
        deadline: change.deadline,
        ...(change.previousDeadline ? { previousDeadline: change.previousDeadline } : {}),
        ...(change.reasonZh ? { reasonZh: change.reasonZh } : {}),
        units: part.map(row),
        ...(todo ? { linkExpires } : {}),
      },
    })),
  );
}
