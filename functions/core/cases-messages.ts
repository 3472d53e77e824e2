import {
  OFFSET_UNIT_ZH,
  type CaseEvent,
  type CaseRequest,
  type CaseType,
  type Notice,
  type Offset,
  type Stage,
} from '../../workflows/cases/schema.ts';
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
  /** What a text message says (without the link), for a case whose notices also go by SMS. */
  sms: string;
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

function part(m: CaseMailBase, subjectLine: string, paragraphs: string[], sms = subjectLine): CasePart {
  return { subjectLine, paragraphs, ...(m.link ? { link: m.link } : {}), sms };
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
  // A text message carries what happened and its particulars (a warning's level, text and validity).
  const sms = [
    subject,
    ...m.details.map((d) => `${d.labelZh}：${d.value.replace(/[。；;.\s]+$/u, '')}`),
  ].join('；');
  return part(m, subject, paragraphs, sms);
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
  /** For a clock that runs in minutes (a warning): minutes past the deadline, said instead of working days. */
  minutesOverdue?: number;
  /** How to reach the party that is late, for whoever must chase them (e.g. at night, by phone). */
  contactsZh?: string;
}

/** 【逾期】 after a deadline: what is overdue, since when, at which level, and why. */
export function caseEscalationPart(m: EscalationMail): CasePart {
  const a = actionOf(m.what);
  const deadline = instantLabel(m.deadline);
  const subject = `【逾期】${m.type.titleZh}：${m.unitName}“${m.title}”${a.actionZh}已逾期（第${m.level}级督办）`;
  const paragraphs = [
    `${caseLine(m)}处于“${a.titleZh}”环节：${m.partyName}应于${deadline}前${a.actionZh}，至今未完成${m.minutesOverdue === undefined ? `，自${deadline}起${overdueText(m.workdaysOverdue)}` : m.minutesOverdue > 0 ? `，已超时${m.minutesOverdue}分钟` : ''}。现按第${m.level}级督办提请您督促落实。`,
    ...(m.contactsZh ? [m.contactsZh] : []),
    ...(m.ruleZh ? [m.ruleZh] : []),
    clauseTextOf(a.clause),
  ];
  return part(m, subject, paragraphs, [subject, ...(m.contactsZh ? [m.contactsZh] : [])].join('；'));
}

/** `{ amount: -5, unit: 'workdays' }` → `整改期限前5个工作日`. */
export function beforeTermZh(o: Offset): string {
  return `整改期限前${Math.abs(o.amount)}${OFFSET_UNIT_ZH[o.unit]}`;
}

export { dateLabel, instantLabel };

/** `原定2023年10月1日（法定节假日：国庆节），顺延至2023年10月7日`: why a term is not the date that was asked for. */
export function termMoveZh(movedFrom: string, term: string): string {
  const reason = checkWorkday(movedFrom, { allowUnverified: true }).reason;
  return `原定${dateLabel(movedFrom)}（${reason}），顺延至${dateLabel(shanghaiDateOf(new Date(term)))}`;
}

// ---------------------------------------------------------------- citizens (owner, occupant)

/**
 * What a citizen named on a case (a self-built house's 产权人, its 使用人（经营者）) is told: plain words, about their
 * building, what they must do and by when, and whom to ask. No case link: they are no party to the case, the unit
 * that serves them records what happens.
 */
export interface CitizenMail {
  type: CaseType;
  caseId: string;
  title: string;
  /** The roles the reader holds, e.g. 产权人. */
  rolesZh: string[];
  /** The building's particulars from the case (address, use, what was found), not the people's contacts. */
  about: { labelZh: string; value: string }[];
  /** The unit to ask and its contact, with a phone where the roster has one: "青山镇（联络人王某，电话…）". */
  contactZh: string;
}

function citizenLead(m: CitizenMail): string {
  return `您是“${m.title}”的${m.rolesZh.join('、')}。`;
}

