import { afterEach, describe, expect, it } from 'vitest';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { planCycle } from '../../workflows/plan.ts';
import type { Runtime } from '../../local/runtime.ts';
import type { SentMail } from '../../local/ses-gateway.ts';
import {
  advance,
  api,
  mailItems,
  sentMails,
  startTestRuntime,
  tempDir,
  tinyCounty,
} from '../support/runtime.ts';

const WEEKLY = 'risk-prejudgment-weekly';
const WEEKLY_TITLE = '基层单位安全风险隐患周预判';
const mail = (id: string, role: string) => `${id}.${role}@example.gov.cn`;
const at = (iso: string) => Date.parse(iso);

/**
 * The items about one duty in the emails sent since `since`, as `kind[level] recipient [units] @HH:MM`, sorted:
 * what each person was told about it, and when (virtual time, Asia/Shanghai).
 */
function told(mails: SentMail[], title: string): string[] {
  const out: string[] = [];
  for (const m of mails)
    for (const item of mailItems(m).filter((i) => i.title.includes(title))) {
      const when = new Date(m.at + 8 * 3_600_000).toISOString().slice(11, 16);
      const kind = `${item.kind}${item.level ? item.level : ''}${item.own ? ' own' : ''}`;
      out.push(`${kind} ${m.to.join(',')} [${item.units.join(',')}] @${when}`);
    }
  return out.sort();
}

let runtimes: Runtime[] = [];
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

async function start(
  clock: string,
  dataDir: string | null = null,
  scheduler = true,
  reconcileEveryMs?: number,
) {
  const { units, leaders } = tinyCounty(['ent-a', 'ent-b', 'ent-c', 'ent-d']);
  const rt = await startTestRuntime({
    clock,
    units,
    leaders,
    dataDir,
    scheduler,
    ...(reconcileEveryMs ? { reconcileEveryMs } : {}),
  });
  runtimes.push(rt);
  return rt;
}

const company = (id: string) => `${id}有限公司`;

