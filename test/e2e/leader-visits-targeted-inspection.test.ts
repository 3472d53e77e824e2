import { afterEach, describe, expect, it } from 'vitest';
import type { Leader, Unit } from '../../functions/core/model.ts';
import type { Runtime } from '../../local/runtime.ts';
import type { SentMail } from '../../local/ses-gateway.ts';
import {
  LEADER_A,
  advance,
  api,
  countyCore,
  mailItems,
  sentMails,
  startTestRuntime,
} from '../support/runtime.ts';

// Duties that name who did not do them: each county leader's monthly field visit (a leader who did not go is named to
// 安委办, then to the county head), and section 八's targeted inspection, owed only by the departments that supervise
// a town or enterprise marked as having had a major or large accident in the last three years.

let runtimes: Runtime[] = [];
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

async function start(clock: string, units: Unit[], leaders: Leader[]): Promise<Runtime> {
  const rt = await startTestRuntime({ clock, units, leaders, reconcileEveryMs: 6 * 3_600_000 });
  runtimes.push(rt);
  return rt;
}

const person = (name: string, email: string) => ({ name, email: `${email}@example.gov.cn` });
const leader = (id: string, titleZh: string, name: string): Leader => ({
  id,
  titleZh,
  holder: person(name, id),
});
/** A county leader on the roster: contact (a secretary, or the leader) and principal (the leader), under the head. */
const countyLeader = (l: Leader, contact = l.holder): Unit => ({
  id: `county-${l.id}`,
  name: `${l.titleZh}${l.holder.name}`,
  kind: 'county-leader',
  contact,
  principal: l.holder,
  leaderInChargeId: 'leader-head',
  active: true,
});

const at = (m: SentMail) => new Date(m.at + 8 * 3_600_000).toISOString().slice(0, 16);

describe('each county leader’s monthly field visit', () => {
  const head = leader('leader-head', '县长', '陈志强');
  const wang = leader('leader-wang', '常务副县长', '王建国');
  const li = leader('leader-li', '副县长', '李卫东');

  it('names the leader who did not report to 安委办, then to the county head; the one who reported hears nothing more', async () => {
    const secretary = person('赵磊', 'wang.secretary');
    const rt = await start(
      '2023-02-20T08:00:00+08:00',
      [...countyCore(), countyLeader(head), countyLeader(wang, secretary), countyLeader(li)],
      [LEADER_A, head, wang, li],
    );
    // 李卫东 reports his visit before the deadline (the last working day of February, Tuesday the 28th, 18:00).
    await advance(rt, '2023-02-24T10:00:00+08:00');
    const r = await api(rt, 'POST', '/cycles/leader-monthly-field-visit/2023-02/submissions', {
      unitId: 'county-leader-li',
      note: '2月15日深入县化工园区两家企业调研指导安全生产',
    });
    expect(r.status, r.text).toBe(201);
    await advance(rt, '2023-03-06T12:00:00+08:00');

    const visits = (address: string) =>
      sentMails(rt)
        .filter((m) => m.to.includes(address))
        .flatMap((m) =>
          mailItems(m)
            .filter((i) => i.text.includes('县领导干部每月深入一线或企业调研指导安全生产'))
            .map((i) => ({ ...i, at: at(m) })),
        );
    const escalations = (address: string) => visits(address).filter((i) => i.kind === 'escalation');

    // The reminders reached 王建国 through his secretary; the last one came before 李卫东 reported.
    expect(visits(secretary.email).filter((i) => i.kind === 'reminder').length).toBeGreaterThan(0);
    // Level 1, the morning after the deadline: the leader himself (and his secretary), as his own.
    expect(escalations(wang.holder.email).map((i) => [i.at, i.level, i.own])).toEqual([
      ['2023-03-01T09:00', 1, true],
    ]);
    expect(escalations(secretary.email).map((i) => [i.at, i.level, i.own])).toEqual([
      ['2023-03-01T09:00', 1, true],
    ]);
    // Level 2: 安委办 gets the names of the leaders who did not report.
    const office = escalations('office.contact@example.gov.cn');
    expect(office.map((i) => [i.at, i.level, i.own])).toEqual([['2023-03-02T09:00', 2, false]]);
    expect(office[0]?.units.sort()).toEqual(['县长陈志强', '常务副县长王建国']);
    expect(office[0]?.text).toContain('常务副县长王建国（联系人：赵磊');
    expect(office[0]?.text).not.toContain('李卫东');
    // Level 3: the county head, for 王建国; the head's own missing visit is told to him as his own, never as a
    // supervisor of himself.
    const toHead = escalations(head.holder.email);
    expect(toHead.map((i) => [i.at, i.level, i.own])).toEqual([
      ['2023-03-01T09:00', 1, true],
      ['2023-03-06T09:00', 3, false],
    ]);
    expect(toHead[1]?.units).toEqual(['常务副县长王建国']);
    // 李卫东 reported: no escalation of the visit reaches him, and the overdue ledger does not name him.
    expect(escalations(li.holder.email)).toEqual([]);
    const ledger = (await api(rt, 'GET', '/overdue?duty=leader-monthly-field-visit')).json as {
      items: { unitId: string; escalationLevel: number }[];
    };
    expect(ledger.items.map((i) => [i.unitId, i.escalationLevel]).sort()).toEqual([
      ['county-leader-head', 3],
      ['county-leader-wang', 3],
    ]);
  });
});

