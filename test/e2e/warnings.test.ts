import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Leader, Unit } from '../../functions/core/model.ts';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_TABLE, type Runtime } from '../../local/runtime.ts';
import { main } from '../../cli/main.ts';
import { advance, api, countyCore, mailItems, sentMails, startTestRuntime } from '../support/runtime.ts';

// 预警叫应 (section 四) on the virtual clock, at night: a red warning to three towns, answered in 5 minutes, in 20
// (after the limit: escalated once) and never (escalated to the county leader in charge, then 安委办), by text
// message and email, with who answered when kept on the warning.

const mail = (id: string, role: string) => `${id}.${role}@example.gov.cn`;
const TOWNS = [
  { id: 'town-a', name: '青山镇', phone: '13800000101' },
  { id: 'town-b', name: '河东镇', phone: '13800000201' },
  { id: 'town-c', name: '西营镇', phone: '13800000301' },
];
const LEADER_PHONE = '+8613900000001';
const OFFICE_PHONE = '+8613900000002';

function warningCounty(): { units: Unit[]; leaders: Leader[] } {
  const [office, dept] = countyCore();
  return {
    units: [
      { ...(office as Unit), contact: { ...(office as Unit).contact, phone: OFFICE_PHONE } },
      dept as Unit,
      {
        id: 'dept-water',
        name: '县水利局',
        kind: 'county-department',
        contact: { name: '水利局值班员', email: mail('water', 'contact') },
        principal: { name: '水利局局长', email: mail('water', 'principal') },
        leaderInChargeId: 'leader-a',
        active: true,
      },
      ...TOWNS.map((t, i) => ({
        id: t.id,
        name: t.name,
        kind: 'town' as const,
        contact: { name: `${t.name}值班员`, email: mail(t.id, 'contact'), phone: `0355-800000${i}` },
        principal: { name: `${t.name}镇长`, email: mail(t.id, 'principal'), phone: t.phone },
        leaderInChargeId: 'leader-a',
        active: true,
      })),
    ],
    leaders: [
      {
        id: 'leader-a',
        titleZh: '副县长',
        holder: { name: '分管县领导', email: 'leader-a@example.gov.cn', phone: LEADER_PHONE },
      },
    ],
  };
}

let runtimes: Runtime[] = [];
async function start(clock: string): Promise<Runtime> {
  const rt = await startTestRuntime({
    clock,
    ...warningCounty(),
    scheduler: false,
    reconcileEveryMs: 3_600_000,
  });
  runtimes.push(rt);
  return rt;
}
beforeAll(async () => {
  await (await start('2023-07-05T00:00:00+08:00')).close();
  runtimes = [];
});
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

const RED = {
  warningId: 'sl-20230705-red',
  level: 'red',
  title: '山洪灾害红色预警',
  text: '预计今夜将出现大暴雨，局部特大暴雨，山洪灾害发生可能性很大，请立即组织危险区域人员转移。',
  units: TOWNS.map((t) => t.id),
  issuedBy: 'dept-water',
  validUntil: '2023-07-06T08:00:00+08:00',
};

/** `HH:MM subject-prefix → recipient` for every email and text message of the warning, in send order. */
function traffic(rt: Runtime): string[] {
  const hhmm = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(11, 16);
  const emails = sentMails(rt).flatMap((m) =>
    mailItems(m)
      .filter((i) => i.text.includes('预警叫应'))
      .map((i) => ({
        at: m.at,
        line: `${hhmm(m.at)} 邮件 ${/^【[^】]+】/.exec(i.title)?.[0]}${/第(\d)级/.exec(i.title)?.[1] ?? ''} ${m.to.join(',')}`,
      })),
  );
  const texts = rt.sms.sent.map((s) => ({
    at: s.at,
    line: `${hhmm(s.at)} 短信 ${/【(?:请立即叫应|逾期)】/.exec(s.text)?.[0]}${/第(\d)级/.exec(s.text)?.[1] ?? ''} ${s.to}`,
  }));
  // Sorted as text: HH:MM first, so by minute, and within a minute in a fixed order.
  return [...emails, ...texts].map((x) => x.line).sort();
}