describe('a weekly cycle on the local runtime', () => {
  it('reminds at the routine moments, escalates to the unit and then its supervisors, one email per person per moment', async () => {
    const rt = await start('2023-02-06T00:00:00+08:00');
    // ent-a submits before the 09:00 email: the reminder recorded for it at 08:50 is dropped at delivery.
    await advance(rt, '2023-02-06T08:55:00+08:00');
    const onTime = await api(rt, 'POST', `/cycles/${WEEKLY}/2023-W06/submissions`, {
      unitId: 'ent-a',
      note: '已完成本周预判',
    });
    expect(onTime.status).toBe(201);

    await advance(rt, '2023-02-06T09:05:00+08:00');
    expect(told(sentMails(rt), WEEKLY_TITLE)).toEqual(
      ['ent-b', 'ent-c', 'ent-d'].map((u) => `reminder ${mail(u, 'contact')} [${company(u)}] @09:00`),
    );
    const first = sentMails(rt).find((m) => m.to.includes(mail('ent-b', 'contact')));
    expect(first?.subject).toBe(
      '【提醒】基层单位安全风险隐患周预判（2023年第6周（2月6日至2月12日））将于2023年2月6日（星期一）18:00截止',
    );
    expect(first?.text).toContain('距截止还有约9小时');

    // The catalog's second Monday reminder (16:00) goes at the same first moment of the day: one email, not two.
    let since = rt.clock.nowMs();
    await advance(rt, '2023-02-06T23:59:00+08:00');
    expect(told(sentMails(rt, since), WEEKLY_TITLE)).toEqual([]);
    expect(first?.text).not.toContain('最后一次提醒');

    // Tuesday: level 1 speaks to each late unit's own contact ("您单位…"), with its link.
    since = rt.clock.nowMs();
    await advance(rt, '2023-02-07T09:05:00+08:00');
    expect(told(sentMails(rt, since), WEEKLY_TITLE)).toEqual(
      ['ent-b', 'ent-c', 'ent-d'].map((u) => `escalation1 own ${mail(u, 'contact')} [${company(u)}] @09:00`),
    );
    // ent-b records its late submission through the link in its email.
    const toB = sentMails(rt, since).find((m) => m.to.includes(mail('ent-b', 'contact')));
    const link = /http:\/\/127\.0\.0\.1:\d+\/links\/[\w.-]+/.exec(toB?.text ?? '')?.[0];
    expect(link).toBeDefined();
    await advance(rt, '2023-02-07T12:00:00+08:00');
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('确认报送');
    expect(text).toContain('本事项已于');
    const late = await fetch(link!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        'f.risks': '节后复工',
        'f.measures': '逐项检查',
        'f.owner': '赵工',
        note: '已补交',
        attachments: '[]',
      }).toString(),
    });
    expect(late.status, await late.clone().text()).toBe(201);

    // Wednesday: ent-b is no longer chased; level 2 speaks to the contact and the principal of the others.
    since = rt.clock.nowMs();
    await advance(rt, '2023-02-08T09:05:00+08:00');
    expect(told(sentMails(rt, since), WEEKLY_TITLE)).toEqual(
      ['ent-c', 'ent-d'].flatMap((u) => [
        `escalation2 own ${mail(u, 'contact')} [${company(u)}] @09:00`,
        `escalation2 own ${mail(u, 'principal')} [${company(u)}] @09:00`,
      ]),
    );
    // Friday: the supervising department's head gets one item listing both defaulters; never their own people.
    since = rt.clock.nowMs();
    await advance(rt, '2023-02-13T00:00:00+08:00');
    expect(told(sentMails(rt, since), WEEKLY_TITLE)).toEqual([
      `escalation3 ${mail('dept', 'principal')} [${company('ent-c')},${company('ent-d')}] @09:00`,
      `escalation3 own ${mail('ent-c', 'principal')} [${company('ent-c')}] @09:00`,
      `escalation3 own ${mail('ent-d', 'principal')} [${company('ent-d')}] @09:00`,
    ]);
    const digest = sentMails(rt, since).find(
      (m) => m.to.includes(mail('dept', 'principal')) && (m.text ?? '').includes(WEEKLY_TITLE),
    );
    const item = mailItems(digest!).find((i) => i.title.includes(WEEKLY_TITLE));
    expect(item?.text).toContain(
      '已逾期4个工作日，按最高一级（第3级）督办规定报请您督办（您作为：行业监管部门负责人）',
    );
    expect(item?.text).toContain('ent-c有限公司（联系人：ent-c联络员，联系电话：未登记）');
    const overdueLink = /http:\/\/127\.0\.0\.1:\d+\/escalations\/[\w.-]+/.exec(item?.text ?? '')?.[0];
    expect(overdueLink).toBeDefined();
    const list = await fetch(overdueLink!, { headers: { accept: 'text/html' } });
    expect(list.status).toBe(200);
    const listPage = await list.text();
    expect(listPage).toContain('ent-c有限公司');
    expect(listPage).toContain('ent-d有限公司');
    expect(listPage).not.toContain('ent-b有限公司');

    const cycle = await api(rt, 'GET', `/cycles/${WEEKLY}/2023-W06`);
    expect(cycle.status).toBe(200);
    expect(cycle.json.status).toBe('closed');
    expect(cycle.json.defaulterCount).toBe(2);
    expect(cycle.json.counts).toEqual({ submitted: 1, late: 1, missing: 2 });
    const units = cycle.json.units as { unitId: string; defaulter: boolean }[];
    expect(units.filter((u) => u.defaulter).map((u) => u.unitId)).toEqual(['ent-c', 'ent-d']);
    const missing = await api(rt, 'GET', `/cycles/${WEEKLY}/2023-W06?state=missing&limit=1`);
    expect((missing.json.units as { unitId: string }[]).map((u) => u.unitId)).toEqual(['ent-c']);
    expect(missing.json.total).toBe(2);
    expect(missing.json.next).toEqual(expect.any(String));
    const states = (cycle.json.units as { unitId: string; state: string; escalationLevel: number }[]).map(
      (u) => `${u.unitId}:${u.state}:${u.escalationLevel}`,
    );
    expect(states).toEqual(['ent-a:submitted:0', 'ent-b:late:1', 'ent-c:missing:3', 'ent-d:missing:3']);

    // Every email is in the delivery record, with what it carried and its virtual send time.
    const record = await api(
      rt,
      'GET',
      `/deliveries?recipient=${mail('dept', 'principal')}&from=2023-02-10&to=2023-02-10`,
    );
    expect(record.status).toBe(200);
    const records = record.json.deliveries as {
      status: string;
      sentAt: string;
      carried: { subject: string }[];
    }[];
    expect(records.map((r) => `${r.status} ${r.sentAt}`)).toEqual(['sent 2023-02-10T09:00:00+08:00']);
    expect(records[0]?.carried.map((c) => c.subject)).toContain(`CYCLE#${WEEKLY}#2023-W06`);

    // The execution ran through the real SDK against the local Step Functions endpoint.
    const sfn = new SFNClient({
      endpoint: rt.sfnEndpoint,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: rt.cycleStateMachineArn }));
    const weekly = listed.executions?.find((e) => e.name === `${WEEKLY}_2023-W06`);
    expect(weekly?.status).toBe('SUCCEEDED');
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: weekly!.executionArn }));
    expect(JSON.parse(described.output ?? '{}').advance.result).toMatchObject({
      status: 'closed',
      defaulters: 2,
    });
  }, 120_000);

  it('carries on after a restart without repeating or losing anything', async () => {
    const data = tempDir();
    try {
      let rt = await start('2023-02-06T00:00:00+08:00', data.path);
      await advance(rt, '2023-02-06T08:55:00+08:00');
      expect(
        (await api(rt, 'POST', `/cycles/${WEEKLY}/2023-W06/submissions`, { unitId: 'ent-a' })).status,
      ).toBe(201);
      await advance(rt, '2023-02-07T09:05:00+08:00');
      const before = told(sentMails(rt), WEEKLY_TITLE);
      expect(before).toHaveLength(6);
      await rt.close();
      runtimes = [];

      // Same data folder, the clock where it stopped: the reconciler resumes the cycle (its execution went with
      // the process) and nothing already sent goes out again.
      rt = await start('2023-02-07T09:05:00+08:00', data.path);
      const restartedAt = at('2023-02-07T09:05:00+08:00');
      await advance(rt, '2023-02-08T09:05:00+08:00');
      expect(told(sentMails(rt, restartedAt), WEEKLY_TITLE)).toEqual(
        ['ent-b', 'ent-c', 'ent-d'].flatMap((u) => [
          `escalation2 own ${mail(u, 'contact')} [${company(u)}] @09:00`,
          `escalation2 own ${mail(u, 'principal')} [${company(u)}] @09:00`,
        ]),
      );
      // The mail kept in the data folder is the whole history, both runs.
      expect(told(sentMails(rt), WEEKLY_TITLE)).toHaveLength(12);
      const cycle = await api(rt, 'GET', `/cycles/${WEEKLY}/2023-W06`);
      expect(
        (cycle.json.units as { unitId: string; state: string }[]).find((u) => u.unitId === 'ent-a')?.state,
      ).toBe('submitted');
    } finally {
      data.remove();
    }
  });

  it('after an outage the reconciler resumes the cycle: one catch-up, not a flood', async () => {
    const data = tempDir();
    try {
      let rt = await start('2023-02-06T00:00:00+08:00', data.path);
      await advance(rt, '2023-02-06T08:00:00+08:00');
      await rt.close();
      runtimes = [];
      // Down from Monday 08:00 to Wednesday 10:00: two reminders and two escalation levels were missed.
      rt = await start('2023-02-08T10:00:00+08:00', data.path);
      const up = at('2023-02-08T10:00:00+08:00');
      await advance(rt, '2023-02-08T10:30:00+08:00');
      expect(told(sentMails(rt, up), WEEKLY_TITLE)).toEqual(
        ['ent-a', 'ent-b', 'ent-c', 'ent-d'].flatMap((u) => [
          `escalation2 own ${mail(u, 'contact')} [${company(u)}] @10:00`,
          `escalation2 own ${mail(u, 'principal')} [${company(u)}] @10:00`,
        ]),
      );
      const cycles = await api(rt, 'GET', `/cycles?duty=${WEEKLY}&period=2023-W06`);
      const c = (cycles.json.cycles as { generation: number; lastError?: unknown }[])[0];
      expect(c?.generation).toBe(2);
      expect(c?.lastError).toBeUndefined();
    } finally {
      data.remove();
    }
  });

  it('refuses to run the clock backwards over a data folder', async () => {
    const data = tempDir();
    try {
      const rt = await start('2023-02-06T00:00:00+08:00', data.path);
      await advance(rt, '2023-02-07T00:00:00+08:00');
      await rt.close();
      runtimes = [];
      await expect(start('2023-02-06T12:00:00+08:00', data.path)).rejects.toThrow(
        /the data folder's clock is at 2023-02-07T00:00:00\+08:00/,
      );
    } finally {
      data.remove();
    }
  });

  it('waits longer than a month, and past the one-year execution limit in a new execution', async () => {
    // Only this cycle runs (no scheduler, the reconciler weekly), started through the real SDK as dispatch would.
    const rt = await start('2023-01-01T00:10:00+08:00', null, false, 7 * 24 * 3_600_000);
    const sfn = new SFNClient({
      endpoint: rt.sfnEndpoint,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: rt.cycleStateMachineArn,
        name: 'year-end-safety-report_2023',
        input: JSON.stringify({ dutyId: 'year-end-safety-report', periodKey: '2023' }),
      }),
    );
    const plan = planCycle(loadCatalog().require('year-end-safety-report'), '2023');
    const firstReminder = plan.stages[0]!;
    expect(firstReminder.kind).toBe('reminder');
    await advance(rt, new Date(at(firstReminder.at) - 60_000).toISOString());
    expect(told(sentMails(rt), '县属监管企业年底前安全述职')).toEqual([]);
    await advance(rt, new Date(at(firstReminder.at) + 60_000).toISOString());
    expect(told(sentMails(rt), '县属监管企业年底前安全述职')).toHaveLength(4);
    const names = rt.engine
      .list(rt.cycleStateMachineArn)
      .filter((e) => e.name.startsWith('year-end-safety-report_2023'));
    expect(names.map((e) => `${e.name}:${e.status}`).sort()).toEqual([
      'year-end-safety-report_2023:SUCCEEDED',
      'year-end-safety-report_2023_g2:RUNNING',
    ]);
  });
});
