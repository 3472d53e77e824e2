// What each person is owed at a stage of a duty cycle: pure, so every rule is checked without a table.
import { describe, expect, it } from 'vitest';
import type { Position } from '../../workflows/catalog/schema.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { planCycle } from '../../workflows/plan.ts';
import type { UnitRecord } from '../../functions/core/model.ts';
import { escalates, stageNotices, type Addressee } from '../../functions/notices/cycle-notices.ts';
import { UNITS_PER_PART, type CycleEscalationBody } from '../../functions/notices/model.ts';

const WEEKLY = loadCatalog().require('risk-prejudgment-weekly');
const plan = planCycle(WEEKLY, '2023-W06');
const stage = (id: string) => plan.stages.find((s) => s.id === id)!;
const person = (id: string, role: string) => ({
  name: `${id}${role}`,
  email: `${id}.${role}@example.gov.cn`,
});

function unit(id: string, extra: Partial<UnitRecord> = {}): UnitRecord {
  return {
    id,
    name: `${id}有限公司`,
    kind: 'enterprise',
    contact: { ...person(id, 'contact'), phone: '13800000000' },
    principal: person(id, 'principal'),
    supervisingDepartmentId: 'dept',
    leaderInChargeId: 'leader',
    active: true,
    ...extra,
  };
}

const office = person('office', 'contact');
const addressee = (u: UnitRecord, position: Position): Addressee | undefined => {
  if (position === 'supervising-department')
    return u.supervisingDepartmentId === 'dept'
      ? {
          person: person('dept', 'principal'),
          position,
          fallback: false,
          scope: { kind: 'department', id: 'dept' },
        }
      : { person: office, position, fallback: true, scope: { kind: 'office', id: 'county-safety-office' } };
  if (position === 'leader-in-charge')
    return {
      person: person('leader', 'holder'),
      position,
      fallback: false,
      scope: { kind: 'leader', id: 'leader' },
    };
  if (position === 'safety-office')
    return {
      person: office,
      position,
      fallback: false,
      scope: { kind: 'office', id: 'county-safety-office' },
    };
  return undefined;
};

const notices = (stageId: string, missing: UnitRecord[], extra: { trackedSince?: string } = {}) =>
  stageNotices({
    duty: WEEKLY,
    plan,
    stage: stage(stageId),
    missing,
    addressee,
    recordedAt: '2023-02-06T08:50:00+08:00',
    ...extra,
  });

describe('reminders', () => {
  it('one notice per contact, at the stage moment, with the units that contact speaks for', () => {
    // ent-b and ent-c share a contact: one notice lists both.
    const shared = { name: '共用联络员', email: 'shared@example.gov.cn' };
    const owed = notices('reminder-2', [
      unit('ent-a'),
      unit('ent-b', { contact: shared }),
      unit('ent-c', { contact: shared }),
    ]);
    expect(owed.map((n) => `${n.recipient.address} ${n.at} ${n.urgency} ${n.stage}`)).toEqual([
      'ent-a.contact@example.gov.cn 2023-02-06T09:00:00+08:00 routine reminder-2',
      'shared@example.gov.cn 2023-02-06T09:00:00+08:00 routine reminder-2',
    ]);
    // The catalog's two Monday reminders are one at the day's first moment: not called the last of two.
    const body = owed[1]?.body;
    expect(body).toMatchObject({ type: 'cycle-reminder', reminder: { n: 1, of: 1 } });
    expect(body?.type === 'cycle-reminder' && body.units.map((u) => u.id)).toEqual(['ent-b', 'ent-c']);
  });
});