/** The signed link in the latest text message to this phone. */
function smsLink(rt: Runtime, phone: string): string {
  const text = rt.sms.sent.filter((s) => s.to === phone).at(-1)?.text ?? '';
  const url = /(https?:\/\/\S+\/cases\/\S+)/.exec(text)?.[1];
  if (!url) throw new Error(`no link in a text to ${phone}: ${text}`);
  return new URL(url).pathname + new URL(url).search;
}

/** What a town's principal does on the phone: open the link, tap the button with their own name. */
async function tapToAnswer(
  rt: Runtime,
  phone: string,
  name: string,
): Promise<{ status: number; text: string }> {
  const path = smsLink(rt, phone);
  const pageRes = await fetch(`${rt.apiUrl}${path}`, { headers: { accept: 'text/html' } });
  const page = await pageRes.text();
  expect(pageRes.status).toBe(200);
  expect(page).toContain(`我是${name}（主要负责人），确认收到（叫应）`);
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, '&');
  const res = await fetch(`${rt.apiUrl}${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ event: 'acknowledged', personName: name }).toString(),
  });
  return { status: res.status, text: await res.text() };
}

describe('预警叫应: a red warning to three towns at night', () => {
  it('reaches every principal at once by SMS and email, escalates who does not answer minute by minute, keeps who answered when', async () => {
    const rt = await start('2023-07-05T22:30:00+08:00');
    const issued = await api(rt, 'POST', '/warnings', RED);
    expect(issued.status, issued.text).toBe(201);
    expect(issued.json).toMatchObject({
      warningId: RED.warningId,
      levelZh: '红色预警',
      ackMinutes: 15,
      respondBy: '2023-07-05T22:45:00+08:00',
      counts: { units: 3, responded: 0, awaiting: 3 },
    });
    // A retry of the same request (the issuing system timed out) warns nobody twice.
    const again = await api(rt, 'POST', '/warnings', RED);
    expect(again.status, again.text).toBe(200);

    await advance(rt, '2023-07-05T22:35:00+08:00');
    // At once, at night: each town's principal by text and email, its contact by email (a landline gets no text).
    expect(traffic(rt)).toEqual(
      [
        ...TOWNS.flatMap((t) => [
          `22:30 邮件 【请立即叫应】 ${mail(t.id, 'contact')}`,
          `22:30 邮件 【请立即叫应】 ${mail(t.id, 'principal')}`,
          `22:30 短信 【请立即叫应】 +86${t.phone}`,
        ]),
      ].sort(),
    );
    const first = rt.sms.sent.find((s) => s.to === '+8613800000101');
    // The text message says what the warning is, and where to answer it.
    expect(first?.text).toMatch(
      /^【襄垣县安委办】青山镇镇长：【请立即叫应】预警叫应：青山镇“红色预警：山洪灾害红色预警”已发布，须立即确认收到（叫应）；预警级别：红色预警；预警内容：预计今夜将出现大暴雨/,
    );
    expect(first?.text).toMatch(/有效期至：2023年7月6日（星期四）08:00；.*点击办理：http/);

    // 青山镇 answers 5 minutes after the issue, with one tap.
    const a = await tapToAnswer(rt, '+8613800000101', '青山镇镇长');
    expect(a.status, a.text).toBe(201);
    expect(a.text).toContain('已记录青山镇镇长“确认收到（叫应）”');

    // 22:45: the limit passes for the other two: each principal again, and the county leader in charge.
    await advance(rt, '2023-07-05T22:50:00+08:00');
    const level1 = traffic(rt).filter((l) => l.startsWith('22:45'));
    expect(level1).toEqual(
      [
        `22:45 邮件 【逾期】1 ${mail('town-b', 'principal')}`,
        `22:45 邮件 【逾期】1 ${mail('town-c', 'principal')}`,
        // One email to the leader, one item per town; one text message naming both.
        `22:45 邮件 【逾期】1 leader-a@example.gov.cn`,
        `22:45 邮件 【逾期】1 leader-a@example.gov.cn`,
        `22:45 短信 【逾期】1 +8613800000201`,
        `22:45 短信 【逾期】1 +8613800000301`,
        `22:45 短信 【逾期】1 ${LEADER_PHONE}`,
      ].sort(),
    );
    expect(sentMails(rt).filter((m) => m.to.includes('leader-a@example.gov.cn'))).toHaveLength(1);
    expect(rt.sms.sent.filter((m) => m.to === LEADER_PHONE)).toHaveLength(1);
    const leaderText = rt.sms.sent
      .filter((s) => s.to === LEADER_PHONE)
      .map((s) => s.text)
      .join('\n');
    expect(leaderText).toContain('河东镇');
    // The leader can call the town at once: its principal's and contact's numbers are in the message.
    expect(leaderText).toContain(
      '联系方式：主要负责人西营镇镇长（13800000301），联络人西营镇值班员（0355-8000002）',
    );
    const leaderMail = sentMails(rt)
      .filter((m) => m.to.includes('leader-a@example.gov.cn'))
      .at(-1);
    expect(leaderMail?.text).toContain(
      '应于2023年7月5日（星期三）22:45前确认收到预警（叫应）并落实预警行动措施，至今未完成。现按第1级督办',
    );

    // 河东镇 answers 20 minutes after the issue: escalated once, and no further.
    await advance(rt, '2023-07-05T22:50:00+08:00');
    const b = await tapToAnswer(rt, '+8613800000201', '河东镇镇长');
    expect(b.status, b.text).toBe(201);

    // 23:00: 西营镇 still silent: the leader and 安委办, by text and email.
    await advance(rt, '2023-07-05T23:05:00+08:00');
    const level2 = traffic(rt).filter((l) => l.startsWith('23:00'));
    expect(level2).toEqual(
      [
        `23:00 邮件 【逾期】2 leader-a@example.gov.cn`,
        `23:00 邮件 【逾期】2 ${mail('office', 'contact')}`,
        `23:00 短信 【逾期】2 ${LEADER_PHONE}`,
        `23:00 短信 【逾期】2 ${OFFICE_PHONE}`,
      ].sort(),
    );
    expect(traffic(rt).join('\n')).not.toMatch(/23:00 .*town-b|23:00 .*13800000201/);

    // The night passes; the warning ends at 08:00 with 西营镇 recorded as not having answered. Nothing else is sent.
    const before = traffic(rt).length;
    await advance(rt, '2023-07-06T09:00:00+08:00');
    expect(traffic(rt).length).toBe(before);
    const view = await api(rt, 'GET', `/warnings/${RED.warningId}`);
    expect(view.status, view.text).toBe(200);
    expect(view.json).toMatchObject({
      counts: { units: 3, responded: 2, awaiting: 0, notResponded: 1 },
      units: [
        {
          unitId: 'town-a',
          state: 'responded',
          respondedBy: '青山镇镇长',
          respondedAt: '2023-07-05T22:35:00+08:00',
          minutesToRespond: 5,
          escalationLevel: 0,
        },
        {
          unitId: 'town-b',
          state: 'responded',
          respondedBy: '河东镇镇长',
          respondedAt: '2023-07-05T22:50:00+08:00',
          minutesToRespond: 20,
          escalationLevel: 1,
        },
        {
          unitId: 'town-c',
          state: 'not-responded',
          stateZh: '未叫应（预警已结束）',
          escalationLevel: 2,
          escalatedToZh: ['责任单位主要负责人', '分管县领导', '县安委办'],
        },
      ],
    });
    const c = await api(rt, 'GET', `/cases/${RED.warningId}-3`);
    expect(c.json).toMatchObject({ status: 'closed', stage: 'warning-ended' });
    // Every notice that had to go at once took the express lane, and its marker was cleared once served.
    const db = new DynamoDBClient({
      endpoint: rt.dynamoEndpoint,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const express = await db.send(
      new QueryCommand({
        TableName: LOCAL_TABLE,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'OUTBOX-EXPRESS' } },
      }),
    );
    db.destroy();
    expect(express.Items ?? []).toEqual([]);
  });

  it('refuses a bad warning with the field and the problem, writing nothing', async () => {
    const rt = await start('2023-07-05T22:30:00+08:00');
    const cases = async () => ((await api(rt, 'GET', '/cases')).json as { total: number }).total;
    const bad = await api(rt, 'POST', '/warnings', { ...RED, units: ['town-a', 'town-x'] });
    expect(bad.status).toBe(404);
    expect(bad.json).toMatchObject({
      issues: [{ field: 'units[1]', problem: expect.stringContaining('town-x') }],
    });
    const short = await api(rt, 'POST', '/warnings', { ...RED, validUntil: '2023-07-05T22:40:00+08:00' });
    expect(short.status).toBe(400);
    expect(short.json).toMatchObject({
      issues: [{ field: 'validUntil', problem: expect.stringContaining('15分钟') }],
    });
    const level = await api(rt, 'POST', '/warnings', { ...RED, level: 'purple' });
    expect(level.status).toBe(400);
    expect(level.json).toMatchObject({
      issues: [{ field: 'level', problem: expect.stringContaining('红色') }],
    });
    expect(await cases()).toBe(0);
    // Lifting: whoever has not answered is released, nothing more goes out.
    expect((await api(rt, 'POST', '/warnings', { ...RED, level: 'orange' })).status).toBe(201);
    const lifted = await api(rt, 'POST', `/warnings/${RED.warningId}/lift`, {});
    expect(lifted.status, lifted.text).toBe(200);
    expect(lifted.json).toMatchObject({ counts: { responded: 0, awaiting: 0, notResponded: 3 } });
    await advance(rt, '2023-07-06T01:00:00+08:00');
    expect(traffic(rt).filter((l) => l.includes('【逾期】'))).toEqual([]);
  });

  it('from the command line: issued, shown unit by unit, with mistakes refused in Chinese', async () => {
    const rt = await start('2023-07-05T22:30:00+08:00');
    const saved = process.env.SAFEDUTY_ADMIN_TOKEN;
    process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
    try {
      const cli = async (...args: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main([...args, '--api', rt.apiUrl], {
          out: (l) => out.push(l),
          err: (l) => err.push(l),
        });
        return { code, out: out.join('\n'), err: err.join('\n') };
      };
      // A red warning of heavy rain, with what each try adds.
      const issue = (...more: string[]) =>
        cli('warnings', 'issue', '--level', '红色', '--title', '暴雨预警', '--text', '大暴雨', ...more);
      const missing = await cli('warnings', 'issue', '--level', '红色', '--title', '暴雨预警');
      expect(missing.code).toBe(2);
      expect(missing.err).toContain('缺少：--text、--units、--valid-until');
      const badTime = await issue('--units', 'town-a，town-b', '--valid-until', '明早八点');
      expect(badTime.code).toBe(2);
      expect(badTime.err).toContain('--valid-until 应为北京时间');
      const unknown = await issue('--units', 'town-a,town-z', '--valid-until', '2023-07-06 08:00');
      expect(unknown.code).toBe(2);
      expect(unknown.err).toContain('town-z');
      const issued = await issue(
        '--units',
        'town-a，town-b',
        '--valid-until',
        '2023-07-06 08:00',
        '--id',
        'yj-cli-1',
      );
      expect(issued.code, issued.err).toBe(0);
      expect(issued.out).toContain('预警已发布');
      expect(issued.out).toContain('叫应时限：2023-07-05 22:45');
      await advance(rt, '2023-07-05T22:50:00+08:00');
      const shown = await cli('warnings', 'show', 'yj-cli-1');
      expect(shown.out).toContain('共 2 个单位：已叫应 0，待叫应 2，未叫应 0');
      expect(shown.out).toContain(
        '青山镇（town-a）：待叫应；已升级至第1级（责任单位主要负责人、分管县领导）',
      );
      expect((await cli('warnings', 'list')).out).toContain('yj-cli-1');
    } finally {
      if (saved === undefined) delete process.env.SAFEDUTY_ADMIN_TOKEN;
      else process.env.SAFEDUTY_ADMIN_TOKEN = saved;
    }
  });
});
