// One email per recipient and moment: what it says, in text and HTML, and its subject.
import { describe, expect, it } from 'vitest';
import { NOTICE_TITLE_ZH, instantLabel, periodLabel } from '../../functions/core/labels.ts';
import { workdaysOverdue } from '../../functions/core/overdue.ts';
import { oneLine } from '../../functions/core/text.ts';
import {
  composeEmail,
  timeLeftZh,
  UNITS_SHOWN,
  type ComposeContext,
} from '../../functions/delivery/compose.ts';
import type { Notice, NoticeBody } from '../../functions/notices/model.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';

const catalog = loadCatalog();
const WEEKLY = catalog.require('risk-prejudgment-weekly');
const PERIOD = '2023年第6周（2月6日至2月12日）';
const DEADLINE = '2023年2月6日（星期一）18:00';

const ctx = (nowIso: string): ComposeContext => ({
  now: Date.parse(nowIso),
  duty: (id) => catalog.get(id),
  workdaysOverdue,
  links: {
    unit: (unitId, dutyId, periodKey) => `https://x.gov.cn/links/${unitId}.${dutyId}.${periodKey}`,
    overdue: (scope, dutyId) => `https://x.gov.cn/escalations/${scope.kind}.${scope.id}.${dutyId}`,
    caseLink: (caseId, unitId) => `https://x.gov.cn/cases/${caseId}?link=${unitId}`,
  },
});

const notice = (body: NoticeBody, extra: Partial<Notice> = {}): Notice => ({
  recipient: { address: 'ent-a.contact@example.gov.cn', name: '张联络员' },
  at: '2023-02-06T14:30:00+08:00',
  urgency: 'routine',
  subject: 'CYCLE#risk-prejudgment-weekly#2023-W06',
  stage: 'reminder-2',
  part: 0,
  body,
  recordedAt: '2023-02-06T14:20:00+08:00',
  ...extra,
});

const reminder = (n = 2, units = [{ id: 'ent-a', name: '甲矿业有限公司' }]): NoticeBody => ({
  type: 'cycle-reminder',
  dutyId: WEEKLY.id,
  periodKey: '2023-W06',
  titleZh: WEEKLY.titleZh,
  deadline: '2023-02-06T18:00:00+08:00',
  reminder: { n, of: 2 },
  units,
  linkExpires: '2023-03-15T00:00:00.000Z',
});

const escalation = (extra: Partial<Extract<NoticeBody, { type: 'cycle-escalation' }>> = {}): NoticeBody => ({
  type: 'cycle-escalation',
  dutyId: WEEKLY.id,
  periodKey: '2023-W06',
  titleZh: WEEKLY.titleZh,
  deadline: '2023-02-06T18:00:00+08:00',
  level: 3,
  levels: 3,
  audience: 'supervisor',
  rolesZh: ['行业监管部门负责人'],
  scope: { kind: 'department', id: 'dept' },
  units: [
    { id: 'ent-c', name: '丙煤业有限公司', contactName: '王五', contactPhone: '13800000003' },
    { id: 'ent-d', name: '丁建材有限公司', contactName: '赵六' },
  ],
  ...extra,
});

describe('labels', () => {
  it('formats instants, periods and time left in Chinese', () => {
    expect(instantLabel('2023-02-06T18:00:00+08:00')).toBe(DEADLINE);
    expect(instantLabel('2023-12-31T09:30:00+08:00')).toBe('2023年12月31日（星期日）09:30');
    expect(periodLabel('2023-W06', '2023-02-06', '2023-02-12')).toBe(PERIOD);
    expect(periodLabel('2023-09')).toBe('2023年9月');
    expect(periodLabel('2023-Q1')).toBe('2023年第一季度');
    expect(periodLabel('2023-02-06')).toBe('2023年2月6日');
    expect(periodLabel('2023')).toBe('2023年度');
    expect(timeLeftZh(0, 3.5 * 3_600_000)).toBe('约3小时30分钟');
    expect(timeLeftZh(0, 20 * 60_000)).toBe('约20分钟');
    expect(timeLeftZh(0, 9 * 86_400_000)).toBe('约9天');
  });
});

