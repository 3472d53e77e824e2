import type { Offset } from '../../workflows/catalog/schema.ts';
import type { CaseEvent, CaseRequest, CaseType, Notice, Stage } from '../../workflows/cases/schema.ts';
import { checkWorkday, shanghaiDateOf } from '../../workflows/calendar.ts';
import { clauseText, dateLabel, instantLabel, overdueText } from './labels.ts';

export const clauseTextOf = clauseText;

/**
 * A case's part of someone's email: its subject (the email's subject when it is the only part), paragraphs, and
 * the party whose signed link it carries. Delivery adds the greeting, the link itself and the signature.
 */
export interface CasePart {
  subjectLine: string;
  paragraphs: string[];
  link?: { unitId: string; expires: string };
}

export interface CaseMailBase {
  type: CaseType;
  caseId: string;
  title: string;
  unitName: string;
  supervisingName: string;
  /** The unit whose signed link the part carries, and until when. */
  link?: { unitId: string; expires: string };
}

function caseLine(m: CaseMailBase): string {
  return `${m.unitName}“${m.title}”（${m.type.titleZh}，案件编号：${m.caseId}）`;
}

function part(m: CaseMailBase, subjectLine: string, paragraphs: string[]): CasePart {
  return { subjectLine, paragraphs, ...(m.link ? { link: m.link } : {}) };
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
  termMovedFrom?: string;
}

/** A notice of something that happened: listed (双报告), a decision, closed (摘牌销号). */
export function caseNoticePart(m: NoticeMail): CasePart {
  const subject = `${m.notice.prefixZh}${m.type.titleZh}：${m.unitName}“${m.title}”${m.notice.noticeZh}`;
  const paragraphs = [
    `${caseLine(m)}于${instantLabel(m.at)}${m.notice.noticeZh}${m.event ? `（${m.event.titleZh}）` : ''}。监管部门：${m.supervisingName}。`,
    ...(m.details.length > 0 ? [m.details.map((d) => `${d.labelZh}：${d.value}`).join('\n')] : []),
    ...(m.next
      ? [
          `当前${m.type.termLabelZh}：${instantLabel(m.term)}${m.termMovedFrom ? `（${termMoveZh(m.termMovedFrom, m.term)}）` : ''}。`,
          m.next,
        ]
      : []),
    clauseTextOf(m.type.clause),
  ];
  return part(m, subject, paragraphs);
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
export function caseReminderPart(m: ReminderMail): CasePart {
  const a = actionOf(m.what);
  const deadline = instantLabel(m.deadline);
  const subject = `【提醒】${m.type.titleZh}：${m.unitName}“${m.title}”须于${deadline}前${a.actionZh}`;
  const paragraphs = [
    `${caseLine(m)}目前处于“${a.titleZh}”环节：${m.partyName}须于${deadline}前${a.actionZh}，目前尚未完成。`,
    ...(m.ruleZh ? [m.ruleZh] : []),
    clauseTextOf(a.clause),
  ];
  return part(m, subject, paragraphs);
}

export interface EscalationMail extends ReminderMail {
  level: number;
  workdaysOverdue: number;
}

/** 【逾期】 after a deadline: what is overdue, since when, at which level, and why. */
export function caseEscalationPart(m: EscalationMail): CasePart {
  const a = actionOf(m.what);
  const deadline = instantLabel(m.deadline);
  const subject = `【逾期】${m.type.titleZh}：${m.unitName}“${m.title}”${a.actionZh}已逾期（第${m.level}级督办）`;
  const paragraphs = [
    `${caseLine(m)}处于“${a.titleZh}”环节：${m.partyName}应于${deadline}前${a.actionZh}，至今未完成，自${deadline}起${overdueText(m.workdaysOverdue)}。现按第${m.level}级督办提请您督促落实。`,
    ...(m.ruleZh ? [m.ruleZh] : []),
    clauseTextOf(a.clause),
  ];
  return part(m, subject, paragraphs);
}

/** `{ amount: -5, unit: 'workdays' }` → `整改期限前5个工作日`. */
export function beforeTermZh(o: Offset): string {
  const unit = o.unit === 'hours' ? '小时' : o.unit === 'days' ? '天' : '个工作日';
  return `整改期限前${Math.abs(o.amount)}${unit}`;
}

export { dateLabel, instantLabel };

/** `原定2023年10月1日（法定节假日：国庆节），顺延至2023年10月7日`: why a term is not the date that was asked for. */
export function termMoveZh(movedFrom: string, term: string): string {
  const reason = checkWorkday(movedFrom, { allowUnverified: true }).reason;
  return `原定${dateLabel(movedFrom)}（${reason}），顺延至${dateLabel(shanghaiDateOf(new Date(term)))}`;
}
