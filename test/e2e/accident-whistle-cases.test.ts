import { describe, expect, it } from 'vitest';
import { advance, api } from '../support/runtime.ts';
import { caseMail, caseRuntimes, event, mail } from '../support/case-county.ts';

// Section 三 (accident outcomes published and evaluated) and section 五 (whistle-blower reports) as cases, on the
// virtual clock: what each party hears, on time and late.

const start = caseRuntimes();

const LEADER = 'leader-a@example.gov.cn';
const person = { name: '应急局王科长' };

function accident(caseId: string) {
  return {
    type: 'accident-follow-up',
    caseId,
    title: '某化工企业“2·18”一般中毒事故',
    responsibleUnitId: 'dept-emergency',
    supervisingUnitId: 'county-safety-office',
    // The approval was on 6 March 2023: the evaluation is due within one year (Work Safety Law art. 86).
    term: { until: '2024-03-06' },
    fields: {
      accident: '某化工企业“2·18”一般中毒事故',
      occurredOn: '2023年2月18日',
      grade: '一般事故',
      approval: '襄政函〔2023〕15号，2023年3月6日批复',
    },
  };
}

function report(caseId: string, term: Record<string, unknown> = { days: 60 }) {
  return {
    type: 'whistle-blower-report',
    caseId,
    title: '举报某砖厂夜间违规生产',
    responsibleUnitId: 'dept-emergency',
    supervisingUnitId: 'county-safety-office',
    term,
    fields: {
      subject: '青山镇某砖厂',
      content: '夜间关闭监控违规生产，窑体有裂缝',
      channel: '12350举报电话',
      receivedOn: '2023年3月6日',
    },
  };
}

describe('accident follow-up (事故调查处理结果公开与评估)', () => {
  it('on time: published, evaluated within the year, closed with notice to the leader', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const opened = await api(rt, 'POST', '/cases', accident('acc-on-time'));
    expect(opened.status, opened.text).toBe(201);
    expect(opened.json).toMatchObject({ stage: 'awaiting-publication' });
    const said = caseMail(rt, 'acc-on-time');
    await advance(rt, '2023-03-06T10:00:00+08:00');
    expect(await said()).toEqual([
      `【事故调查处理】 ${mail('dept', 'principal')}`,
      `【事故调查处理】 ${mail('office', 'principal')}`,
    ]);

    await advance(rt, '2023-03-20T10:00:00+08:00');
    const published = await event(rt, 'acc-on-time', {
      event: 'outcome-published',
      person,
      fields: {
        where: '县政府门户网站 http://www.example.gov.cn/sgdc/2023-02',
        publishedOn: '2023年3月20日',
      },
    });
    expect(published.status, published.text).toBe(201);
    expect(published.json.case).toMatchObject({
      stage: 'awaiting-evaluation',
      deadline: '2024-03-06T18:00:00+08:00',
    });
    // Published before the first reminder was due: nothing is said until the evaluation's reminders.
    await advance(rt, '2023-05-01T10:00:00+08:00');
    expect(await said()).toEqual([]);

    const done = await event(rt, 'acc-on-time', {
      event: 'evaluation-completed',
      person,
      fields: { conclusion: '整改和防范措施已落实', disclosure: '2023年11月在县政府门户网站公开' },
    });
    expect(done.status, done.text).toBe(201);
    await advance(rt, '2023-05-04T10:00:00+08:00');
    expect(await said()).toEqual([
      `【评估完成】 ${mail('dept', 'principal')}`,
      `【评估完成】 ${LEADER}`,
      `【评估完成】 ${mail('office', 'principal')}`,
    ]);
    const c = await api(rt, 'GET', '/cases/acc-on-time');
    expect(c.json).toMatchObject({ status: 'closed', stage: 'closed' });
  });

  it('late: the outcome unpublished is reminded, then escalated to the county leader and 安委办, skipping 清明', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    expect((await api(rt, 'POST', '/cases', accident('acc-late'))).status).toBe(201);
    const said = caseMail(rt, 'acc-late');
    await advance(rt, '2023-03-06T10:00:00+08:00');
    await said();
    // 20 working days after 6 March: Monday 3 April, 18:00. Reminders 5 and 1 working days before.
    await advance(rt, '2023-03-31T10:00:00+08:00');
    expect(await said()).toEqual([
      `【提醒】 ${mail('dept', 'contact')}`,
      `【提醒】 ${mail('dept', 'contact')}`,
    ]);
    await advance(rt, '2023-04-04T10:00:00+08:00');
    expect(await said()).toEqual([`【逾期】L1 ${mail('dept', 'principal')}`]);
    // Level 2 on the third working day after: 5 April is 清明 (a holiday), so Friday 7 April.
    await advance(rt, '2023-04-06T20:00:00+08:00');
    expect(await said()).toEqual([]);
    await advance(rt, '2023-04-11T10:00:00+08:00');
    expect(await said()).toEqual([
      `【逾期】L2 ${mail('dept', 'principal')}`,
      `【逾期】L2 ${LEADER}`,
      `【逾期】L3 ${LEADER}`,
      `【逾期】L3 ${mail('office', 'contact')}`,
    ]);
    const ledger = (await api(rt, 'GET', '/overdue')).json as { items: Record<string, unknown>[] };
    expect(ledger.items.filter((i) => i.kind === 'case')).toEqual([
      expect.objectContaining({ item: 'case:acc-late', unitId: 'dept-emergency', escalationLevel: 3 }),
    ]);
  });
});