describe('an email with one reminder', () => {
  const email = composeEmail(
    { address: 'ent-a.contact@example.gov.cn', name: '张联络员' },
    [notice(reminder())],
    ctx('2023-02-06T14:30:00+08:00'),
  );

  it('keeps the subject a reminder of its own would have, and says it is the last one', () => {
    expect(email.to).toBe('ent-a.contact@example.gov.cn');
    expect(email.subject).toBe(`【提醒】${WEEKLY.titleZh}（${PERIOD}）将于${DEADLINE}截止（最后一次提醒）`);
  });

  it('says in text and HTML what is due, by when, how long is left, under which clause, and where to record it', () => {
    for (const body of [email.text, email.html]) {
      expect(body).toContain('张联络员');
      expect(body).toContain('甲矿业有限公司');
      expect(body).toContain(`${WEEKLY.titleZh}（${PERIOD}）`);
      expect(body).toContain(`截止时间：${DEADLINE}，这是本期最后一次提醒，距截止还有约3小时30分钟。`);
      expect(body).toContain(WEEKLY.clause.quote);
      expect(body).toContain(NOTICE_TITLE_ZH);
      expect(body).toContain(WEEKLY.evidenceZh);
      expect(body).toContain('2023年3月15日（星期三）08:00前有效');
    }
    expect(email.text).toContain('https://x.gov.cn/links/ent-a.risk-prejudgment-weekly.2023-W06');
    expect(email.html).toContain('<a href="https://x.gov.cn/links/ent-a.risk-prejudgment-weekly.2023-W06">');
    expect(email.carried).toEqual([
      {
        id: '2023-02-06T14:30:00+08:00#CYCLE#risk-prejudgment-weekly#2023-W06#reminder-2#0',
        subject: 'CYCLE#risk-prejudgment-weekly#2023-W06',
        kind: 'reminder',
        titleZh: `${WEEKLY.titleZh}（${PERIOD}）`,
      },
    ]);
  });

  it('a first reminder of two does not say it is the last', () => {
    const first = composeEmail(
      { address: 'a@x.cn', name: '张' },
      [notice(reminder(1))],
      ctx('2023-02-06T09:00:00+08:00'),
    );
    expect(first.subject).not.toContain('最后');
    expect(first.text).toContain('距截止还有约9小时');
  });
});

describe('an escalation to a supervisor', () => {
  const email = composeEmail(
    { address: 'dept.principal@example.gov.cn', name: '李局长' },
    [notice(escalation(), { recipient: { address: 'dept.principal@example.gov.cn', name: '李局长' } })],
    ctx('2023-02-10T09:00:00+08:00'),
  );

  it('has a 【督办】 subject with the number of units and the level', () => {
    expect(email.subject).toBe(`【督办】${WEEKLY.titleZh}（${PERIOD}）2个单位逾期未完成（第3级督办）`);
  });

  it('lists the units with their contacts, says what the level means, and links the live overdue list', () => {
    expect(email.text).toContain(
      `以下2个单位未在${DEADLINE}前完成，已逾期4个工作日，按最高一级（第3级）督办规定报请您督办（您作为：行业监管部门负责人）：`,
    );
    expect(email.text).toContain('1. 丙煤业有限公司（联系人：王五，联系电话：13800000003）');
    expect(email.text).toContain('2. 丁建材有限公司（联系人：赵六，联系电话：未登记）');
    expect(email.text).toContain(
      '查看逾期单位清单（只读，实时更新）：https://x.gov.cn/escalations/department.dept.risk-prejudgment-weekly',
    );
    expect(email.html).toContain('<td>丙煤业有限公司</td><td>王五</td><td>13800000003</td>');
  });

  it(`shows at most ${UNITS_SHOWN} units and sends the reader to the link for the rest`, () => {
    const units = Array.from({ length: 45 }, (_, i) => ({
      id: `e${i}`,
      name: `企业${i}`,
      contactName: '某',
    }));
    const big = composeEmail(
      { address: 'd@x.cn', name: '李' },
      [notice(escalation({ units }))],
      ctx('2023-02-10T09:00:00+08:00'),
    );
    expect(big.subject).toContain('45个单位逾期未完成');
    expect(big.text).toContain(`另有${45 - UNITS_SHOWN}个单位未列出，完整清单见下方链接。`);
    expect(big.text).not.toContain(`${UNITS_SHOWN + 1}. `);
  });
});

