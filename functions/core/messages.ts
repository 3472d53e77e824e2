import type { Duty, Position } from '../../workflows/catalog/schema.ts';
import { POSITION_ZH } from '../../workflows/catalog/schema.ts';
import type { OutgoingEmail } from '../adapters/mailer.ts';
import { escapeHtml } from './html.ts';

/** The notice every clause is quoted from. */
export const NOTICE_TITLE_ZH = '《襄垣县人民政府关于做好2023年安全生产工作的通知》（襄政发〔2023〕1号）';
const SIGNATURE = '襄垣县安全生产工作提醒系统（safeduty）';
const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];
const QUARTERS = ['一', '二', '三', '四'];

/** `2023-02-28T18:00:00+08:00` → `2023年2月28日（星期二）18:00`; input is always Shanghai time. */
export function instantLabel(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!m) return iso;
  const [, y, mo, d, h, mi] = m;
  const weekday = new Date(`${y}-${mo}-${d}T00:00:00Z`).getUTCDay();
  return `${y}年${Number(mo)}月${Number(d)}日（星期${WEEKDAYS[weekday]}）${h}:${mi}`;
}

export function dateLabel(date: string): string {
  const [y, mo, d] = date.split('-');
  return `${y}年${Number(mo)}月${Number(d)}日`;
}

/** `2023-W06` → `2023年第6周（2月6日至2月12日）`, `2023-Q1` → `2023年第一季度`, `2023` → `2023年度`. */
export function periodLabel(periodKey: string, start?: string, end?: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-W(\d{2})$/.exec(periodKey))) {
    const span =
      start && end
        ? `（${Number(start.slice(5, 7))}月${Number(start.slice(8))}日至${Number(end.slice(5, 7))}月${Number(end.slice(8))}日）`
        : '';
    return `${m[1]}年第${Number(m[2])}周${span}`;
  }
  if ((m = /^(\d{4})-Q([1-4])$/.exec(periodKey))) return `${m[1]}年第${QUARTERS[Number(m[2]) - 1]}季度`;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(periodKey))) return dateLabel(periodKey);
  if ((m = /^(\d{4})-(\d{2})$/.exec(periodKey))) return `${m[1]}年${Number(m[2])}月`;
  if (/^\d{4}$/.test(periodKey)) return `${periodKey}年度`;
  return periodKey;
}

function clauseText(duty: Duty): string {
  return `依据：${NOTICE_TITLE_ZH}“${duty.clause.section}”部分：“${duty.clause.quote}”`;
}

function htmlPage(paragraphs: string[], table?: string): string {
  return [
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>',
    '<body style="font-family: sans-serif; line-height: 1.6">',
    ...paragraphs.map((p) => `<p>${p}</p>`),
    table ?? '',
    `<p style="color:#666">—— ${escapeHtml(SIGNATURE)}</p>`,
    '</body></html>',
  ].join('\n');
}

export interface ReminderInput {
  duty: Duty;
  periodKey: string;
  periodStart: string;
  periodEnd: string;
  deadline: string;
  unitName: string;
  personName: string;
  link: string;
  linkExpires: string;
  to: string;
  /** True when the deadline has passed (a catch-up after an outage is never phrased as "before"). */
}

export function reminderEmail(r: ReminderInput): OutgoingEmail {
  const period = periodLabel(r.periodKey, r.periodStart, r.periodEnd);
  const deadline = instantLabel(r.deadline);
  const subject = `【提醒】${r.duty.titleZh}（${period}）将于${deadline}截止`;
  const lines = [
    `${r.unitName} ${r.personName}：`,
    `您单位的“${r.duty.titleZh}”（${period}）尚未记录完成，截止时间为${deadline}。`,
    clauseText(r.duty),
    `需提交：${r.duty.evidenceZh}`,
    `完成后请打开以下链接记录（仅限本单位本期使用，${instantLabel(r.linkExpires)}前有效）：`,
    r.link,
  ];
  const html = htmlPage([
    `${escapeHtml(r.unitName)} ${escapeHtml(r.personName)}：`,
    `您单位的“<strong>${escapeHtml(r.duty.titleZh)}</strong>”（${escapeHtml(period)}）尚未记录完成，截止时间为<strong>${escapeHtml(deadline)}</strong>。`,
    escapeHtml(clauseText(r.duty)),
    `需提交：${escapeHtml(r.duty.evidenceZh)}`,
    `<a href="${escapeHtml(r.link)}">点击此处记录完成情况</a>（仅限本单位本期使用，${escapeHtml(instantLabel(r.linkExpires))}前有效）`,
  ]);
  return { to: r.to, subject, text: [...lines, '', `—— ${SIGNATURE}`].join('\n\n'), html };
}

export interface OverdueLine {
  unitName: string;
  workdaysOverdue: number;
  level: number;
}

export function overdueText(workdays: number): string {
  return workdays > 0 ? `已逾期${workdays}个工作日` : '已逾期（不足1个工作日）';
}

export interface EscalationInput {
  duty: Duty;
  periodKey: string;
  periodStart: string;
  periodEnd: string;
  deadline: string;
  level: number;
  personName: string;
  positions: Position[];
  units: OverdueLine[];
  to: string;
}

export function escalationEmail(e: EscalationInput): OutgoingEmail {
  const period = periodLabel(e.periodKey, e.periodStart, e.periodEnd);
  const deadline = instantLabel(e.deadline);
  const role = e.positions.map((p) => POSITION_ZH[p]).join('、');
  const subject = `【逾期】${e.duty.titleZh}（${period}）${e.units.length}个单位逾期未完成（第${e.level}级督办）`;
  const intro = `${e.personName}（${role}）：以下单位未在${deadline}前完成“${e.duty.titleZh}”（${period}），现按第${e.level}级督办提请您督促落实：`;
  const list = e.units.map(
    (u, i) =>
      `${i + 1}. ${u.unitName}：${e.duty.titleZh}，${overdueText(u.workdaysOverdue)}，督办级别：第${u.level}级`,
  );
  const table = [
    '<table border="1" cellpadding="6" style="border-collapse:collapse">',
    '<tr><th>序号</th><th>单位</th><th>事项</th><th>逾期情况</th><th>督办级别</th></tr>',
    ...e.units.map(
      (u, i) =>
        `<tr><td>${i + 1}</td><td>${escapeHtml(u.unitName)}</td><td>${escapeHtml(e.duty.titleZh)}</td><td>${overdueText(u.workdaysOverdue)}</td><td>第${u.level}级</td></tr>`,
    ),
    '</table>',
  ].join('\n');
  const text = [intro, list.join('\n'), clauseText(e.duty), `—— ${SIGNATURE}`].join('\n\n');
  const html = htmlPage([escapeHtml(intro)], `${table}\n<p>${escapeHtml(clauseText(e.duty))}</p>`);
  return { to: e.to, subject, text, html };
}
