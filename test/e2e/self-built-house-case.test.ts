import { describe, expect, it } from 'vitest';
import { advance, api } from '../support/runtime.ts';
import { caseMail, caseRuntimes, event, mail } from '../support/case-county.ts';

const TYPE = 'self-built-house-rectification';

const start = caseRuntimes();

function building(town: string, n: number, overrides: Record<string, unknown> = {}) {
  return {
    type: TYPE,
    caseId: `sbh-${town}-${n}`,
    title: `${town}${n}号经营性自建房`,
    responsibleUnitId: town,
    supervisingUnitId: 'dept-housing',
    term: { until: '2023-05-31' },
    fields: {
      address: `${town}幸福路${n}号`,
      // The owner is named without a contact here: nobody to text (see self-built-house-owner.test.ts).
      ownerName: '张某某',
      use: '餐饮',
      findings: '违规加层，承重墙开裂',
      category: '限期整改',
    },
    ...overrides,
  };
}

const PLAN = { measures: '拆除加层，加固承重墙', responsibility: '镇村建办主任', timeline: '5月20日前' };
const SERVED = { ownerServedOn: '2023年3月7日', method: '直接送达，产权人签收' };
const REPORT = { summary: '违规加层、承重墙开裂；已书面通知产权人；拟拆除加层并加固' };