describe('what a late unit hears', () => {
  it('its own escalation says 您单位…尚未完成 and carries its link, never a list of others', () => {
    const own = composeEmail(
      { address: 'ent-c.contact@example.gov.cn', name: '王五' },
      [
        notice(
          escalation({
            level: 1,
            audience: 'own',
            rolesZh: ['单位联络人'],
            scope: { kind: 'unit', id: 'ent-c' },
            units: [{ id: 'ent-c', name: '丙煤业有限公司' }],
          }),
        ),
      ],
      ctx('2023-02-07T09:00:00+08:00'),
    );
    expect(own.subject).toBe(`【逾期】${WEEKLY.titleZh}（${PERIOD}）您单位已逾期（第1级督办）`);
    expect(own.text).toContain(
      `您单位丙煤业有限公司尚未完成“${WEEKLY.titleZh}”（${PERIOD}），截止时间为${DEADLINE}，已逾期1个工作日。`,
    );
    expect(own.text).toContain('https://x.gov.cn/links/ent-c.risk-prejudgment-weekly.2023-W06');
    expect(own.text).not.toContain('以下');
  });
});

describe('everything owed at one moment, in one email', () => {
  it('has sections in the order a reader acts on them, and a subject that counts them', () => {
    const email = composeEmail(
      { address: 'p@x.cn', name: '刘' },
      [
        notice({ ...escalation(), titleZh: '督办中的职责' } as NoticeBody),
        notice(reminder()),
        notice(
          {
            ...reminder(1),
            dutyId: 'monthly-safety-meeting',
            periodKey: '2023-02',
            titleZh: '月度安全生产工作会议',
          } as NoticeBody,
          { subject: 'CYCLE#monthly-safety-meeting#2023-02' },
        ),
        notice(
          {
            type: 'delivery-problem',
            address: 'bad@x.cn',
            name: '某联络员',
            about: ['甲矿业有限公司联络员'],
            reasonZh: '邮件服务拒收了发往该地址的邮件',
            occurredAt: '2023-02-06T09:00:00+08:00',
          },
          { subject: 'DELIVERY' },
        ),
      ],
      ctx('2023-02-06T14:30:00+08:00'),
    );
    const headings = email.text.split('\n\n').filter((b) => /^[一二三四]、/.test(b));
    expect(headings).toEqual([
      '一、待办事项（请在截止时间前完成）',
      '二、督办事项',
      '三、无法送达的邮件地址（请核实更正）',
    ]);
    // 【督办】 names the overdue item, though the to-dos come first in the email.
    expect(email.subject).toMatch(/^【督办】督办中的职责（.+）等4项（待办2项、督办1项、其他1项）$/);
    expect(email.text).toContain('bad@x.cn');
    expect(email.carried).toHaveLength(4);
  });

  it('escapes HTML everywhere and keeps control characters out of the subject', () => {
    const nasty = composeEmail(
      { address: 'a@x.cn', name: '<b>张</b>' },
      [notice(reminder(2, [{ id: 'x', name: '<script>alert("x")</script>公司\r\nBcc: evil@x.cn' }]))],
      ctx('2023-02-06T14:30:00+08:00'),
    );
    expect(nasty.html).not.toContain('<script>');
    expect(nasty.html).not.toContain('<b>张</b>');
    expect(nasty.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;公司');
    expect(nasty.subject).not.toMatch(/[\r\n]/);
    expect(oneLine('甲\r\nBcc: x\u202e乙')).toBe('甲 Bcc: x 乙');
  });
});
