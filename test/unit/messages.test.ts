import { describe, expect, it } from 'vitest';
import {
  NOTICE_TITLE_ZH,
  escalationEmail,
  instantLabel,
  periodLabel,
  reminderEmail,
  type EscalationInput,
  type ReminderInput,
} from '../../functions/core/messages.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';

const WEEKLY = loadCatalog().require('risk-prejudgment-weekly');
const PERIOD = '2023年第6周（2月6日至2月12日）';
const DEADLINE = '2023年2月6日（星期一）18:00';
const LINK = 'https://safeduty.example.gov.cn/links/eyJ1IjoiZW50LWEifQ.c2lnbmF0dXJl';

const reminder = (overrides: Partial<ReminderInput> = {}) =>
  reminderEmail({
    duty: WEEKLY,
    periodKey: '2023-W06',
    periodStart: '2023-02-06',
    periodEnd: '2023-02-12',
    deadline: '2023-02-06T18:00:00+08:00',
    unitName: '甲矿业有限公司',
    personName: '张联络员',
    link: LINK,
    linkExpires: '2023-03-15T00:00:00+08:00',
    to: 'ent-a.contact@example.gov.cn',
    ...overrides,
  });

const escalation = (overrides: Partial<EscalationInput> = {}) =>
  escalationEmail({
    duty: WEEKLY,
    periodKey: '2023-W06',
    periodStart: '2023-02-06',
    periodEnd: '2023-02-12',
    deadline: '2023-02-06T18:00:00+08:00',
    level: 3,
    personName: '李局长',
    positions: ['supervising-department'],
    units: [
      { unitName: '丙煤业有限公司', workdaysOverdue: 4, level: 3 },
      { unitName: '丁建材有限公司', workdaysOverdue: 4, level: 3 },
    ],
    to: 'dept.principal@example.gov.cn',
    ...overrides,
  });

describe('labels', () => {
  it('formats instants and periods in Chinese', () => {
    expect(instantLabel('2023-02-06T18:00:00+08:00')).toBe(DEADLINE);
    expect(instantLabel('2023-12-31T09:30:00+08:00')).toBe('2023年12月31日（星期日）09:30');
    expect(periodLabel('2023-W06', '2023-02-06', '2023-02-12')).toBe(PERIOD);
    expect(periodLabel('2023-09')).toBe('2023年9月');
    expect(periodLabel('2023-Q1')).toBe('2023年第一季度');
    expect(periodLabel('2023-02-06')).toBe('2023年2月6日');
    expect(periodLabel('2023')).toBe('2023年度');
  });
});

describe('reminder email', () => {
  const email = reminder();

  it('has a 【提醒】 subject with the duty, the period and the deadline', () => {
    expect(email.to).toBe('ent-a.contact@example.gov.cn');
    expect(email.subject).toBe(`【提醒】${WEEKLY.titleZh}（${PERIOD}）将于${DEADLINE}截止`);
  });

  it('says in text and HTML what is due, by when, under which clause, and where to record it', () => {
    for (const body of [email.text, email.html]) {
      expect(body).toContain('甲矿业有限公司');
      expect(body).toContain('张联络员');
      expect(body).toContain(WEEKLY.titleZh);
      expect(body).toContain(PERIOD);
      expect(body).toContain(DEADLINE);
      expect(body).toContain(WEEKLY.clause.quote);
      expect(body).toContain(NOTICE_TITLE_ZH);
      expect(body).toContain(WEEKLY.evidenceZh);
      expect(body).toContain('2023年3月15日（星期三）00:00前有效');
    }
    expect(email.text).toContain(LINK);
    expect(email.html).toContain(`<a href="${LINK}">`);
  });

  it('escapes HTML in names and links, and leaves the plain text as written', () => {
    const nasty = reminder({
      unitName: '<script>alert("x")</script>公司',
      personName: "O'Brien & 张",
      link: 'https://x.example/links/a"onmouseover="alert(1)',
    });
    expect(nasty.html).not.toContain('<script>');
    expect(nasty.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;公司');
    expect(nasty.html).toContain('O&#39;Brien &amp; 张');
    expect(nasty.html).toContain('href="https://x.example/links/a&quot;onmouseover=&quot;alert(1)"');
    expect(nasty.text).toContain('<script>alert("x")</script>公司');
  });
});

describe('escalation digest', () => {
  const email = escalation();

  it('has a 【逾期】 subject with the number of units and the level', () => {
    expect(email.to).toBe('dept.principal@example.gov.cn');
    expect(email.subject).toBe(`【逾期】${WEEKLY.titleZh}（${PERIOD}）2个单位逾期未完成（第3级督办）`);
  });

  it('lists every unit with its working days overdue and level, in order', () => {
    expect(email.text).toContain('李局长（行业监管部门负责人）');
    expect(email.text).toContain(`未在${DEADLINE}前完成`);
    const lines = email.text.split('\n').filter((l) => /^\d+\. /.test(l));
    expect(lines).toEqual([
      `1. 丙煤业有限公司：${WEEKLY.titleZh}，已逾期4个工作日，督办级别：第3级`,
      `2. 丁建材有限公司：${WEEKLY.titleZh}，已逾期4个工作日，督办级别：第3级`,
    ]);
    expect(email.text).toContain(WEEKLY.clause.quote);
    const rows = email.html.match(/<tr><td>.*?<\/tr>/g) ?? [];
    expect(rows).toEqual([
      `<tr><td>1</td><td>丙煤业有限公司</td><td>${WEEKLY.titleZh}</td><td>已逾期4个工作日</td><td>第3级</td></tr>`,
      `<tr><td>2</td><td>丁建材有限公司</td><td>${WEEKLY.titleZh}</td><td>已逾期4个工作日</td><td>第3级</td></tr>`,
    ]);
  });

  it('names every position the recipient holds, and says when less than a working day has passed', () => {
    const e = escalation({
      level: 1,
      positions: ['contact', 'principal'],
      units: [{ unitName: '乙化工有限公司', workdaysOverdue: 0, level: 1 }],
    });
    expect(e.subject).toMatch(/1个单位逾期未完成（第1级督办）$/);
    expect(e.text).toContain('李局长（单位联络人、单位主要负责人）');
    expect(e.text).toContain(
      '乙化工有限公司：基层单位安全风险隐患周预判，已逾期（不足1个工作日），督办级别：第1级',
    );
  });

  it('escapes HTML in unit and person names', () => {
    const e = escalation({
      personName: '<b>李</b>',
      units: [{ unitName: '<script>alert(1)</script>', workdaysOverdue: 2, level: 3 }],
    });
    expect(e.html).not.toContain('<script>');
    expect(e.html).not.toContain('<b>李</b>');
    expect(e.html).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(e.html).toContain('&lt;b&gt;李&lt;/b&gt;');
    expect(e.text).toContain('1. <script>alert(1)</script>：');
  });
});
