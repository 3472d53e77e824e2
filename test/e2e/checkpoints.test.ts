import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { LEADER_A, advance, api, countyCore, sentMails, startTestRuntime } from '../support/runtime.ts';

// A duty due at the end of the year is checked inside it: the county drill not done by 1 October is named to the
// responsible body's head and the county leader in charge while there is still time, not in January.

let runtimes: Runtime[] = [];
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

async function start(clock: string): Promise<Runtime> {
  // 安委办 organises the county drill; the executive vice county head is in charge of it.
  const units = countyCore().map((u) =>
    u.id === 'county-safety-office' ? { ...u, leaderInChargeId: 'leader-a' } : u,
  );
  const rt = await startTestRuntime({ clock, units, leaders: [LEADER_A], reconcileEveryMs: 6 * 3_600_000 });
  runtimes.push(rt);
  return rt;
}

const checkpointMails = (rt: Runtime) =>
  sentMails(rt).filter((m) => m.text?.includes('【进度检查】全县年度综合性应急演练'));

describe('a checkpoint inside the year', () => {
  it('names the undone county drill to its head and the leader in charge on the first working day after 1 October', async () => {
    const rt = await start('2023-09-20T08:00:00+08:00');
    await advance(rt, '2023-10-06T20:00:00+08:00');
    expect(checkpointMails(rt)).toEqual([]);
    // 1 October falls in the National Day rest (29 September to 6 October): the check goes out on Saturday 7 October,
    // a working day.
    await advance(rt, '2023-10-07T12:00:00+08:00');
    const mails = checkpointMails(rt);
    expect(
      mails.map((m) => [m.to.join(), new Date(m.at + 8 * 3_600_000).toISOString().slice(0, 16)]).sort(),
    ).toEqual([
      ['leader-a@example.gov.cn', '2023-10-07T09:00'],
      ['office.principal@example.gov.cn', '2023-10-07T09:00'],
    ]);
    const leader = mails.find((m) => m.to.includes('leader-a@example.gov.cn'));
    expect(leader?.text).toContain(
      '进度检查（年度综合性演练是否已组织或已排定日期）：以下1个单位尚未完成“全县年度综合性应急演练”（2023年度），截止时间为2023年12月29日（星期五）18:00',
    );
    expect(leader?.text).toContain('县安委办');
    const own = mails.find((m) => m.to.includes('office.principal@example.gov.cn'));
    expect(own?.text).toContain('您单位县安委办尚未完成“全县年度综合性应急演练”（2023年度）');
    expect(own?.text).toMatch(/\/links\/[\w.-]+/);
    // Not an escalation: nobody is overdue, the ledger is empty for it.
    const ledger = (await api(rt, 'GET', '/overdue?duty=annual-comprehensive-drill')).json as {
      items: unknown[];
    };
    expect(ledger.items).toEqual([]);
  });

  it('says nothing when the drill was reported before the check', async () => {
    const rt = await start('2023-09-20T08:00:00+08:00');
    await advance(rt, '2023-09-21T10:00:00+08:00');
    const r = await api(rt, 'POST', '/cycles/annual-comprehensive-drill/2023/submissions', {
      unitId: 'county-safety-office',
      note: '9月20日已组织全县防汛和危化品泄漏综合演练',
    });
    expect(r.status, r.text).toBe(201);
    await advance(rt, '2023-10-09T12:00:00+08:00');
    expect(checkpointMails(rt)).toEqual([]);
  });
});