describe('self-built houses: one case per building, reconciled per town (对账销号)', () => {
  it('runs each building through 双通知、一报告, plan, rectification and acceptance, and counts them per town', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    for (const b of [building('town-a', 1), building('town-a', 2), building('town-b', 1)]) {
      const r = await api(rt, 'POST', '/cases', b);
      expect(r.status, r.text).toBe(201);
      expect(r.json).toMatchObject({
        caseId: b.caseId,
        stage: 'awaiting-notices',
        townId: b.responsibleUnitId,
        deadline: '2023-03-09T18:00:00+08:00',
      });
    }
    const a1 = caseMail(rt, 'sbh-town-a-1');
    const b1 = caseMail(rt, 'sbh-town-b-1');
    await advance(rt, '2023-03-06T10:00:00+08:00');
    expect(await a1()).toEqual([
      `【整治通知】 ${mail('housing', 'principal')}`,
      `【整治通知】 ${mail('town-a', 'principal')}`,
    ]);
    expect(await b1()).toEqual([
      `【整治通知】 ${mail('housing', 'principal')}`,
      `【整治通知】 ${mail('town-b', 'principal')}`,
    ]);

    // Building a-1 goes all the way; a-2 is rectified and waits for acceptance; b-1 does nothing.
    await advance(rt, '2023-03-07T10:00:00+08:00');
    for (const id of ['sbh-town-a-1', 'sbh-town-a-2']) {
      const served = await event(rt, id, {
        event: 'notices-served',
        person: { name: '孙干事' },
        fields: SERVED,
      });
      expect(served.status, served.text).toBe(201);
      const reported = await event(rt, id, {
        event: 'report-submitted',
        person: { name: '孙干事' },
        fields: REPORT,
      });
      expect(reported.status, reported.text).toBe(201);
      expect((await event(rt, id, { event: 'plan-submitted', fields: PLAN })).status).toBe(201);
      const done = await event(rt, id, {
        event: 'completion-reported',
        person: { name: '赵主任' },
        fields: { summary: '已拆除加层' },
      });
      expect(done.status).toBe(201);
    }
    const self = await event(rt, 'sbh-town-a-1', {
      event: 'acceptance-passed',
      person: { name: '赵主任' },
      fields: { opinion: '合格' },
    });
    expect(self.status).toBe(403);
    const pass = await event(rt, 'sbh-town-a-1', {
      event: 'acceptance-passed',
      person: { name: '钱工' },
      fields: { opinion: '逐栋验收合格' },
    });
    expect(pass.status).toBe(201);
    await advance(rt, '2023-03-07T10:00:00+08:00');
    // 一报告 reaches the housing bureau; 销号 the town and the bureau.
    expect(await a1()).toEqual(
      [
        `【隐患报告】 ${mail('housing', 'principal')}`,
        `【隐患报告】 ${mail('housing', 'contact')}`,
        `【销号】 ${mail('housing', 'principal')}`,
        `【销号】 ${mail('town-a', 'principal')}`,
      ].sort(),
    );

    // b-1's written notices (双通知) were due Thursday 9 March: the town's head hears on the next working day.
    await advance(rt, '2023-03-10T09:00:00+08:00');
    expect(await b1()).toEqual([
      `【提醒】 ${mail('town-b', 'contact')}`,
      `【逾期】L1 ${mail('town-b', 'principal')}`,
    ]);

    const townA = await api(rt, 'GET', `/cases/reconciliation?type=${TYPE}&town=town-a`);
    expect(townA.status).toBe(200);
    expect(townA.json.towns).toEqual([
      expect.objectContaining({
        townId: 'town-a',
        townName: '青山镇',
        listed: 2,
        rectified: 2,
        accepted: 1,
        overdue: 0,
      }),
    ]);
    const all = await api(rt, 'GET', `/cases/reconciliation?type=${TYPE}`);
    expect(all.json.total).toEqual({ listed: 3, rectified: 2, accepted: 1, overdue: 1 });
    expect(
      (all.json.towns as Record<string, unknown>[]).map((t) => [
        t.townId,
        t.listed,
        t.rectified,
        t.accepted,
        t.overdue,
      ]),
    ).toEqual([
      ['town-a', 2, 2, 1, 0],
      ['town-b', 1, 0, 0, 1],
    ]);
    expect((all.json.towns as { overdueCases: string[] }[])[1]?.overdueCases).toEqual(['sbh-town-b-1']);
    expect((all.json.towns as { byStage: Record<string, number> }[])[0]?.byStage).toEqual({
      'awaiting-notices': 0,
      'awaiting-report': 0,
      'awaiting-plan': 0,
      rectifying: 0,
      'awaiting-acceptance': 1,
      closed: 1,
    });

    // The same through the list and the overdue ledger.
    const ids = async (q: string) =>
      ((await api(rt, 'GET', `/cases?${q}`)).json.cases as { caseId: string }[]).map((c) => c.caseId);
    expect(await ids(`type=${TYPE}&town=town-a`)).toEqual(['sbh-town-a-1', 'sbh-town-a-2']);
    expect(await ids(`type=${TYPE}&overdue=true`)).toEqual(['sbh-town-b-1']);
    expect(await ids('status=closed')).toEqual(['sbh-town-a-1']);
    expect(await ids('stage=awaiting-acceptance&unit=dept-housing')).toEqual(['sbh-town-a-2']);
    const ledger = (await api(rt, 'GET', '/overdue')).json as { items: Record<string, unknown>[] };
    expect(ledger.items.filter((i) => i.kind === 'case')).toEqual([
      expect.objectContaining({
        item: 'case:sbh-town-b-1',
        unitId: 'town-b',
        unitName: '河东镇',
        workdaysOverdue: 1,
        escalationLevel: 1,
      }),
    ]);
  });

  it('refuses a case that does not fit its type or the roster, and bad queries, writing nothing', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const refused = async (body: unknown, status: number, pattern: RegExp) => {
      const r = await api(rt, 'POST', '/cases', body);
      expect(r.status, r.text).toBe(status);
      expect(r.json.message).toMatch(pattern);
      return r;
    };
    await refused(building('town-a', 1, { type: 'flood-control' }), 400, /未知的案件类型：flood-control/);
    await refused(building('ent-a', 1), 422, /单位与案件类型不符/);
    await refused(building('town-z', 1), 404, /未知或已停用的单位/);
    const missing = await refused(
      building('town-a', 1, { fields: { address: '幸福路1号' } }),
      400,
      /缺少：产权人（房屋所有人）、经营用途、排查发现的问题、整治类别/,
    );
    expect((missing.json.issues as { field: string }[]).map((i) => i.field)).toEqual([
      'fields.ownerName',
      'fields.use',
      'fields.findings',
      'fields.category',
    ]);
    await refused(building('town-a', 1, { term: { until: '2023-03-01' } }), 400, /整改期限必须晚于当前时间/);
    await refused(
      building('town-a', 1, { term: { until: '2023-03-08' } }),
      400,
      /不能早于待送达双通知的期限/,
    );
    await refused(building('town-a', 1, { term: { until: '2023-02-30' } }), 400, /日期无效/);
    await refused(building('town-a', 1, { caseId: 'reconciliation' }), 400, /请求内容有误/);
    await refused(building('town-a', 1, { supervisingUnitId: 'town-a' }), 422, /单位与案件类型不符/);
    await refused({ ...building('town-a', 1), colour: 'red' }, 400, /请求内容有误/);
    // A title or field that would carry a line break into an email subject, or reverse how it reads.
    for (const over of [
      { title: '幸福路1号\r\nBcc: evil@example.com' },
      { title: '\u202e号1路福幸' },
      { title: '\u200b' },
      { fields: { ...building('town-a', 1).fields, findings: '墙体开裂\u0007' } },
    ]) {
      const r = await refused(building('town-a', 1, over), 400, /请求内容有误/);
      expect((r.json.issues as { problem: string }[])[0]?.problem).toMatch(/控制字符|不能为空/);
    }
    expect((await api(rt, 'GET', '/cases')).json.count).toBe(0);

    expect((await api(rt, 'POST', '/cases', building('town-a', 1))).status).toBe(201);
    await refused(building('town-a', 1), 409, /案件编号已存在/);

    expect((await api(rt, 'GET', '/cases/reconciliation')).status).toBe(400);
    expect((await api(rt, 'GET', '/cases/reconciliation?type=nope')).status).toBe(400);
    expect((await api(rt, 'GET', '/cases?status=done')).status).toBe(400);
    expect((await api(rt, 'GET', '/cases/sbh-nothing')).status).toBe(404);
    expect((await api(rt, 'GET', '/cases', undefined, { authorization: '' })).status).toBe(401);
    expect(
      (await api(rt, 'POST', '/cases', building('town-a', 2), { authorization: 'Bearer wrong' })).status,
    ).toBe(401);
    expect((await api(rt, 'GET', '/cases')).json.count).toBe(1);
  });
});
