import type { Offset } from '../../workflows/catalog/schema.ts';
import type { CaseEvent, CaseRequest, CaseType, Notice, Stage } from '../../workflows/cases/schema.ts';
import type { OutgoingEmail } from '../adapters/mailer.ts';
import { NOTICE_TITLE_ZH, dateLabel, instantLabel, overdueText } from './messages.ts';
import { escapeHtml } from './html.ts';

const SIGNATURE = '襄垣县安全生产工作提醒系统（safeduty）';

export function clauseTextOf(clause: { section: string; quote: string }): string {
  return `依据：${NOTICE_TITLE_ZH}“${clause.section}”部分：“${clause.quote}”`;
}

/** Plain text and the same paragraphs as HTML; a link paragraph becomes an anchor. */
function render(
  to: string,
  subject: string,
  paragraphs: string[],
  link?: { url: string; caption: string },
): OutgoingEmail {
  const text = [...paragraphs, ...(link ? [`${link.caption}`, link.url] : []), `—— ${SIGNATURE}`].join(
    '\n\n',
  );
  const html = [
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>',
    '<body style="font-family: sans-serif; line-height: 1.6">',
    ...paragraphs.map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`),
    link
      ? `<p>${escapeHtml(link.caption)}<br><a href="${escapeHtml(link.url)}">${escapeHtml(link.url)}</a></p>`
      : '',
    `<p style="color:#666">—— ${escapeHtml(SIGNATURE)}</p>`,
    '</body></html>',
  ].join('\n');
  return { to, subject, text, html };
}

export interface CaseMailBase {
  type: CaseType;
  caseId: string;
  title: string;
  unitName: string;
  supervisingName: string;
  to: string;
  personName: string;
  rolesZh: string[];
  link?: { url: string; expires: string };
}

function greeting(m: CaseMailBase): string {
  return `${m.personName}（${m.rolesZh.join('、')}）：`;
}

function caseLine(m: CaseMailBase): string {
  return `${m.unitName}“${m.title}”（${m.type.titleZh}，案件编号：${m.caseId}）`;
}

function linkOf(m: CaseMailBase) {
  return m.link
    ? {
        url: m.link.url,
        caption: `办理或查看请使用以下链接（仅限本单位本案件使用，${instantLabel(m.link.expires)}前有效）：`,
      }
    : undefined;
}

/** What the next stage asks, e.g. "下一步：待验收——县应急管理局须在…前组织现场验收并作出验收结论。" */
export function nextStepLine(
  stage: Stage,
  partyName: string,
  deadline: string | undefined,
): string | undefined {
  if (stage.terminal || !deadline || !stage.actionZh) return undefined;
  return `下一步：${stage.titleZh}——${partyName}须在${instantLabel(deadline)}前${stage.actionZh}。`;
}

export interface NoticeMail extends CaseMailBase {
  notice: Notice;
  /** The event that notifies (absent for the opening notice). */
  event?: CaseEvent;
  at: string;
  details: { labelZh: string; value: string }[];
  next?: string;
  term: string;
}

/** A notice of something that happened: listed (双报告), a decision, closed (摘牌销号). */
export function caseNoticeEmail(m: NoticeMail): OutgoingEmail {
  const subject = `${m.notice.prefixZh}${m.type.titleZh}：${m.unitName}“${m.title}”${m.notice.noticeZh}`;
  const paragraphs = [
    greeting(m),
    `${caseLine(m)}于${instantLabel(m.at)}${m.notice.noticeZh}${m.event ? `（${m.event.titleZh}）` : ''}。监管部门：${m.supervisingName}。`,
    ...(m.details.length > 0 ? [m.details.map((d) => `${d.labelZh}：${d.value}`).join('\n')] : []),
    ...(m.next ? [`当前整改期限：${instantLabel(m.term)}。`, m.next] : []),
    clauseTextOf(m.type.clause),
  ];
  return render(m.to, subject, paragraphs, linkOf(m));
}

export interface ReminderMail extends CaseMailBase {
  /** What is due: a stage, a request awaiting a decision, or a progress report. */
  what:
    | { kind: 'stage'; stage: Stage }
    | { kind: 'request'; request: CaseRequest }
    | { kind: 'progress'; titleZh: string; stage: Stage };
  deadline: string;
  partyName: string;
  /** The rule behind the deadline, when it helps (e.g. the five parts a plan must have). */
  ruleZh?: string;
}

function actionOf(what: ReminderMail['what']): {
  actionZh: string;
  clause: { section: string; quote: string };
  titleZh: string;
} {
  if (what.kind === 'stage')
    return { actionZh: what.stage.actionZh ?? '', clause: what.stage.clause, titleZh: what.stage.titleZh };
  if (what.kind === 'request')
    return { actionZh: what.request.actionZh, clause: what.request.clause, titleZh: what.request.titleZh };
  return { actionZh: `报送${what.titleZh}`, clause: what.stage.clause, titleZh: what.titleZh };
}

/** 【提醒】 before a deadline: what is due, by when, and why. */
export function caseReminderEmail(m: ReminderMail): OutgoingEmail {
  const a = actionOf(m.what);
  const deadline = instantLabel(m.deadline);
  const subject = `【提醒】${m.type.titleZh}：${m.unitName}“${m.title}”须于${deadline}前${a.actionZh}`;
  const paragraphs = [
    greeting(m),
    `${caseLine(m)}目前处于“${a.titleZh}”环节：${m.partyName}须于${deadline}前${a.actionZh}，目前尚未完成。`,
    ...(m.ruleZh ? [m.ruleZh] : []),
    clauseTextOf(a.clause),
  ];
  return render(m.to, subject, paragraphs, linkOf(m));
}

export interface EscalationMail extends ReminderMail {
  level: number;
  workdaysOverdue: number;
}

/** 【逾期】 after a deadline: what is overdue, since when, at which level, and why. */
export function caseEscalationEmail(m: EscalationMail): OutgoingEmail {
  const a = actionOf(m.what);
  const deadline = instantLabel(m.deadline);
  const subject = `【逾期】${m.type.titleZh}：${m.unitName}“${m.title}”${a.actionZh}已逾期（第${m.level}级督办）`;
  const paragraphs = [
    greeting(m),
    `${caseLine(m)}处于“${a.titleZh}”环节：${m.partyName}应于${deadline}前${a.actionZh}，至今未完成，自${deadline}起${overdueText(m.workdaysOverdue)}。现按第${m.level}级督办提请您督促落实。`,
    ...(m.ruleZh ? [m.ruleZh] : []),
    clauseTextOf(a.clause),
  ];
  return render(m.to, subject, paragraphs, linkOf(m));
}

/** `{ amount: -5, unit: 'workdays' }` → `整改期限前5个工作日`. */
export function beforeTermZh(o: Offset): string {
  const unit = o.unit === 'hours' ? '小时' : o.unit === 'days' ? '天' : '个工作日';
  return `整改期限前${Math.abs(o.amount)}${unit}`;
}

export { dateLabel, instantLabel };