describe('escalations', () => {
  it("speak to the unit's own people about their own unit, and to supervisors about the units they supervise", () => {
    const owed = notices('escalation-3', [unit('ent-c'), unit('ent-d')]);
    const lines = owed.map((n) => {
      const b = n.body as CycleEscalationBody;
      return `${n.recipient.address} ${b.audience} ${b.scope.kind}:${b.scope.id} [${b.units.map((u) => u.id).join(',')}] ${b.rolesZh.join('、')}`;
    });
    expect(lines.sort()).toEqual([
      'dept.principal@example.gov.cn supervisor department:dept [ent-c,ent-d] 行业监管部门负责人',
      'ent-c.principal@example.gov.cn own unit:ent-c [ent-c] 单位主要负责人',
      'ent-d.principal@example.gov.cn own unit:ent-d [ent-d] 单位主要负责人',
    ]);
    const digest = owed.find((n) => n.recipient.address === 'dept.principal@example.gov.cn')
      ?.body as CycleEscalationBody;
    expect(digest.units[0]).toEqual({
      id: 'ent-c',
      name: 'ent-c有限公司',
      contactName: 'ent-ccontact',
      contactPhone: '13800000000',
    });
    expect(digest).toMatchObject({ level: 3, levels: 3, deadline: '2023-02-06T18:00:00+08:00' });
  });

  it('never go to a person who is themselves late, even through a supervising position', () => {
    // The department's head is also ent-x's principal: ent-x's escalation to its supervisor reaches nobody twice.
    const late = unit('ent-x', { principal: person('dept', 'principal') });
    const owed = notices('escalation-3', [late, unit('ent-y')]);
    const toHead = owed.filter((n) => n.recipient.address === 'dept.principal@example.gov.cn');
    expect(toHead.map((n) => (n.body as CycleEscalationBody).audience).sort()).toEqual(['own', 'supervisor']);
    const asSupervisor = toHead.find((n) => (n.body as CycleEscalationBody).audience === 'supervisor');
    expect((asSupervisor?.body as CycleEscalationBody).units.map((u) => u.id)).toEqual(['ent-y']);
  });

  it('an empty supervising position goes to 安委办, which is told what it stands in for', () => {
    const owed = notices('escalation-3', [unit('ent-e', { supervisingDepartmentId: undefined })]);
    const toOffice = owed.find((n) => n.recipient.address === office.email)?.body as CycleEscalationBody;
    expect(toOffice.rolesZh).toEqual(['县安委办（代行业监管部门负责人）']);
    expect(toOffice.scope).toEqual({ kind: 'office', id: 'county-safety-office' });
  });

  it('split into parts so no notice grows with the roster', () => {
    const many = Array.from({ length: UNITS_PER_PART * 2 + 3 }, (_, i) =>
      unit(`ent-${String(i).padStart(3, '0')}`),
    );
    const digest = notices('escalation-3', many).filter(
      (n) => n.recipient.address === 'dept.principal@example.gov.cn',
    );
    expect(digest.map((n) => [n.part, (n.body as CycleEscalationBody).units.length])).toEqual([
      [0, UNITS_PER_PART],
      [1, UNITS_PER_PART],
      [2, 3],
    ]);
  });
});

describe('a fair start', () => {
  it('does not escalate a unit that joined the roster after the deadline', () => {
    const joinedLate = unit('ent-new', { joinedAt: '2023-02-07T08:00:00+08:00' });
    const joinedBefore = unit('ent-old', { joinedAt: '2023-02-06T12:00:00+08:00' });
    expect(escalates(joinedLate, plan.deadline, undefined)).toBe(false);
    expect(escalates(joinedBefore, plan.deadline, undefined)).toBe(true);
    const owed = notices('escalation-1', [joinedLate, joinedBefore]);
    expect(owed.map((n) => n.recipient.address)).toEqual(['ent-old.contact@example.gov.cn']);
  });

  it('escalates nobody for a period whose deadline passed before the duty was tracked here', () => {
    expect(notices('escalation-2', [unit('ent-a')], { trackedSince: '2023-02-07T10:00:00+08:00' })).toEqual(
      [],
    );
    expect(
      notices('escalation-2', [unit('ent-a')], { trackedSince: '2023-02-06T10:00:00+08:00' }),
    ).toHaveLength(2);
  });
});
