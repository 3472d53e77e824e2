import { afterEach, describe, expect, it } from 'vitest';
import type { Unit } from '../../functions/core/model.ts';
import type { Runtime } from '../../local/runtime.ts';
import {
  LEADER_A,
  advance,
  api,
  countyCore,
  mailItems,
  sentMails,
  startTestRuntime,
  testEnterprise,
} from '../support/runtime.ts';

// The daily hidden-danger reports summed up for 安委办 (section 五, 隐患排查日报告制度): the next working day at 09:00,
// one item per day — per town and per supervising department, who owed it, reported (late), did not, and the hidden
// dangers found — so the county's day is seen without opening every report.

let runtimes: Runtime[] = [];
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

const mail = (id: string, role: string) => `${id}.${role}@example.gov.cn`;
const person = (id: string, role: string, name: string) => ({ name, email: mail(id, role) });

function county(): Unit[] {
  const site = (id: string, parentId: string, extra: Partial<Unit> = {}): Unit => ({
    id,
    name: `${id}班组`,
    kind: 'site',
    parentId,
    contact: person(id, 'contact', `${id}班组长`),
    principal: person(id, 'principal', `${id}负责人`),
    active: true,
    ...extra,
  });
  return [
    ...countyCore(),
    {
      id: 'dept-market',
      name: '县市场监督管理局',
      kind: 'county-department',
      contact: person('market', 'contact', '市场局联络员'),
      principal: person('market', 'principal', '市场局局长'),
      leaderInChargeId: 'leader-a',
      active: true,
    },
    ...(['town-a', 'town-b'] as const).map((id) => ({
      id,
      name: id === 'town-a' ? '青山镇' : '河东镇',
      kind: 'town' as const,
      contact: person(id, 'contact', `${id}联络员`),
      principal: person(id, 'principal', `${id}镇长`),
      leaderInChargeId: 'leader-a',
      active: true,
    })),
    testEnterprise('ent-a', { parentId: 'town-a' }),
    testEnterprise('ent-b', { parentId: 'town-b', supervisingDepartmentId: 'dept-market' }),
    site('site-a1', 'ent-a'),
    site('site-a2', 'ent-a'),
    site('site-b1', 'ent-b'),
    // A site of the town itself, supervised directly by the emergency management bureau.
    site('site-t', 'town-b', { supervisingDepartmentId: 'dept-emergency' }),
  ];
}

async function start(clock: string): Promise<Runtime> {
  const rt = await startTestRuntime({
    clock,
    units: county(),
    leaders: [LEADER_A],
    reconcileEveryMs: 6 * 3_600_000,
  });
  runtimes.push(rt);
  return rt;
}

const report = (rt: Runtime, day: string, unitId: string, hazards: number) =>
  api(rt, 'POST', `/cycles/hazard-daily-report/${day}/submissions`, {
    unitId,
    evidence: { fields: { inspector: '张伟', areas: '车间、仓库', hazards: String(hazards) } },
  });

describe('the daily hidden-danger reports summed up for 安委办', () => {
  it('on the next working day at 09:00, one item per day, by town and by department, late and missing counted', async () => {
    // Friday 7 July 2023.
    const rt = await start('2023-07-07T08:00:00+08:00');
    await advance(rt, '2023-07-07T10:00:00+08:00');
    expect((await report(rt, '2023-07-07', 'site-a1', 2)).status).toBe(201);
    expect((await report(rt, '2023-07-07', 'site-b1', 0)).status).toBe(201);
    // After the 18:00 deadline: late.
    await advance(rt, '2023-07-07T19:00:00+08:00');
    expect((await report(rt, '2023-07-07', 'site-t', 1)).status).toBe(201);
    // The weekend: everyone reports on Saturday, nobody on Sunday.
    await advance(rt, '2023-07-08T10:00:00+08:00');
    for (const id of ['site-a1', 'site-a2', 'site-b1', 'site-t'])
      expect((await report(rt, '2023-07-08', id, 0)).status).toBe(201);
    await advance(rt, '2023-07-09T20:00:00+08:00');
    const rollups = () =>
      sentMails(rt)
        .filter((m) => m.to.includes(mail('office', 'contact')))
        .flatMap((m) => mailItems(m).map((i) => ({ at: m.at, ...i })))
        .filter((i) => i.title.startsWith('隐患排查日报汇总'));
    // Nothing over the weekend: the roll-up waits for a working day.
    expect(rollups()).toEqual([]);

    await advance(rt, '2023-07-10T09:30:00+08:00');
    const items = rollups();
    expect(items.map((i) => [i.title, new Date(i.at + 8 * 3_600_000).toISOString().slice(0, 16)])).toEqual([
      ['隐患排查日报汇总（2023年7月7日）', '2023-07-10T09:00'],
      ['隐患排查日报汇总（2023年7月8日）', '2023-07-10T09:00'],
      ['隐患排查日报汇总（2023年7月9日）', '2023-07-10T09:00'],
    ]);
    // All three in one email.
    expect(new Set(items.map((i) => i.at)).size).toBe(1);
    const [friday, saturday, sunday] = items.map((i) => i.text);
    expect(friday).toContain('应报4个单位，已报3个（其中迟报1个），未报1个；发现隐患3。');
    // By town: 青山镇 has site-a1 (2 hazards) and site-a2 (missing); 河东镇 site-b1 (0) and site-t (1, late).
    expect(friday).toContain('1. 青山镇（应报：2，已报：1，其中迟报：0，未报：1，发现隐患：2）');
    expect(friday).toContain('2. 河东镇（应报：2，已报：2，其中迟报：1，未报：0，发现隐患：1）');
    // By department: the emergency bureau supervises ent-a's sites and site-t; the market bureau ent-b's.
    expect(friday).toContain('1. 县应急管理局（应报：3，已报：2，其中迟报：1，未报：1，发现隐患：3）');
    expect(friday).toContain('2. 县市场监督管理局（应报：1，已报：1，其中迟报：0，未报：0，发现隐患：0）');
    expect(friday).toContain('未报单位：site-a2班组。');
    expect(saturday).toContain('应报4个单位，已报4个（其中迟报0个），未报0个；发现隐患0。');
    expect(saturday).not.toContain('未报单位');
    expect(sunday).toContain('未报4个');
    // The read-only overdue list behind the link names the unit that did not report.
    const link = /查看逾期单位清单（只读，实时更新）：(\S+)/.exec(friday ?? '')?.[1];
    expect(link).toBeDefined();
    const page = await fetch(link ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('site-a2班组');
    // In 安委办's morning email, under a section of its own.
    const email = sentMails(rt).find((m) => m.text?.includes('隐患排查日报汇总（2023年7月7日）'));
    expect(email?.text).toMatch(/[一二三四五六]、汇总情况/);
  });
});