describe('the targeted inspection of units with a major or large accident in the last three years', () => {
  const marked = ['近三年发生较大及以上事故'];
  const unit = (id: string, name: string, kind: Unit['kind'], extra: Partial<Unit> = {}): Unit => ({
    id,
    name,
    kind,
    contact: person(`${name}联络员`, `${id}.contact`),
    principal: person(`${name}负责人`, `${id}.principal`),
    leaderInChargeId: 'leader-a',
    active: true,
    ...extra,
  });
  const roster = [
    ...countyCore(),
    unit('dept-housing', '县住房和城乡建设局', 'county-department', {
      supervisingDepartmentId: 'county-safety-office',
    }),
    unit('dept-market', '县市场监督管理局', 'county-department', {
      supervisingDepartmentId: 'county-safety-office',
    }),
    unit('dept-water', '县水利局', 'county-department', { supervisingDepartmentId: 'county-safety-office' }),
    // A marked town: its supervising department (the emergency management bureau, where 安委办 sits) inspects it.
    unit('town-001', '河东镇', 'town', { supervisingDepartmentId: 'dept-emergency', attributes: marked }),
    unit('ent-001', '河东建筑工程有限公司', 'enterprise', {
      parentId: 'town-001',
      supervisingDepartmentId: 'dept-housing',
      attributes: ['县属监管企业', ...marked],
    }),
    unit('ent-002', '青山食品有限公司', 'enterprise', {
      parentId: 'town-001',
      supervisingDepartmentId: 'dept-market',
      attributes: ['县属监管企业'],
    }),
    // Marked, but no longer on the active roster: nobody inspects it.
    unit('ent-003', '石桥水务有限公司', 'enterprise', {
      parentId: 'town-001',
      supervisingDepartmentId: 'dept-water',
      attributes: marked,
      active: false,
    }),
  ];

  it('reaches only the departments that supervise a marked town or enterprise', async () => {
    const rt = await start('2023-10-25T08:00:00+08:00', roster, [LEADER_A]);
    const cycle = await api(rt, 'GET', '/cycles/accident-units-targeted-inspection/2023');
    expect(cycle.status, cycle.text).toBe(200);
    const units = (cycle.json.units as { unitId: string }[]).map((u) => u.unitId).sort();
    expect(units).toEqual(['dept-emergency', 'dept-housing']);

    // The first reminder, 30 days before the deadline of 30 November: the two departments' contacts, nobody else.
    await advance(rt, '2023-10-31T12:00:00+08:00');
    const reminded = sentMails(rt)
      .filter((m) => mailItems(m).some((i) => i.kind === 'reminder' && i.text.includes('重点巡查')))
      .flatMap((m) => m.to)
      .sort();
    expect(reminded).toEqual(['dept-housing.contact@example.gov.cn', 'dept.contact@example.gov.cn']);

    // A department that supervises no marked unit cannot report it; one that does can.
    const refused = await api(rt, 'POST', '/cycles/accident-units-targeted-inspection/2023/submissions', {
      unitId: 'dept-market',
      note: '已巡查',
    });
    expect(refused.status, refused.text).toBe(422);
    expect(refused.json.message).toContain(
      '不是“对近三年发生较大及以上事故的镇、企业开展重点巡查”的责任单位',
    );
    const ok = await api(rt, 'POST', '/cycles/accident-units-targeted-inspection/2023/submissions', {
      unitId: 'dept-housing',
      note: '10月30日对河东建筑工程有限公司开展重点巡查',
    });
    expect(ok.status, ok.text).toBe(201);
  });
});