function citizenTail(m: CitizenMail, clause: { section: string; quote: string }): string[] {
  return [
    ...(m.about.length > 0 ? [m.about.map((d) => `${d.labelZh}：${d.value}`).join('\n')] : []),
    `如有疑问，请联系${m.contactZh}。（案件编号：${m.caseId}）`,
    clauseTextOf(clause),
  ];
}

function citizenPart(subjectLine: string, paragraphs: string[], sms: string): CasePart {
  return { subjectLine, paragraphs, sms };
}

export interface CitizenNoticeMail extends CitizenMail {
  notice: Notice;
  /** The event's particulars (a plan's measures, why acceptance failed). */
  details: { labelZh: string; value: string }[];
  /** The term, while the case still has one to meet. */
  term?: string;
  termMovedFrom?: string;
  /** The clause cited: the one of the stage the case is now in (what is asked next), else the type's. */
  clause?: { section: string; quote: string };
}

/** A notice to a citizen: what happened to their building, what it means for them, by when, whom to ask. */
export function citizenNoticePart(m: CitizenNoticeMail): CasePart {
  const told = m.notice.citizenZh ?? `${m.notice.noticeZh}。`;
  const term = m.term
    ? `${m.type.termLabelZh}：${instantLabel(m.term)}${m.termMovedFrom ? `（${termMoveZh(m.termMovedFrom, m.term)}）` : ''}。`
    : undefined;
  const subject = `${m.notice.prefixZh}“${m.title}”${m.notice.noticeZh}`;
  const paragraphs = [
    `${citizenLead(m)}${told}`,
    ...(m.details.length > 0 ? [m.details.map((d) => `${d.labelZh}：${d.value}`).join('\n')] : []),
    ...(term ? [term] : []),
    ...citizenTail(m, m.clause ?? m.type.clause),
  ];
  // A text message may be all a citizen gets: it carries the particulars (the event's, else the building's).
  const particulars = (m.details.length > 0 ? m.details : m.about).map((d) => `${d.labelZh}：${d.value}`);
  const sms = `${m.notice.prefixZh}“${m.title}”：${told}${particulars.length > 0 ? `${particulars.join('；')}。` : ''}${term ?? ''}咨询：${m.contactZh}`;
  return citizenPart(subject, paragraphs, sms);
}

export interface CitizenClockMail extends CitizenMail {
  stage: Stage;
  deadline: string;
  /** The responsible unit, which the citizen tells when the work is done. */
  unitName: string;
}

/** 【提醒】 to a citizen before the stage's deadline (the rectification term). */
export function citizenReminderPart(m: CitizenClockMail): CasePart {
  const deadline = instantLabel(m.deadline);
  const action = m.stage.citizenActionZh ?? m.stage.actionZh ?? '';
  const subject = `【提醒】“${m.title}”须于${deadline}前${action}`;
  const paragraphs = [
    `${citizenLead(m)}按照整治要求，须于${deadline}前${action}，系统中尚未登记整治完成。如已完成，请及时告知${m.unitName}。`,
    ...citizenTail(m, m.stage.clause),
  ];
  return citizenPart(subject, paragraphs, `${subject}。咨询：${m.contactZh}`);
}

export interface CitizenOverdueMail extends CitizenClockMail {
  workdaysOverdue: number;
  supervisingName: string;
}

/** 【逾期】 to a citizen once the deadline has passed (told once; the units are escalated further). */
export function citizenOverduePart(m: CitizenOverdueMail): CasePart {
  const deadline = instantLabel(m.deadline);
  const action = m.stage.citizenActionZh ?? m.stage.actionZh ?? '';
  const subject = `【逾期】“${m.title}”应于${deadline}前${action}，现已逾期`;
  const paragraphs = [
    `${citizenLead(m)}按照整治要求，应于${deadline}前${action}，目前尚未完成，${overdueText(m.workdaysOverdue)}。请立即落实整治；${m.unitName}和${m.supervisingName}将督促整治。`,
    ...citizenTail(m, m.stage.clause),
  ];
  return citizenPart(subject, paragraphs, `${subject}，请立即落实整治。咨询：${m.contactZh}`);
}
