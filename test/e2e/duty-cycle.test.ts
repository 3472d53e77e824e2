import { afterEach, describe, expect, it } from 'vitest';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Runtime } from '../../local/runtime.ts';
import {
  advance,
  api,
  emails,
  startTestRuntime,
  tempDir,
  tinyCounty,
  type StoredEmail,
} from '../support/runtime.ts';

const WEEKLY = 'risk-prejudgment-weekly';
const WEEKLY_TITLE = '基层单位安全风险隐患周预判';
const mail = (id: string, role: string) => `${id}.${role}@example.gov.cn`;

/**
 * Emails of one duty, as `kind recipient [units listed]` lines. Within one stage messages go out concurrently,
 * so each stage's lines are compared sorted: `stages(all, title)` groups them by the instant they were sent for.
 */
function summary(all: StoredEmail[], title: string): string[] {
  return all
    .filter((e) => e.subject.includes(title))
    .map((e) => {
      const kind = e.subject.startsWith('【提醒】')
        ? 'reminder'
        : e.subject.startsWith('【逾期】')
          ? 'escalation'
          : 'other';
      const units = [...(e.body.text ?? '').matchAll(/\d+\. (\S+?)有限公司：/g)].map((m) => m[1]);
      return `${kind} ${e.destination.to.join(',')}${units.length ? ` [${units.join(',')}]` : ''}`;
    });
}

/** The duty's emails sent since the last call, sorted (a stage sends concurrently). */
function newSince(seen: { n: number }) {
  return async (rt: Runtime, title: string): Promise<string[]> => {
    const all = summary(await emails(rt), title);
    const fresh = all.slice(seen.n);
    seen.n = all.length;
    return fresh.sort();
  };
}

let runtimes: Runtime[] = [];
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

async function start(clock: string, dataDir: string | null = null, scheduler = true) {
  const { units, leaders } = tinyCounty(['ent-a', 'ent-b', 'ent-c', 'ent-d']);
  const rt = await startTestRuntime({ clock, units, leaders, dataDir, scheduler });
  runtimes.push(rt);
  return rt;
}

