import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { advance, api, startTestRuntime, tempDir } from '../support/runtime.ts';
import {
  caseCounty,
  caseLinkFor as linkFor,
  caseEmails,
  caseMail,
  event,
  FIVE_PARTS,
  itemEmails,
  mail,
  openMajorHazard,
} from '../support/case-county.ts';

let runtimes: Runtime[] = [];
// The first runtime of a process loads the CDK app and the emulators: pay for it here, not in the first test.
beforeAll(async () => {
  await (await start('2023-01-02T00:00:00+08:00')).close();
  runtimes = [];
});
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

async function start(clock: string, dataDir: string | null = null): Promise<Runtime> {
  const { units, leaders } = caseCounty();
  // The reconciler runs at start (a restart needs it) and every 6 hours: these walks span months.
  const rt = await startTestRuntime({
    clock,
    units,
    leaders,
    dataDir,
    scheduler: false,
    reconcileEveryMs: 6 * 3_600_000,
  });
  runtimes.push(rt);
  return rt;
}

/** The latest item about this case (its subject as an email of its own, and its text). */
async function latest(rt: Runtime, caseId: string) {
  return itemEmails(rt)
    .filter((e) => e.body.text.includes(`案件编号：${caseId}`))
    .at(-1);
}

async function getCase(rt: Runtime, caseId: string) {
  return (await api(rt, 'GET', `/cases/${caseId}`)).json as Record<string, unknown> & {
    stage: string;
    status: string;
    term: string;
    history: { event: string; seq: number }[];
    workflow: { generation: number };
  };
}

const executions = (rt: Runtime, caseId: string) =>
  rt.engine
    .list(rt.caseStateMachineArn)
    .filter((e) => e.name === caseId || e.name.startsWith(`${caseId}_g`))
    .map((e) => `${e.name}:${e.status}`)
    .sort();

const WANG = { name: '王工', email: 'wang.gong@example.com' };
const LI = { name: '李科长', email: 'li.kezhang@example.gov.cn' };