describe('whistle-blower reports (吹哨人、举报)', () => {
  it('on time: verified, handled and the reporter answered, closed', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const opened = await api(rt, 'POST', '/cases', report('wb-on-time'));
    expect(opened.status, opened.text).toBe(201);
    // 60 days from 6 March is Friday 5 May, a working day.
    expect(opened.json).toMatchObject({ stage: 'awaiting-verification', term: '2023-05-05T18:00:00+08:00' });
    const said = caseMail(rt, 'wb-on-time');
    await advance(rt, '2023-03-06T10:00:00+08:00');
    expect(await said()).toEqual([
      `【举报核查】 ${mail('dept', 'principal')}`,
      `【举报核查】 ${mail('office', 'principal')}`,
    ]);
    const steps: [string, Record<string, string>, string][] = [
      ['verified', { finding: '现场核实窑体裂缝，夜间生产属实' }, 'handling'],
      ['handled', { result: '责令停产整改，罚款5万元' }, 'awaiting-reply'],
      ['replied', { method: '电话（原举报渠道）', reply: '已告知核查属实及处理结果' }, 'closed'],
    ];
    for (const [id, fields, stage] of steps) {
      const r = await event(rt, 'wb-on-time', { event: id, person, fields });
      expect(r.status, r.text).toBe(201);
      expect(r.json.case).toMatchObject({ stage });
    }
    await advance(rt, '2023-03-07T10:00:00+08:00');
    expect(await said()).toEqual([
      `【办结】 ${mail('dept', 'principal')}`,
      `【办结】 ${mail('office', 'principal')}`,
    ]);
    const history = (await api(rt, 'GET', '/cases/wb-on-time')).json.history as { event: string }[];
    expect(history.map((h) => h.event)).toEqual(['opened', 'verified', 'handled', 'replied']);
  });

  it('late: handling past its term escalates, first on the 调休 working Saturday after 五一', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    expect((await api(rt, 'POST', '/cases', report('wb-late'))).status).toBe(201);
    const said = caseMail(rt, 'wb-late');
    await advance(rt, '2023-03-06T10:00:00+08:00');
    await said();
    expect(
      (await event(rt, 'wb-late', { event: 'verified', person, fields: { finding: '属实' } })).status,
    ).toBe(201);
    await advance(rt, '2023-05-05T20:00:00+08:00');
    expect(await said()).toEqual([
      `【提醒】 ${mail('dept', 'contact')}`,
      `【提醒】 ${mail('dept', 'contact')}`,
      `【提醒】 ${mail('dept', 'contact')}`,
    ]);
    await advance(rt, '2023-05-06T10:00:00+08:00');
    expect(await said()).toEqual([`【逾期】L1 ${mail('dept', 'principal')}`]);
    // The unfounded path skips handling: a reply is then owed within 5 working days.
    expect((await api(rt, 'POST', '/cases', report('wb-unfounded'))).status).toBe(201);
    const r = await event(rt, 'wb-unfounded', {
      event: 'unfounded',
      person,
      fields: { finding: '现场无生产迹象' },
    });
    expect(r.json.case).toMatchObject({ stage: 'awaiting-reply', deadline: '2023-05-12T18:00:00+08:00' });
  });

  it('moves a term given as a holiday to the next working day, and says so', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const r = await api(rt, 'POST', '/cases', report('wb-holiday', { until: '2023-10-01' }));
    expect(r.status, r.text).toBe(201);
    const note = '原定2023年10月1日（法定节假日：国庆节），顺延至2023年10月7日';
    expect(r.json).toMatchObject({
      term: '2023-10-07T18:00:00+08:00',
      termMovedFrom: '2023-10-01',
      termLabelZh: '处理期限',
      termNoteZh: note,
    });
    const verified = await event(rt, 'wb-holiday', {
      event: 'verified',
      person,
      fields: { finding: '属实' },
    });
    expect(verified.json.case).toMatchObject({ termNoteZh: note });
    const history = (await api(rt, 'GET', '/cases/wb-holiday')).json.history as Record<string, unknown>[];
    expect(history[0]).toMatchObject({ event: 'opened', termMovedFrom: '2023-10-01' });
    const page = await fetch(`${rt.apiUrl}/cases/wb-holiday`, {
      headers: { accept: 'text/html', authorization: `Bearer ${rt.adminToken}` },
    });
    expect(await page.text()).toContain(`处理期限：2023年10月7日（星期六）18:00（${note}）`);
  });

  it('refuses an event with a missing field, naming it in Chinese', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    expect((await api(rt, 'POST', '/cases', report('wb-bad'))).status).toBe(201);
    const r = await event(rt, 'wb-bad', { event: 'replied', person, fields: { method: '电话' } });
    expect(r.status).toBe(409);
    const missing = await event(rt, 'wb-bad', { event: 'verified', person, fields: {} });
    expect(missing.status).toBe(400);
    expect(missing.json.message).toMatch(/核查情况/);
  });
});