describe('a weekly cycle on the local runtime', () => {
  it('reminds only missing units, stops after a submission, and sends one digest per leader', async () => {
    const rt = await start('2023-02-06T00:00:00+08:00');
    await advance(rt, '2023-02-06T09:00:00+08:00');
    const onTime = await api(rt, 'POST', `/cycles/${WEEKLY}/2023-W06/submissions`, {
      unitId: 'ent-a',
      note: '已完成本周预判',
    });
    expect(onTime.status).toBe(201);
    expect(onTime.json.late).toBe(false);

    const fresh = newSince({ n: 0 });
    await advance(rt, '2023-02-06T10:00:00+08:00');
    expect(await fresh(rt, WEEKLY_TITLE)).toEqual(
      ['ent-b', 'ent-c', 'ent-d'].map((u) => `reminder ${mail(u, 'contact')}`),
    );
    await advance(rt, '2023-02-06T16:00:00+08:00');
    expect(await fresh(rt, WEEKLY_TITLE)).toEqual(
      ['ent-b', 'ent-c', 'ent-d'].map((u) => `reminder ${mail(u, 'contact')}`),
    );

    await advance(rt, '2023-02-07T09:00:00+08:00');
    expect(await fresh(rt, WEEKLY_TITLE)).toEqual(
      ['ent-b', 'ent-c', 'ent-d'].map((u) => `escalation ${mail(u, 'contact')} [${u}]`),
    );
    // ent-b records its late submission through the link in its reminder email.
    const reminderToB = (await emails(rt)).find(
      (e) => e.destination.to.includes(mail('ent-b', 'contact')) && e.subject.includes(WEEKLY_TITLE),
    );
    const link = /http:\/\/127\.0\.0\.1:\d+\/links\/[\w.-]+/.exec(reminderToB?.body.text ?? '')?.[0];
    expect(link).toBeDefined();
    await advance(rt, '2023-02-07T12:00:00+08:00');
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('确认已完成');
    const late = await fetch(link!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'note=%E5%B7%B2%E8%A1%A5%E4%BA%A4&minutes=%E9%A2%84%E5%88%A4%E8%AE%B0%E5%BD%95',
    });
    expect(late.status).toBe(201);

    // Wednesday: ent-b has submitted (late) and is no longer chased.
    await advance(rt, '2023-02-08T09:00:00+08:00');
    expect(await fresh(rt, WEEKLY_TITLE)).toEqual(
      ['ent-c', 'ent-d'].flatMap((u) => [
        `escalation ${mail(u, 'contact')} [${u}]`,
        `escalation ${mail(u, 'principal')} [${u}]`,
      ]),
    );
    // Friday: the supervising department's head gets one digest listing both defaulters.
    await advance(rt, '2023-02-13T00:00:00+08:00');
    expect(await fresh(rt, WEEKLY_TITLE)).toEqual([
      `escalation ${mail('dept', 'principal')} [ent-c,ent-d]`,
      `escalation ${mail('ent-c', 'principal')} [ent-c]`,
      `escalation ${mail('ent-d', 'principal')} [ent-d]`,
    ]);
    const escalationMail = (await emails(rt)).find(
      (e) => e.destination.to.includes(mail('dept', 'principal')) && e.subject.includes(WEEKLY_TITLE),
    );
    expect(escalationMail?.subject).toMatch(
      /^【逾期】基层单位安全风险隐患周预判（2023年第6周（2月6日至2月12日））2个单位逾期未完成（第3级督办）$/,
    );
    expect(escalationMail?.body.text).toContain('已逾期4个工作日');

    const cycle = await api(rt, 'GET', `/cycles/${WEEKLY}/2023-W06`);
    expect(cycle.status).toBe(200);
    expect(cycle.json.status).toBe('closed');
    expect(cycle.json.defaulters).toEqual(['ent-c', 'ent-d']);
    const states = (cycle.json.units as { unitId: string; state: string; escalationLevel: number }[]).map(
      (u) => `${u.unitId}:${u.state}:${u.escalationLevel}`,
    );
    expect(states).toEqual(['ent-a:submitted:0', 'ent-b:late:1', 'ent-c:missing:3', 'ent-d:missing:3']);

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
  });

  it('carries on after a restart without repeating or losing anything', async () => {
    const data = tempDir();
    try {
      let rt = await start('2023-02-06T00:00:00+08:00', data.path);
      await advance(rt, '2023-02-06T09:00:00+08:00');
      expect(
        (await api(rt, 'POST', `/cycles/${WEEKLY}/2023-W06/submissions`, { unitId: 'ent-a' })).status,
      ).toBe(201);
      await advance(rt, '2023-02-07T09:00:00+08:00');
      const before = summary(await emails(rt), WEEKLY_TITLE);
      expect(before).toHaveLength(9);
      await fetch(`${rt.sesUrl}/clear-store`, { method: 'POST' });
      await rt.close();
      runtimes = [];

      // Same data folder, same instant: the open cycle resumes and nothing already sent goes out again.
      rt = await start('2023-02-07T09:00:00+08:00', data.path);
      expect(summary(await emails(rt), WEEKLY_TITLE)).toEqual([]);
      await advance(rt, '2023-02-08T09:00:00+08:00');
      expect(summary(await emails(rt), WEEKLY_TITLE).sort()).toEqual([
        `escalation ${mail('ent-b', 'contact')} [ent-b]`,
        `escalation ${mail('ent-b', 'principal')} [ent-b]`,
        `escalation ${mail('ent-c', 'contact')} [ent-c]`,
        `escalation ${mail('ent-c', 'principal')} [ent-c]`,
        `escalation ${mail('ent-d', 'contact')} [ent-d]`,
        `escalation ${mail('ent-d', 'principal')} [ent-d]`,
      ]);
      const cycle = await api(rt, 'GET', `/cycles/${WEEKLY}/2023-W06`);
      expect(
        (cycle.json.units as { unitId: string; state: string }[]).find((u) => u.unitId === 'ent-a')?.state,
      ).toBe('submitted');
    } finally {
      data.remove();
    }
  });

  it('sends one catch-up, not a flood, for stages missed during an outage', async () => {
    const data = tempDir();
    try {
      let rt = await start('2023-02-06T00:00:00+08:00', data.path);
      await advance(rt, '2023-02-06T08:00:00+08:00');
      await rt.close();
      runtimes = [];
      // Down from Monday 08:00 to Wednesday 10:00: two reminders and two escalation levels were missed.
      rt = await start('2023-02-08T10:00:00+08:00', data.path);
      expect(summary(await emails(rt), WEEKLY_TITLE).sort()).toEqual(
        ['ent-a', 'ent-b', 'ent-c', 'ent-d'].flatMap((u) => [
          `escalation ${mail(u, 'contact')} [${u}]`,
          `escalation ${mail(u, 'principal')} [${u}]`,
        ]),
      );
    } finally {
      data.remove();
    }
  });

  it('waits longer than a month, and past the one-year execution limit in a new execution', async () => {
    // Only this cycle runs (no scheduler), started through the real SDK as the dispatcher would.
    const rt = await start('2023-01-01T00:10:00+08:00', null, false);
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
    await advance(rt, '2023-11-29T08:59:00+08:00');
    expect(summary(await emails(rt), '县属监管企业年底前安全述职')).toEqual([]);
    await advance(rt, '2023-11-29T09:00:00+08:00');
    expect(summary(await emails(rt), '县属监管企业年底前安全述职').sort()).toEqual(
      ['ent-a', 'ent-b', 'ent-c', 'ent-d'].map((u) => `reminder ${mail(u, 'contact')}`),
    );
    const names = rt.engine
      .list(rt.cycleStateMachineArn)
      .filter((e) => e.name.startsWith('year-end-safety-report_2023'));
    expect(names.map((e) => `${e.name}:${e.status}`).sort()).toEqual([
      'year-end-safety-report_2023:SUCCEEDED',
      'year-end-safety-report_2023_g2:RUNNING',
    ]);
  });
});