describe('a major hidden danger under listed supervision (挂牌督办)', () => {
  it('runs the on-time path: 双报告 at listing, reminders, 五到位 plan, progress, acceptance, 摘牌销号', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const opened = await openMajorHazard(rt);
    expect(opened.status).toBe(201);
    expect(opened.json).toMatchObject({
      stage: 'awaiting-plan',
      deadline: '2023-03-20T18:00:00+08:00',
      term: '2023-06-30T18:00:00+08:00',
      townId: 'town-a',
      workflowStarted: true,
    });
    const { caseId } = opened;
    expect(caseId).toMatch(/^mh-20230306-[a-z0-9]{6}$/);
    const fresh = caseMail(rt, caseId);

    // Listing: 双报告 to the enterprise principal and staff representative, and to the supervising department.
    await advance(rt, '2023-03-06T10:00:00+08:00');
    expect(await fresh()).toEqual([
      `【挂牌督办】 ${mail('dept', 'principal')}`,
      `【挂牌督办】 ${mail('ent-a', 'principal')}`,
      `【挂牌督办】 ${mail('ent-a', 'staff')}`,
    ]);
    const listing = itemEmails(rt).find((e) => e.destination.to.includes(mail('ent-a', 'staff')));
    expect(listing?.subject).toBe(
      '【挂牌督办】重大事故隐患挂牌督办整改：ent-a有限公司“液氨储罐区安全阀失效”列为重大事故隐患挂牌督办',
    );
    expect(listing?.body.text).toContain('“双报告”，监管部门要挂牌督办');
    expect(listing?.body.text).toContain('须在2023年3月20日（星期一）18:00前报送“五到位”整改方案');

    // Three working days before the plan deadline the enterprise's contact is reminded, with the five parts.
    await advance(rt, '2023-03-15T09:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('ent-a', 'contact')}`]);
    const reminder = await latest(rt, caseId);
    expect(reminder?.subject).toBe(
      '【提醒】重大事故隐患挂牌督办整改：ent-a有限公司“液氨储罐区安全阀失效”须于2023年3月20日（星期一）18:00前报送“五到位”整改方案',
    );
    expect(reminder?.body.text).toContain('责任、措施、资金、时限和预案“五到位”');

    // The enterprise submits its plan through the link in that email.
    await advance(rt, '2023-03-15T10:00:00+08:00');
    const entLink = await linkFor(rt, caseId, mail('ent-a', 'contact'));
    const plan = await event(
      rt,
      caseId,
      { event: 'plan-submitted', fields: FIVE_PARTS },
      { 'x-safeduty-link': entLink, authorization: '' },
    );
    expect(plan.status).toBe(201);
    expect(plan.json.event).toMatchObject({
      role: 'responsible',
      actor: 'unit-link:ent-a',
      toStage: 'rectifying',
    });

    // The second plan reminder is not sent; the first progress report is reminded two working days before it is due.
    await advance(rt, '2023-04-13T09:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('ent-a', 'contact')}`]);
    expect((await latest(rt, caseId))?.subject).toContain(
      '须于2023年4月14日（星期五）18:00前报送整改进展报告',
    );
    expect(
      (await event(rt, caseId, { event: 'progress-reported', fields: { progress: '新安全阀已到货' } }))
        .status,
    ).toBe(201);

    // Completion on 1 June; the department has 7 working days and is reminded two working days before.
    // The report of 13 April counts for the 14 April due date; the next one (15 May) is reminded on 11 May.
    await advance(rt, '2023-06-01T10:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('ent-a', 'contact')}`]);
    expect((await latest(rt, caseId))?.subject).toContain(
      '须于2023年5月15日（星期一）18:00前报送整改进展报告',
    );
    const done = await event(rt, caseId, {
      event: 'completion-reported',
      person: WANG,
      fields: { summary: '已更换并校验' },
    });
    expect(done.status).toBe(201);
    expect(done.json.case).toMatchObject({
      stage: 'awaiting-acceptance',
      deadline: '2023-06-12T18:00:00+08:00',
    });
    await advance(rt, '2023-06-08T09:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('dept', 'contact')}`]);

    // The department accepts through its own link: closed (摘牌销号) with a closing notice.
    const deptLink = await linkFor(rt, caseId, mail('dept', 'contact'));
    const pass = await event(
      rt,
      caseId,
      { event: 'acceptance-passed', person: LI, fields: { opinion: '现场验收合格' } },
      { 'x-safeduty-link': deptLink, authorization: '' },
    );
    expect(pass.status).toBe(201);
    await advance(rt, '2023-06-08T10:00:00+08:00');
    expect(await fresh()).toEqual([
      `【销号】 ${mail('dept', 'principal')}`,
      `【销号】 ${mail('ent-a', 'principal')}`,
      `【销号】 ${mail('ent-a', 'staff')}`,
    ]);
    expect((await latest(rt, caseId))?.subject).toContain('经验收合格，予以摘牌销号');

    // Nothing more, ever; the record and the audit trail tell the story.
    await advance(rt, '2023-08-31T10:00:00+08:00');
    expect(await fresh()).toEqual([]);
    const c = await getCase(rt, caseId);
    expect(c).toMatchObject({
      stage: 'closed',
      status: 'closed',
      closedAt: '2023-06-08T09:00:00+08:00',
      overdue: null,
    });
    expect(c.history.map((h) => h.event)).toEqual([
      'opened',
      'plan-submitted',
      'progress-reported',
      'completion-reported',
      'acceptance-passed',
    ]);
    // Completion needed the clock sooner (the acceptance reminder on 8 June came before the waiting execution's
    // next wake), and so did the closing notice: each started a new generation; the older ones ended when they woke.
    expect(executions(rt, caseId)).toEqual([
      `${caseId}:SUCCEEDED`,
      `${caseId}_g2:SUCCEEDED`,
      `${caseId}_g3:SUCCEEDED`,
    ]);
    const audit = await api(rt, 'GET', `/audit?subject=case:${caseId}`);
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.json)).toContain('case-event:acceptance-passed');
  });

  it('escalates each overdue stage level by level: plan, rectification, acceptance', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const { caseId } = await openMajorHazard(rt);
    const fresh = caseMail(rt, caseId);
    const escalations = async () => (await fresh()).filter((l) => l.startsWith('【逾期】'));
    await advance(rt, '2023-03-17T09:00:00+08:00');
    expect((await fresh()).filter((l) => l.startsWith('【提醒】'))).toEqual([
      `【提醒】 ${mail('ent-a', 'contact')}`,
      `【提醒】 ${mail('ent-a', 'contact')}`,
    ]);

    // The plan, due Monday 20 March 18:00, is late: the ladder climbs on working days 1, 3, 5 and 8 after.
    const ladder: [string, string[]][] = [
      ['2023-03-21T09:00:00+08:00', [`【逾期】L1 ${mail('ent-a', 'principal')}`]],
      [
        '2023-03-23T09:00:00+08:00',
        [`【逾期】L2 ${mail('dept', 'principal')}`, `【逾期】L2 ${mail('ent-a', 'principal')}`],
      ],
      [
        '2023-03-27T09:00:00+08:00',
        [`【逾期】L3 ${mail('dept', 'principal')}`, '【逾期】L3 leader-a@example.gov.cn'],
      ],
      [
        '2023-03-30T09:00:00+08:00',
        ['【逾期】L4 leader-a@example.gov.cn', `【逾期】L4 ${mail('office', 'contact')}`],
      ],
    ];
    for (const [at, expected] of ladder) {
      await advance(rt, at);
      expect(await escalations(), at).toEqual(expected);
    }
    const l4 = itemEmails(rt).find((e) => e.destination.to.includes(mail('office', 'contact')));
    expect(l4?.subject).toBe(
      '【逾期】重大事故隐患挂牌督办整改：ent-a有限公司“液氨储罐区安全阀失效”报送“五到位”整改方案已逾期（第4级督办）',
    );
    expect(l4?.body.text).toContain(
      '应于2023年3月20日（星期一）18:00前报送“五到位”整改方案，至今未完成，自2023年3月20日（星期一）18:00起已逾期8个工作日',
    );
    expect(l4?.body.text).toContain('县安委办');
    expect(l4?.body.text).toContain('做到责任、措施、资金、时限和预案“五到位”');
    const overdue = (await api(rt, 'GET', '/overdue')).json as { items: Record<string, unknown>[] };
    expect(overdue.items.find((i) => i.item === `case:${caseId}`)).toMatchObject({
      kind: 'case',
      unitId: 'ent-a',
      deadline: '2023-03-20T18:00:00+08:00',
      workdaysOverdue: 8,
      escalationLevel: 4,
    });

    // The plan arrives late; the rectification term (30 June) passes too.
    await advance(rt, '2023-03-31T10:00:00+08:00');
    expect((await event(rt, caseId, { event: 'plan-submitted', fields: FIVE_PARTS })).status).toBe(201);
    await advance(rt, '2023-06-30T18:00:00+08:00');
    expect(await escalations()).toEqual([]);
    for (const [at, expected] of [
      ['2023-07-03T09:00:00+08:00', [`【逾期】L1 ${mail('ent-a', 'principal')}`]],
      [
        '2023-07-05T09:00:00+08:00',
        [`【逾期】L2 ${mail('dept', 'principal')}`, `【逾期】L2 ${mail('ent-a', 'principal')}`],
      ],
      [
        '2023-07-07T09:00:00+08:00',
        [`【逾期】L3 ${mail('dept', 'principal')}`, '【逾期】L3 leader-a@example.gov.cn'],
      ],
      [
        '2023-07-12T09:00:00+08:00',
        ['【逾期】L4 leader-a@example.gov.cn', `【逾期】L4 ${mail('office', 'contact')}`],
      ],
    ] as [string, string[]][]) {
      await advance(rt, at);
      expect(await escalations(), at).toEqual(expected);
    }
    expect((await latest(rt, caseId))?.subject).toContain(
      '完成隐患整改并报告整改完成情况已逾期（第4级督办）',
    );

    // Completion on 13 July; acceptance (due 24 July) is late too, and escalates up the department's ladder.
    await advance(rt, '2023-07-13T10:00:00+08:00');
    await fresh();
    expect(
      (await event(rt, caseId, { event: 'completion-reported', person: WANG, fields: { summary: '已完成' } }))
        .status,
    ).toBe(201);
    await advance(rt, '2023-07-20T09:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('dept', 'contact')}`]);
    for (const [at, expected] of [
      ['2023-07-25T09:00:00+08:00', [`【逾期】L1 ${mail('dept', 'principal')}`]],
      [
        '2023-07-27T09:00:00+08:00',
        [`【逾期】L2 ${mail('dept', 'principal')}`, '【逾期】L2 leader-a@example.gov.cn'],
      ],
      [
        '2023-07-31T09:00:00+08:00',
        ['【逾期】L3 leader-a@example.gov.cn', `【逾期】L3 ${mail('office', 'contact')}`],
      ],
    ] as [string, string[]][]) {
      await advance(rt, at);
      expect(await escalations(), at).toEqual(expected);
    }
    expect((await latest(rt, caseId))?.subject).toContain('组织现场验收并作出验收结论已逾期（第3级督办）');
    const c = await getCase(rt, caseId);
    expect(c.overdue).toMatchObject({
      what: 'stage',
      since: '2023-07-24T18:00:00+08:00',
      escalationLevel: 3,
    });
    // Each time every level had been sent the execution ended; the next event started a new generation.
    expect(executions(rt, caseId)).toEqual([
      `${caseId}:SUCCEEDED`,
      `${caseId}_g2:SUCCEEDED`,
      `${caseId}_g3:SUCCEEDED`,
    ]);
  });

  it('sends a failed acceptance back to rectification with the reasons and a new deadline, then closes', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const { caseId } = await openMajorHazard(rt);
    const fresh = caseMail(rt, caseId);
    await advance(rt, '2023-03-07T10:00:00+08:00');
    await fresh();
    expect((await event(rt, caseId, { event: 'plan-submitted', fields: FIVE_PARTS })).status).toBe(201);
    await advance(rt, '2023-04-03T10:00:00+08:00');
    expect(
      (await event(rt, caseId, { event: 'completion-reported', person: WANG, fields: { summary: '已完成' } }))
        .status,
    ).toBe(201);
    await advance(rt, '2023-04-04T10:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('ent-a', 'contact')}`]); // the progress report due 6 April
    const fail = await event(rt, caseId, {
      event: 'acceptance-failed',
      person: LI,
      fields: { reasons: '安全阀起跳压力仍不合格' },
      newDeadline: '2023-05-31',
    });
    expect(fail.status).toBe(201);
    expect(fail.json.case).toMatchObject({ stage: 'rectifying', term: '2023-05-31T18:00:00+08:00' });
    await advance(rt, '2023-04-04T10:00:00+08:00');
    expect(await fresh()).toEqual([
      `【通知】 ${mail('ent-a', 'contact')}`,
      `【通知】 ${mail('ent-a', 'principal')}`,
    ]);
    const notice = await latest(rt, caseId);
    expect(notice?.subject).toContain('验收未通过，已退回整改');
    expect(notice?.body.text).toContain('不通过原因：安全阀起跳压力仍不合格');
    expect(notice?.body.text).toContain('新的整改期限：2023年5月31日（星期三）18:00');

    // Reminders now count back from the new deadline (10 working days before: 17 May).
    await advance(rt, '2023-05-17T09:00:00+08:00');
    const subjects = itemEmails(rt)
      .slice(-2)
      .map((e) => e.subject);
    expect(subjects.some((s) => s.includes('须于2023年5月31日（星期三）18:00前完成隐患整改'))).toBe(true);
    await fresh();

    // Completion again, by the same reporter; the acceptance passes this time.
    await advance(rt, '2023-05-22T10:00:00+08:00');
    expect(
      (
        await event(rt, caseId, {
          event: 'completion-reported',
          person: WANG,
          fields: { summary: '已重新整改' },
        })
      ).status,
    ).toBe(201);
    await advance(rt, '2023-05-23T10:00:00+08:00');
    expect(
      (await event(rt, caseId, { event: 'acceptance-passed', person: LI, fields: { opinion: '合格' } }))
        .status,
    ).toBe(201);
    await advance(rt, '2023-06-30T10:00:00+08:00');
    expect(await fresh()).toEqual([
      `【销号】 ${mail('dept', 'principal')}`,
      `【销号】 ${mail('ent-a', 'principal')}`,
      `【销号】 ${mail('ent-a', 'staff')}`,
    ]);
    const c = await getCase(rt, caseId);
    expect(c.history.map((h) => h.event)).toEqual([
      'opened',
      'plan-submitted',
      'completion-reported',
      'acceptance-failed',
      'completion-reported',
      'acceptance-passed',
    ]);
    expect(c).toMatchObject({ stage: 'closed', status: 'closed', originalTerm: '2023-06-30T18:00:00+08:00' });
  });

  it('grants an extension: the deadline and its reminders move; a late request is refused', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const { caseId } = await openMajorHazard(rt, { term: { until: '2023-04-28' } });
    const late = await openMajorHazard(rt, {
      term: { until: '2023-04-25' },
      responsibleUnitId: 'ent-b',
      title: '粉尘涉爆除尘系统未接地',
    });
    const fresh = caseMail(rt, caseId);
    await advance(rt, '2023-03-07T10:00:00+08:00');
    await fresh();
    // ent-b has no staff representative on record: 安委办 receives that copy, and the email says so.
    expect(await caseMail(rt, late.caseId)()).toEqual([
      `【挂牌督办】 ${mail('dept', 'principal')}`,
      `【挂牌督办】 ${mail('ent-b', 'principal')}`,
      `【挂牌督办】 ${mail('office', 'contact')}`,
    ]);
    const standIn = itemEmails(rt).find((e) => e.destination.to.includes(mail('office', 'contact')));
    expect(standIn?.body.text).toContain('（您作为：县安委办（职工代表空缺，代为接收））');
    for (const id of [caseId, late.caseId])
      expect((await event(rt, id, { event: 'plan-submitted', fields: FIVE_PARTS })).status).toBe(201);

    // Ten working days before the 28 April term: 17 April (and the progress report due 6 April, on 3 April).
    await advance(rt, '2023-04-20T10:00:00+08:00');
    expect(await fresh()).toEqual([
      `【提醒】 ${mail('ent-a', 'contact')}`,
      `【提醒】 ${mail('ent-a', 'contact')}`,
    ]);

    // ent-b's term is 25 April: the latest request was 5 working days before it, 19 April 18:00.
    const before = await getCase(rt, late.caseId);
    const tooLate = await event(rt, late.caseId, {
      event: 'extension-requested',
      fields: { reason: '设备到货延迟' },
      newDeadline: '2023-05-31',
    });
    expect(tooLate.status).toBe(422);
    expect(tooLate.json.message).toBe(
      '“申请延期”须不晚于整改期限前5个工作日提出（即2023年4月19日（星期三）18:00前），现已超过',
    );
    expect(await getCase(rt, late.caseId)).toEqual(before);

    // ent-a asks in time; the department must decide within 3 working days (the Sunday 23 April was worked).
    const ask = await event(rt, caseId, {
      event: 'extension-requested',
      fields: { reason: '设备到货延迟' },
      newDeadline: '2023-05-31',
    });
    expect(ask.status).toBe(201);
    expect((await getCase(rt, caseId)).pendingRequest).toEqual({
      id: 'extension',
      openedAt: '2023-04-20T10:00:00+08:00',
      deadline: '2023-04-24T18:00:00+08:00',
    });
    const second = await event(rt, caseId, {
      event: 'extension-requested',
      fields: { reason: '再次' },
      newDeadline: '2023-06-30',
    });
    expect(second.status).toBe(409);
    await advance(rt, '2023-04-23T09:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('dept', 'contact')}`]);
    expect((await latest(rt, caseId))?.subject).toContain(
      '须于2023年4月24日（星期一）18:00前对延期申请作出批准或不予批准的决定',
    );

    // The department grants it through its link: the term moves to 31 May, and the old reminders are dropped.
    await advance(rt, '2023-04-23T10:00:00+08:00');
    const deptLink = await linkFor(rt, caseId, mail('dept', 'contact'));
    const grant = await event(
      rt,
      caseId,
      { event: 'extension-granted', person: LI },
      { 'x-safeduty-link': deptLink, authorization: '' },
    );
    expect(grant.status).toBe(201);
    expect(grant.json.case).toMatchObject({
      term: '2023-05-31T18:00:00+08:00',
      deadline: '2023-05-31T18:00:00+08:00',
    });
    expect(grant.json.workflowRestarted).toBe(true);
    await advance(rt, '2023-04-23T10:00:00+08:00');
    expect(await fresh()).toEqual([
      `【通知】 ${mail('ent-a', 'contact')}`,
      `【通知】 ${mail('ent-a', 'principal')}`,
    ]);
    expect((await latest(rt, caseId))?.subject).toContain('延期申请已获批准');

    // No reminder on 25 or 27 April, no escalation after 28 April; only the progress report due on Saturday 6 May
    // (a make-up working day) is reminded, on 4 May. The term's next reminder is 10 working days before 31 May.
    await advance(rt, '2023-05-16T10:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('ent-a', 'contact')}`]);
    expect((await latest(rt, caseId))?.subject).toContain(
      '须于2023年5月6日（星期六）18:00前报送整改进展报告',
    );
    const sinceGrant = itemEmails(rt).filter(
      (e) => (e.body.text ?? '').includes(caseId) && e.subject.includes('2023年4月28日'),
    );
    expect(sinceGrant.map((e) => e.subject)).toHaveLength(1); // only the reminder of 17 April
    await advance(rt, '2023-05-17T09:00:00+08:00');
    expect(await fresh()).toEqual([`【提醒】 ${mail('ent-a', 'contact')}`]);
    expect((await latest(rt, caseId))?.subject).toContain('须于2023年5月31日（星期三）18:00前完成隐患整改');

    // The request (its reminder on 23 April came before the execution's next wake on 25 April) and the grant (its
    // notice at once) each started a new generation; the older ones ended when they woke behind the record.
    expect(executions(rt, caseId)).toEqual([
      `${caseId}:SUCCEEDED`,
      `${caseId}_g2:SUCCEEDED`,
      `${caseId}_g3:RUNNING`,
    ]);
  });

  it('refuses an acceptance by the person who reported completion, and other invalid events, changing nothing', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const { caseId } = await openMajorHazard(rt);
    await advance(rt, '2023-03-06T10:00:00+08:00');
    const entLink = await linkFor(rt, caseId, mail('ent-a', 'principal'));
    const deptLink = await linkFor(rt, caseId, mail('dept', 'principal'));
    const snapshot = async () => {
      const c = await getCase(rt, caseId);
      const audit = await api(rt, 'GET', `/audit?subject=case:${caseId}`);
      return { c, audit: audit.text };
    };
    const expectRefused = async (
      body: Record<string, unknown>,
      status: number,
      message: RegExp,
      headers: Record<string, string> = {},
      id = caseId,
    ) => {
      const before = await snapshot();
      const r = await event(rt, id, body, headers);
      expect(r.status, JSON.stringify(r.json)).toBe(status);
      expect(r.json.message).toMatch(message);
      expect(await snapshot()).toEqual(before);
      return r;
    };

    // Wrong stage, unknown event, unknown case, missing 五到位 parts, unknown and bad fields.
    await expectRefused(
      { event: 'completion-reported', person: WANG, fields: { summary: 'x' } },
      409,
      /当前处于“待报送整改方案”阶段，不能办理“报告整改完成，申请验收”/,
    );
    await expectRefused({ event: 'demolish' }, 400, /未知的事件：demolish/);
    await expectRefused(
      { event: 'plan-submitted', fields: FIVE_PARTS },
      404,
      /案件不存在/,
      {},
      'mh-20230306-nope00',
    );
    const missing = await expectRefused(
      {
        event: 'plan-submitted',
        fields: { responsibility: '总经理负责', measures: '更换', timeline: '6月底' },
      },
      400,
      /^整改方案须做到责任、措施、资金、时限和预案“五到位”，缺少：资金、预案$/,
    );
    expect(missing.json.issues).toEqual([
      { field: 'fields.funding', problem: '必填：资金' },
      { field: 'fields.contingency', problem: '必填：预案' },
    ]);
    await expectRefused(
      { event: 'plan-submitted', fields: { ...FIVE_PARTS, funding: '   ' } },
      400,
      /缺少：资金/,
    );
    await expectRefused(
      { event: 'plan-submitted', fields: { ...FIVE_PARTS, colour: 'red' } },
      400,
      /请求内容有误/,
    );
    await expectRefused({ event: 'plan-submitted', fields: FIVE_PARTS, extra: 1 }, 400, /请求内容有误/);
    await expectRefused(
      { event: 'plan-submitted', fields: FIVE_PARTS, newDeadline: '2023-09-30' },
      400,
      /不接受新的整改期限/,
    );
    // The department cannot submit the enterprise's plan; another case's link is no key to this one.
    await expectRefused(
      { event: 'plan-submitted', fields: FIVE_PARTS },
      403,
      /只能由责任单位或县安委办（管理员）办理/,
      {
        'x-safeduty-link': deptLink,
        authorization: '',
      },
    );
    const other = await openMajorHazard(rt, { responsibleUnitId: 'ent-b', title: '另一隐患' });
    await advance(rt, '2023-03-06T10:00:00+08:00');
    const otherLink = await linkFor(rt, other.caseId, mail('ent-b', 'principal'));
    await expectRefused(
      { event: 'plan-submitted', fields: FIVE_PARTS },
      403,
      /该链接不能用于此单位或此事项/,
      {
        'x-safeduty-link': otherLink,
        authorization: '',
      },
    );
    await expectRefused({ event: 'plan-submitted', fields: FIVE_PARTS }, 403, /链接无效/, {
      'x-safeduty-link': `${entLink}x`,
      authorization: '',
    });

    // Through to completion, reported by 王工 via the enterprise's link.
    expect(
      (
        await event(
          rt,
          caseId,
          { event: 'plan-submitted', fields: FIVE_PARTS },
          { 'x-safeduty-link': entLink, authorization: '' },
        )
      ).status,
    ).toBe(201);
    expect(
      (
        await event(
          rt,
          caseId,
          { event: 'completion-reported', person: WANG, fields: { summary: '已完成' } },
          { 'x-safeduty-link': entLink, authorization: '' },
        )
      ).status,
    ).toBe(201);

    // 王工 cannot accept his own work, whoever records it and however his name is written; nor can his enterprise.
    await expectRefused(
      { event: 'acceptance-passed', person: WANG, fields: { opinion: '合格' } },
      403,
      /须由“报告整改完成，申请验收”的报告人（王工）以外的人员办理/,
    );
    await expectRefused(
      { event: 'acceptance-passed', person: { name: '王 工' }, fields: { opinion: '合格' } },
      403,
      /以外的人员/,
      {
        'x-safeduty-link': deptLink,
        authorization: '',
      },
    );
    await expectRefused(
      {
        event: 'acceptance-failed',
        person: { name: 'Wang', email: 'WANG.GONG@example.com' },
        fields: { reasons: 'x' },
        newDeadline: '2023-05-31',
      },
      403,
      /以外的人员/,
    );
    // Invisible characters and full-width letters do not make another person either.
    for (const name of ['王\u200b工', '王\u2060工', 'ＷＡＮＧ', '\ufeff王工'])
      await expectRefused(
        {
          event: 'acceptance-passed',
          person: name === 'ＷＡＮＧ' ? { name, email: 'wang.gong@EXAMPLE.com' } : { name },
          fields: { opinion: '合格' },
        },
        403,
        /以外的人员/,
      );
    await expectRefused(
      { event: 'acceptance-passed', person: LI, fields: { opinion: '合格' } },
      403,
      /只能由监管部门或县安委办（管理员）办理/,
      {
        'x-safeduty-link': entLink,
        authorization: '',
      },
    );
    await expectRefused({ event: 'acceptance-passed', fields: { opinion: '合格' } }, 400, /请填写办理人/);
    await expectRefused(
      { event: 'acceptance-failed', person: LI, fields: { reasons: 'x' } },
      400,
      /请填写新的整改期限/,
    );
    await expectRefused(
      { event: 'acceptance-failed', person: LI, fields: { reasons: 'x' }, newDeadline: '2023-03-01' },
      400,
      /必须晚于当前时间/,
    );

    // Someone else can.
    const ok = await event(
      rt,
      caseId,
      { event: 'acceptance-passed', person: LI, fields: { opinion: '合格' } },
      { 'x-safeduty-link': deptLink, authorization: '' },
    );
    expect(ok.status).toBe(201);
    await expectRefused({ event: 'progress-reported', fields: { progress: 'x' } }, 409, /已办结/);
  });

  it('continues a case whose term runs past the one-year limit of an execution', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const { caseId } = await openMajorHazard(rt, { term: { until: '2024-06-28' } });
    await advance(rt, '2023-03-07T10:00:00+08:00');
    expect((await event(rt, caseId, { event: 'plan-submitted', fields: FIVE_PARTS })).status).toBe(201);
    const fresh = caseMail(rt, caseId);

    // The first execution started on 6 March 2023 hands over 330 days later, on 30 January 2024.
    await advance(rt, '2024-01-30T09:59:00+08:00');
    expect(executions(rt, caseId)).toEqual([`${caseId}:RUNNING`]);
    await advance(rt, '2024-01-30T10:00:00+08:00');
    expect(executions(rt, caseId)).toEqual([`${caseId}:SUCCEEDED`, `${caseId}_g2:RUNNING`]);
    expect((await getCase(rt, caseId)).workflow.generation).toBe(2);

    // One progress reminder per due date so far, each sent once, across the handover.
    const progress = itemEmails(rt)
      .filter((e) => e.subject.includes('前报送整改进展报告'))
      .map((e) => e.subject);
    expect(new Set(progress).size).toBe(progress.length);
    const steps = ((await getCase(rt, caseId)).timeline as { steps: { track: string; state: string }[] })
      .steps;
    expect(progress.length).toBe(steps.filter((x) => x.track === 'progress' && x.state === 'done').length);
    expect(progress.length).toBeGreaterThanOrEqual(10);
    expect(await fresh()).toHaveLength(3 + progress.length);

    // Ten working days before the 28 June 2024 term: Friday 14 June.
    await advance(rt, '2024-06-14T09:00:00+08:00');
    const reminders = itemEmails(rt).filter((e) =>
      e.subject.includes('须于2024年6月28日（星期五）18:00前完成隐患整改'),
    );
    expect(reminders.map((e) => e.destination.to.join(','))).toEqual([mail('ent-a', 'contact')]);
    expect(executions(rt, caseId)).toEqual([`${caseId}:SUCCEEDED`, `${caseId}_g2:RUNNING`]);
  });

  it('recovers when starting the execution failed: the reconciler starts it, nobody has to act', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const arn = process.env.CASE_STATE_MACHINE_ARN;
    process.env.CASE_STATE_MACHINE_ARN = `${arn}-missing`;
    let opened: Awaited<ReturnType<typeof openMajorHazard>>;
    try {
      opened = await openMajorHazard(rt);
    } finally {
      process.env.CASE_STATE_MACHINE_ARN = arn;
    }
    expect(opened.status).toBe(201);
    expect(opened.json.workflowStarted).toBe(false);
    const { caseId } = opened;
    expect((await getCase(rt, caseId)).workflow).toMatchObject({
      plannedWakeAt: null,
      lastError: expect.anything(),
    });
    const fresh = caseMail(rt, caseId);
    await advance(rt, '2023-03-06T10:05:00+08:00');
    expect(await fresh()).toEqual([]);

    // The reconciler's next run (every 6 hours in this test, 15 minutes on AWS) finds the case without an
    // execution and starts one: the listing notice waiting in the outbox goes out, and the error is cleared.
    await advance(rt, '2023-03-06T16:30:00+08:00');
    expect(await fresh()).toEqual([
      `【挂牌督办】 ${mail('dept', 'principal')}`,
      `【挂牌督办】 ${mail('ent-a', 'principal')}`,
      `【挂牌督办】 ${mail('ent-a', 'staff')}`,
    ]);
    expect((await getCase(rt, caseId)).workflow).not.toHaveProperty('lastError');
    expect(executions(rt, caseId)).toEqual([`${caseId}_g2:RUNNING`]);
    const plan = await event(rt, caseId, { event: 'plan-submitted', fields: FIVE_PARTS });
    expect(plan.status).toBe(201);
  });

  it('carries on after a restart in the middle: nothing repeated, nothing lost', async () => {
    const data = tempDir();
    try {
      let rt = await start('2023-03-06T10:00:00+08:00', data.path);
      const { caseId } = await openMajorHazard(rt);
      await advance(rt, '2023-03-07T10:00:00+08:00');
      expect((await event(rt, caseId, { event: 'plan-submitted', fields: FIVE_PARTS })).status).toBe(201);
      await advance(rt, '2023-03-09T10:00:00+08:00');
      expect(
        (
          await event(rt, caseId, {
            event: 'completion-reported',
            person: WANG,
            fields: { summary: '已完成' },
          })
        ).status,
      ).toBe(201);
      await advance(rt, '2023-03-16T09:00:00+08:00');
      let sentBefore = caseEmails(rt, caseId).length;
      expect(await caseMail(rt, caseId)()).toEqual([
        `【挂牌督办】 ${mail('dept', 'principal')}`,
        `【挂牌督办】 ${mail('ent-a', 'principal')}`,
        `【挂牌督办】 ${mail('ent-a', 'staff')}`,
        `【提醒】 ${mail('dept', 'contact')}`,
      ]);
      await rt.close();
      runtimes = [];

      // Same data folder, same instant: the reconciler resumes the open case, and nothing already sent goes out
      // again.
      rt = await start('2023-03-16T09:00:00+08:00', data.path);
      const fresh = caseMail(rt, caseId, { skip: sentBefore });
      expect(await fresh()).toEqual([]);
      await advance(rt, '2023-03-21T10:00:00+08:00');
      expect(await fresh()).toEqual([`【逾期】L1 ${mail('dept', 'principal')}`]);
      sentBefore = caseEmails(rt, caseId).length;
      await rt.close();
      runtimes = [];

      // Down from 21 March to 24 March 10:00: level 2 (23 March) was missed and comes once, on restart.
      rt = await start('2023-03-24T10:00:00+08:00', data.path);
      const again = caseMail(rt, caseId, { skip: sentBefore });
      await advance(rt, '2023-03-24T10:00:00+08:00');
      expect(await again()).toEqual([
        `【逾期】L2 ${mail('dept', 'principal')}`,
        '【逾期】L2 leader-a@example.gov.cn',
      ]);
      const c = await getCase(rt, caseId);
      expect(c.history.map((h) => h.event)).toEqual(['opened', 'plan-submitted', 'completion-reported']);
      expect(c.stage).toBe('awaiting-acceptance');
      expect(
        (await event(rt, caseId, { event: 'acceptance-passed', person: LI, fields: { opinion: '合格' } }))
          .status,
      ).toBe(201);
      await advance(rt, '2023-03-24T10:00:00+08:00');
      expect(await again()).toEqual([
        `【销号】 ${mail('dept', 'principal')}`,
        `【销号】 ${mail('ent-a', 'principal')}`,
        `【销号】 ${mail('ent-a', 'staff')}`,
      ]);
    } finally {
      data.remove();
    }
  });
});
