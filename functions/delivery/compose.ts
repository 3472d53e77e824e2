// One email per recipient and moment: every notice owed to the address, grouped into sections (待办, 督办,
// 案件, 无法送达) and, inside them, by duty and period. Pure: the notices, the instant and a few lookups decide it.
import { oneLine } from '../core/text.ts';
import { safetyOfficeUnitId } from '../core/safety-office.ts';
import type { Duty } from '../../workflows/catalog/schema.ts';
import { parsePeriodKey } from '../../workflows/periods.ts';
import { planCycle } from '../../workflows/plan.ts';
import { hasOfficialData, shanghaiDateOf, toShanghaiIso } from '../../workflows/calendar.ts';
import { escapeHtml } from '../core/html.ts';
import { SIGNATURE, clauseText, dateLabel, instantLabel, overdueText, periodLabel } from '../core/labels.ts';
import type {
  CaseNoticeBody,
  CycleChangeBody,
  CycleEscalationBody,
  CycleReminderBody,
  DeliveryProblemBody,
  CalendarMissingBody,
  CycleRollupBody,
  Notice,
  NoticeUnit,
  RollupRow,
} from '../notices/model.ts';
import { noticeId } from '../notices/model.ts';
import { addressLabel } from '../notices/channels.ts';
import type { CarriedNotice, ComposedEmail } from './model.ts';

/** The most units an escalation lists in the email itself; the signed link shows them all. */
export const UNITS_SHOWN = 30;

export interface ComposeContext {
  now: number;
  duty(id: string): Duty | undefined;
  workdaysOverdue(deadline: string, today: string): number;
  links: {
    /** The page where a unit records completion of a cycle. */
    unit(unitId: string, dutyId: string, periodKey: string, expires: string): string;
    /** The read-only overdue list of a cycle, as far as the scope supervises it. */
    overdue(scope: CycleEscalationBody['scope'], dutyId: string, periodKey: string): string;
    /** A case's page for the unit the reader speaks for. */
    caseLink(caseId: string, unitId: string, expires: string): string;
  };
}

type Line =
  | { text: string }
  | { link: { caption: string; url: string } }
  | { table: { head: string[]; rows: string[][] } };

interface Item {
  title: string;
  lines: Line[];
  /** The subject the item would have as an email of its own. */
  subject: string;
  kind: CarriedNotice['kind'];
  urgent: boolean;
  sortKey: string;
}

const SECTION_TITLES = {
  urgent: '紧急事项',
  changes: '工作安排变更',
  todo: '待办事项（请在截止时间前完成）',
  overdue: '督办事项',
  cases: '案件动态',
  problems: '无法送达的邮件地址（请核实更正）',
  calendar: '节假日安排',
  rollups: '汇总情况',
} as const;
type SectionId = keyof typeof SECTION_TITLES;
const NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八'];

function periodOf(periodKey: string): string {
  try {
    const p = parsePeriodKey(periodKey);
    return periodLabel(periodKey, p.start, p.end);
  } catch {
    return periodKey;
  }
}

/** `约3小时20分钟` / `约5天`: how long is left, as a reader would say it. */
export function timeLeftZh(fromMs: number, toMs: number): string {
  const minutes = Math.max(0, Math.round((toMs - fromMs) / 60_000));
  if (minutes < 60) return `约${minutes}分钟`;
  if (minutes < 48 * 60) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return `约${h}小时${m > 0 ? `${m}分钟` : ''}`;
  }
  return `约${Math.round(minutes / 1440)}天`;
}

function levelMeaningZh(level: number, levels: number): string {
  return level >= levels
    ? `按最高一级（第${level}级）督办规定报请您督办`
    : `按第${level}级督办规定报请您督促落实`;
}

function unitNames(units: readonly NoticeUnit[]): string {
  return units.map((u) => u.name).join('、');
}

const SCOPE_RANK = { unit: 0, department: 1, leader: 2, office: 3 } as const;

/** What the duty asks for, where it comes from, and each unit's link to record it. */
function whatToDo(
  duty: Duty | undefined,
  units: readonly NoticeUnit[],
  cycle: { dutyId: string; periodKey: string },
  linkExpires: string,
  ctx: ComposeContext,
): Line[] {
  const lines: Line[] = [];
  if (duty) lines.push({ text: `需提交：${duty.evidenceZh}` }, { text: clauseText(duty.clause) });
  for (const u of units)
    lines.push({
      link: {
        caption: `${units.length > 1 ? `${u.name}：` : ''}完成后请点击记录（仅限本单位本期使用，${instantLabel(toShanghaiIso(new Date(linkExpires)))}前有效）`,
        url: ctx.links.unit(u.id, cycle.dutyId, cycle.periodKey, linkExpires),
      },
    });
  return lines;
}

/**
 * A cycle whose dates reach into a year without the official holiday arrangement says so, as long as the year is
 * missing (read when the email is written: once loaded, the note goes).
 */
function calendarNote(duty: Duty | undefined, periodKey: string, deadline: string): Line[] {
  if (!duty) return [];
  // A plan's stages lie within a year of its deadline: with every such year known there is nothing to say, and no
  // plan to compute for each item of a wave's thousands of emails.
  const year = Number(deadline.slice(0, 4));
  if ([year - 1, year, year + 1, year + 2].every(hasOfficialData)) return [];
  try {
    return planCycle(duty, periodKey).warnings.map((w) => ({ text: `注意：${w}。` }));
  } catch {
    return [];
  }
}

function reminderItem(bodies: CycleReminderBody[], ctx: ComposeContext): Item {
  const b = bodies[0] as CycleReminderBody;
  const duty = ctx.duty(b.dutyId);
  const units = dedupeUnits(bodies.flatMap((x) => x.units));
  const period = periodOf(b.periodKey);
  const last = b.reminder.of > 1 && b.reminder.n >= b.reminder.of;
  const left = timeLeftZh(ctx.now, Date.parse(b.deadline));
  const lines: Line[] = [
    {
      text: units.length === 1 ? `单位：${units[0]?.name}` : `单位（${units.length}个）：${unitNames(units)}`,
    },
    {
      text: `截止时间：${instantLabel(b.deadline)}，${last ? `这是本期最后一次提醒，距截止还有${left}` : `距截止还有${left}`}。`,
    },
  ];
  lines.push(...calendarNote(duty, b.periodKey, b.deadline));
  lines.push(...whatToDo(duty, units, b, b.linkExpires, ctx));
  const title = `${b.titleZh}（${period}）`;
  return {
    title,
    lines,
    subject: `【提醒】${title}将于${instantLabel(b.deadline)}截止${last ? '（最后一次提醒）' : ''}`,
    kind: 'reminder',
    urgent: false,
    sortKey: `${b.deadline}|${b.dutyId}|${b.periodKey}`,
  };
}

const CHANGE_PREFIX = {
  extended: '【延期】',
  cancelled: '【取消】',
  'units-added': '【通知】',
  'units-removed': '【通知】',
} as const;

/** An administrator's change to an ad-hoc duty, as the units it concerns read it. */
function changeItem(bodies: CycleChangeBody[], ctx: ComposeContext): Item {
  const b = bodies[0] as CycleChangeBody;
  const duty = ctx.duty(b.dutyId);
  const units = dedupeUnits(bodies.flatMap((x) => x.units));
  const title = `${b.titleZh}（${periodOf(b.periodKey)}）`;
  const lines: Line[] = [
    {
      text: units.length === 1 ? `单位：${units[0]?.name}` : `单位（${units.length}个）：${unitNames(units)}`,
    },
  ];
  const reason = b.reasonZh ? `原因：${b.reasonZh}` : undefined;
  let subject: string;
  switch (b.change) {
    case 'extended':
      lines.push({
        text: `县安委办已将截止时间${b.previousDeadline ? `由${instantLabel(b.previousDeadline)}` : ''}延至${instantLabel(b.deadline)}，提醒和督办随之顺延。`,
      });
      subject = `${CHANGE_PREFIX.extended}${title}截止时间延至${instantLabel(b.deadline)}`;
      break;
    case 'cancelled':
      lines.push({ text: '县安委办已取消本项工作，无需再办理或报送，此后也不会再就此发送提醒和督办。' });
      subject = `${CHANGE_PREFIX.cancelled}${title}已取消`;
      break;
    case 'units-added':
      lines.push({
        text: `县安委办已将${units.length === 1 ? '贵单位' : '以上单位'}列为本项工作的责任单位，截止时间：${instantLabel(b.deadline)}。`,
      });
      subject = `${CHANGE_PREFIX['units-added']}${title}已将贵单位列为责任单位`;
      break;
    case 'units-removed':
      lines.push({
        text: `县安委办已将${units.length === 1 ? '贵单位' : '以上单位'}移出本项工作的责任单位，无需再办理或报送。`,
      });
      subject = `${CHANGE_PREFIX['units-removed']}${title}：贵单位无需再办理`;
      break;
  }
  if (reason) lines.push({ text: reason });
  if (b.linkExpires) lines.push(...whatToDo(duty, units, b, b.linkExpires, ctx));
  return {
    title,
    lines,
    subject,
    kind: 'change',
    urgent: false,
    sortKey: `${b.dutyId}|${b.periodKey}|${String(b.seq).padStart(4, '0')}`,
  };
}

function dedupeUnits(units: NoticeUnit[]): NoticeUnit[] {
  const byId = new Map(units.map((u) => [u.id, u]));
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** A unit's own people get its link, valid 60 days past the deadline (a late report is still recorded). */
function ownLinks(units: readonly NoticeUnit[], b: CycleEscalationBody, ctx: ComposeContext): Line[] {
  const expires = toShanghaiIso(new Date(Date.parse(b.deadline) + 60 * 24 * 3_600_000));
  return units.map((u) => ({
    link: {
      caption: `${units.length > 1 ? `${u.name}：` : ''}完成后请点击记录（仅限本单位本期使用）`,
      url: ctx.links.unit(u.id, b.dutyId, b.periodKey, expires),
    },
  }));
}

/** The units a supervisor is told of, with whom to call; a long list is cut, saying where the rest is. */
function unitTable(units: readonly NoticeUnit[], restZh: string): Line[] {
  const shown = units.slice(0, UNITS_SHOWN);
  return [
    {
      table: {
        head: ['序号', '单位', '联系人', '联系电话'],
        rows: shown.map((u, i) => [String(i + 1), u.name, u.contactName ?? '', u.contactPhone ?? '未登记']),
      },
    },
    ...(units.length > shown.length
      ? [{ text: `另有${units.length - shown.length}个单位未列出，${restZh}。` }]
      : []),
  ];
}

/**
 * A checkpoint inside a long period: the units not done yet, while there is time. Their supervisors are asked to see
 * to it; a unit's own people are asked to get it done.
 */
function checkpointItem(bodies: CycleEscalationBody[], ctx: ComposeContext): Item {
  const b = bodies[0] as CycleEscalationBody;
  const duty = ctx.duty(b.dutyId);
  const units = dedupeUnits(bodies.flatMap((x) => x.units));
  const period = periodOf(b.periodKey);
  const what = b.checkpoint?.titleZh ?? b.titleZh;
  const left = timeLeftZh(ctx.now, Date.parse(b.deadline));
  const lines: Line[] = [];
  let subject: string;
  if (b.audience === 'own') {
    lines.push({
      text: `您单位${unitNames(units)}尚未完成“${b.titleZh}”（${period}）。截止时间为${instantLabel(b.deadline)}，还有${left}；请抓紧安排（${what}），完成后点击下方链接记录。`,
    });
    lines.push(...ownLinks(units, b, ctx));
    subject = `【进度检查】${b.titleZh}（${period}）您单位尚未完成，${instantLabel(b.deadline)}截止`;
  } else {
    const roles = [...new Set(bodies.flatMap((x) => x.rolesZh))].join('、');
    lines.push({
      text: `进度检查（${what}）：以下${units.length}个单位尚未完成“${b.titleZh}”（${period}），截止时间为${instantLabel(b.deadline)}，还有${left}。请督促按期完成（您作为：${roles}）：`,
    });
    lines.push(...unitTable(units, '可在管理台的周期页查看全部'));
    subject = `【进度检查】${b.titleZh}（${period}）${units.length}个单位尚未完成，${instantLabel(b.deadline)}截止`;
  }
  lines.push(...calendarNote(duty, b.periodKey, b.deadline));
  if (duty) lines.push({ text: clauseText(duty.clause) });
  return {
    title: `【进度检查】${b.titleZh}（${period}）`,
    lines,
    subject,
    kind: 'escalation',
    urgent: false,
    sortKey: `${b.audience === 'own' ? 0 : 1}|${b.deadline}|${b.dutyId}|${b.periodKey}|checkpoint`,
  };
}

function escalationItem(bodies: CycleEscalationBody[], ctx: ComposeContext): Item {
  if (bodies.some((x) => x.checkpoint)) return checkpointItem(bodies, ctx);
  const b = bodies.reduce((x, y) => (y.level > x.level ? y : x));
  const duty = ctx.duty(b.dutyId);
  const units = dedupeUnits(bodies.flatMap((x) => x.units));
  const period = periodOf(b.periodKey);
  const title = `【第${b.level}级督办】${b.titleZh}（${period}）`;
  const overdue = overdueText(ctx.workdaysOverdue(b.deadline, shanghaiDateOf(new Date(ctx.now))));
  const lines: Line[] = [];
  let subject: string;
  if (b.audience === 'own') {
    lines.push({
      text: `您单位${unitNames(units)}尚未完成“${b.titleZh}”（${period}），截止时间为${instantLabel(b.deadline)}，${overdue}。请尽快完成并点击下方链接记录；未完成的，将按督办规定逐级报告。`,
    });
    lines.push(...ownLinks(units, b, ctx));
    subject = `【逾期】${b.titleZh}（${period}）您单位已逾期（第${b.level}级督办）`;
  } else {
    const roles = [...new Set(bodies.flatMap((x) => x.rolesZh))].join('、');
    lines.push({
      text: `以下${units.length}个单位未在${instantLabel(b.deadline)}前完成，${overdue}，${levelMeaningZh(b.level, b.levels)}（您作为：${roles}）：`,
    });
    lines.push(...unitTable(units, '完整清单见下方链接'));
    const scope = bodies
      .map((x) => x.scope)
      .reduce((x, y) => (SCOPE_RANK[y.kind] > SCOPE_RANK[x.kind] ? y : x));
    lines.push({
      link: {
        caption: '查看逾期单位清单（只读，实时更新）',
        url: ctx.links.overdue(scope, b.dutyId, b.periodKey),
      },
    });
    subject = `【督办】${b.titleZh}（${period}）${units.length}个单位逾期未完成（第${b.level}级督办）`;
  }
  lines.push(...calendarNote(duty, b.periodKey, b.deadline));
  if (duty) lines.push({ text: clauseText(duty.clause) });
  return {
    title,
    lines,
    subject,
    kind: 'escalation',
    urgent: false,
    sortKey: `${b.audience === 'own' ? 0 : 1}|${b.deadline}|${b.dutyId}|${b.periodKey}`,
  };
}

function caseItem(b: CaseNoticeBody, urgent: boolean, ctx: ComposeContext): Item {
  const lines: Line[] = [
    { text: `（您作为：${b.rolesZh.join('、')}）` },
    ...b.paragraphs.map((text) => ({ text })),
  ];
  if (b.link)
    lines.push({
      link: {
        caption: `办理或查看（仅限本单位本案件使用，${instantLabel(b.link.expires)}前有效）`,
        url: ctx.links.caseLink(b.caseId, b.link.unitId, b.link.expires),
      },
    });
  return {
    title: b.subjectLine,
    lines,
    subject: b.subjectLine,
    kind: b.kind === 'escalation' ? 'escalation' : b.kind === 'reminder' ? 'reminder' : 'case',
    urgent,
    sortKey: `${b.caseId}|${b.subjectLine}`,
  };
}

function problemItem(bodies: DeliveryProblemBody[]): Item {
  const lines: Line[] = bodies.map((b) => ({
    text: `${b.name} <${addressLabel(b.address)}>${b.about.length > 0 ? `（${b.about.join('、')}）` : ''}：${b.reasonZh}（${instantLabel(b.occurredAt)}）`,
  }));
  lines.push({
    text: '发往这些地址的提醒和督办未能送达，此后也不再向其发送。请核实地址并在单位名册中更正或重新保存该单位（名册导入亦可），保存后即恢复投递。',
  });
  return {
    title: `${bodies.length}个邮件地址无法送达`,
    lines,
    subject: `【无法送达】${bodies.length}个邮件地址无法投递，请核实更正`,
    kind: 'delivery-problem',
    urgent: false,
    sortKey: 'problems',
  };
}

function calendarItem(b: CalendarMissingBody): Item {
  const lines: Line[] = [
    {
      text:
        `系统尚未载入国务院办公厅公布的${b.year}年节假日安排。在载入之前，截止日期落在${b.year}年的工作不会启动` +
        `（不按周一至周五猜测工作日），已启动工作中落在${b.year}年的日期按周一至周五推算，邮件和页面均注明“未核实”。`,
    },
  ];
  if (b.heldCount > 0)
    lines.push({
      text: `因此暂未启动的工作共${b.heldCount}项：${b.held.join('、')}${b.heldCount > b.held.length ? '等' : ''}。载入后即自动启动。`,
    });
  lines.push({
    text: `请在安排公布后，由管理员用命令 npx safeduty calendar load <安排文件> 载入${b.year}年的安排（先加 --dry-run 检查；不带文件运行 npx safeduty calendar load 可看到文件格式）。`,
  });
  return {
    title: `${b.year}年节假日安排尚未载入`,
    lines,
    subject: `【节假日安排】${b.year}年节假日安排尚未载入${b.heldCount > 0 ? `，${b.heldCount}项工作暂未启动` : ''}`,
    kind: 'calendar-missing',
    urgent: false,
    sortKey: `calendar|${b.year}`,
  };
}

/** A day of a daily duty, summed up for 安委办: the county's total, then per town and per department. */
function rollupItem(b: CycleRollupBody, ctx: ComposeContext): Item {
  const sumHead = b.sumLabelZh ? [b.sumLabelZh] : [];
  const cells = (r: RollupRow) => [
    String(r.owed),
    String(r.reported),
    String(r.late),
    String(r.missing),
    ...(b.sumLabelZh ? [String(r.sum ?? 0)] : []),
  ];
  const head = (first: string) => ['序号', first, '应报', '已报', '其中迟报', '未报', ...sumHead];
  const t = b.total;
  const lines: Line[] = [
    {
      text:
        `${periodOf(b.periodKey)}（截止${instantLabel(b.deadline)}）：应报${t.owed}个单位，已报${t.reported}个` +
        `（其中迟报${t.late}个），未报${t.missing}个${b.sumLabelZh ? `；${b.sumLabelZh}${t.sum ?? 0}` : ''}。`,
    },
  ];
  if (b.byTown.length > 0)
    lines.push(
      { text: '按乡镇：' },
      { table: { head: head('乡镇'), rows: b.byTown.map((r, i) => [String(i + 1), r.nameZh, ...cells(r)]) } },
    );
  if (b.byDepartment.length > 0)
    lines.push(
      { text: '按行业监管部门：' },
      {
        table: {
          head: head('监管部门'),
          rows: b.byDepartment.map((r, i) => [String(i + 1), r.nameZh, ...cells(r)]),
        },
      },
    );
  if (t.missing > 0)
    lines.push(
      {
        text: `未报单位：${b.missingUnits.join('、')}${t.missing > b.missingUnits.length ? `等${t.missing}个（完整名单见下方逾期清单）` : ''}。`,
      },
      {
        link: {
          caption: '查看逾期单位清单（只读，实时更新）',
          url: ctx.links.overdue({ kind: 'office', id: safetyOfficeUnitId() }, b.dutyId, b.periodKey),
        },
      },
    );
  return {
    title: `${b.titleZh}（${periodOf(b.periodKey)}）`,
    lines,
    subject: `【日报汇总】${b.titleZh}（${periodOf(b.periodKey)}）：未报${t.missing}个${b.sumLabelZh ? `，${b.sumLabelZh}${t.sum ?? 0}` : ''}`,
    kind: 'rollup',
    urgent: false,
    sortKey: `rollup|${b.dutyId}|${b.periodKey}`,
  };
}

function titleOf(n: Notice): string {
  const b = n.body;
  switch (b.type) {
    case 'cycle-reminder':
    case 'cycle-escalation':
    case 'cycle-change':
      return `${b.titleZh}（${periodOf(b.periodKey)}）`;
    case 'case':
      return b.subjectLine;
    case 'delivery-problem':
      return `无法送达：${addressLabel(b.address)}`;
    case 'calendar-missing':
      return `${b.year}年节假日安排尚未载入`;
    case 'cycle-rollup':
      return `${b.titleZh}（${periodOf(b.periodKey)}）汇总`;
  }
}

/**
 * The email for one recipient: the notices owed now, already filtered to what is still owed. Escalation parts
 * and reminders of the same cycle become one item; sections come in the order a reader acts on them.
 */
function redirectLine(from: NonNullable<Notice['redirectedFrom']>): string {
  return (
    `本事项原发给${from.roleZh ?? ''}${from.name}（${from.address}），该邮箱已不能接收本系统的邮件（${from.reasonZh}），` +
    '现改发给您。请督促本单位按时办理，并联系县安委办更正名册中的邮箱。'
  );
}

export function composeEmail(
  recipient: { address: string; name: string },
  notices: readonly Notice[],
  ctx: ComposeContext,
): ComposedEmail {
  const sections = new Map<SectionId, Item[]>();
  const pushItem = (id: SectionId, item: Item) => sections.set(id, [...(sections.get(id) ?? []), item]);

  const groups = new Map<string, Notice[]>();
  for (const n of notices) {
    const b = n.body;
    const key =
      b.type === 'cycle-reminder'
        ? `r|${b.dutyId}|${b.periodKey}`
        : b.type === 'cycle-escalation'
          ? `e|${b.dutyId}|${b.periodKey}|${b.audience}`
          : b.type === 'cycle-change'
            ? `x|${b.dutyId}|${b.periodKey}|${b.seq}`
            : b.type === 'delivery-problem'
              ? 'p'
              : b.type === 'calendar-missing'
                ? `k|${b.year}`
                : b.type === 'cycle-rollup'
                  ? `u|${b.dutyId}|${b.periodKey}`
                  : `c|${noticeId(n)}`;
    // A notice taken over from someone else is an item of its own, with its own first line.
    const k = n.redirectedFrom ? `${key}|via:${n.redirectedFrom.address}` : key;
    groups.set(k, [...(groups.get(k) ?? []), n]);
  }
  for (const group of groups.values()) {
    const first = group[0] as Notice;
    const b = first.body;
    // A notice taken over from someone who cannot be reached says whose it was, before anything else.
    const from = group.find((n) => n.redirectedFrom)?.redirectedFrom;
    const push = (id: SectionId, item: Item) =>
      pushItem(id, from ? { ...item, lines: [{ text: redirectLine(from) }, ...item.lines] } : item);
    if (b.type === 'cycle-reminder')
      push(
        'todo',
        reminderItem(
          group.map((n) => n.body as CycleReminderBody),
          ctx,
        ),
      );
    else if (b.type === 'cycle-escalation')
      push(
        'overdue',
        escalationItem(
          group.map((n) => n.body as CycleEscalationBody),
          ctx,
        ),
      );
    else if (b.type === 'cycle-change')
      push(
        'changes',
        changeItem(
          group.map((n) => n.body as CycleChangeBody),
          ctx,
        ),
      );
    else if (b.type === 'delivery-problem')
      push('problems', problemItem(group.map((n) => n.body as DeliveryProblemBody)));
    // Notices of one year in one email are one item: the latest says the most.
    else if (b.type === 'calendar-missing')
      push('calendar', calendarItem(group.at(-1)?.body as CalendarMissingBody));
    else if (b.type === 'cycle-rollup') push('rollups', rollupItem(b, ctx));
    else {
      const urgent = first.urgency !== 'routine' && b.kind === 'notice';
      const item = caseItem(b, urgent, ctx);
      push(
        urgent ? 'urgent' : b.kind === 'reminder' ? 'todo' : b.kind === 'escalation' ? 'overdue' : 'cases',
        item,
      );
    }
  }

  const ordered = (Object.keys(SECTION_TITLES) as SectionId[])
    .filter((id) => sections.has(id))
    .map((id) => ({
      id,
      heading: SECTION_TITLES[id],
      items: (sections.get(id) ?? []).sort((a, b) => a.sortKey.localeCompare(b.sortKey)),
    }));
  const items = ordered.flatMap((s) => s.items);
  const counts = {
    todo: items.filter((i) => i.kind === 'reminder').length,
    overdue: items.filter((i) => i.kind === 'escalation').length,
  };
  let subject: string;
  if (items.length === 1) subject = (items[0] as Item).subject;
  else {
    // Items that share a prefix (two buildings' 【整治通知】) keep it; otherwise the most pressing kind leads.
    const prefixes = new Set(items.map((i) => /^【[^】]+】/.exec(i.subject)?.[0]));
    const shared = prefixes.size === 1 ? [...prefixes][0] : undefined;
    const prefix =
      shared ??
      (items.some((i) => i.urgent)
        ? '【紧急】'
        : counts.overdue > 0
          ? '【督办】'
          : counts.todo > 0
            ? '【提醒】'
            : '【通知】');
    const tally = [
      counts.todo > 0 ? `待办${counts.todo}项` : '',
      counts.overdue > 0 ? `督办${counts.overdue}项` : '',
      items.length - counts.todo - counts.overdue > 0
        ? `其他${items.length - counts.todo - counts.overdue}项`
        : '',
    ]
      .filter(Boolean)
      .join('、');
    // The item named is one of the kind the prefix announces: 【督办】 leads with an overdue item, not a to-do.
    const leadSection: SectionId | undefined =
      prefix === '【紧急】'
        ? 'urgent'
        : prefix === '【督办】'
          ? 'overdue'
          : prefix === '【提醒】'
            ? 'todo'
            : undefined;
    const lead = ordered.find((sec) => sec.id === leadSection)?.items[0] ?? (items[0] as Item);
    subject = `${prefix}${lead.title.replace(/^【[^】]*】/, '')}等${items.length}项（${tally}）`;
  }

  const today = dateLabel(shanghaiDateOf(new Date(ctx.now)));
  const greeting = `${recipient.name}：`;
  const intro =
    items.length === 1
      ? `现将需要您办理或关注的安全生产事项通知如下（${today}）：`
      : `现将需要您办理或关注的${items.length}项安全生产事项汇总如下（${today}）：`;
  const footer = '本邮件由系统自动发送，同一时刻需要您关注的事项合并在一封邮件中。';

  const text: string[] = [greeting, intro];
  const html: string[] = [
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"></head>',
    '<body style="font-family:sans-serif;line-height:1.6;max-width:46rem;margin:0 auto;padding:0 .8rem;color:#222">',
    `<p>${escapeHtml(greeting)}</p><p>${escapeHtml(intro)}</p>`,
  ];
  ordered.forEach((section, si) => {
    const heading = ordered.length > 1 ? `${NUMERALS[si] ?? si + 1}、${section.heading}` : section.heading;
    text.push(heading);
    html.push(
      `<h2 style="font-size:1.05rem;border-bottom:1px solid #ccc;margin-top:1.4rem">${escapeHtml(heading)}</h2>`,
    );
    section.items.forEach((item, ii) => {
      const itemTitle = `（${ii + 1}）${item.title}`;
      const body: string[] = [itemTitle];
      html.push(`<h3 style="font-size:1rem;margin-bottom:.3rem">${escapeHtml(itemTitle)}</h3>`);
      for (const line of item.lines) {
        if ('text' in line) {
          body.push(`    ${line.text.replace(/\n/g, '\n    ')}`);
          html.push(
            `<p style="margin:.3rem 0 .3rem 1rem">${escapeHtml(line.text).replace(/\n/g, '<br>')}</p>`,
          );
        } else if ('link' in line) {
          body.push(`    ${line.link.caption}：${line.link.url}`);
          html.push(
            `<p style="margin:.3rem 0 .3rem 1rem"><a href="${escapeHtml(line.link.url)}">${escapeHtml(line.link.caption)}</a></p>`,
          );
        } else {
          const { head, rows } = line.table;
          // Plain text: `1. 单位（联系人：…，联系电话：…）`.
          for (const r of rows)
            body.push(
              `    ${r[0]}. ${r[1]}（${head
                .slice(2)
                .map((h, i) => `${h}：${r[i + 2] ?? ''}`)
                .join('，')}）`,
            );
          html.push(
            '<table border="1" cellpadding="5" style="border-collapse:collapse;margin:.3rem 0 .3rem 1rem;font-size:.95rem">',
            `<tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`,
            ...rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`),
            '</table>',
          );
        }
      }
      text.push(body.join('\n'));
    });
  });
  text.push(footer, `—— ${SIGNATURE}`);
  html.push(
    `<p style="color:#666;margin-top:1.4rem">${escapeHtml(footer)}</p>`,
    `<p style="color:#666">—— ${escapeHtml(SIGNATURE)}</p>`,
    '</body></html>',
  );

  return {
    to: recipient.address,
    // Control characters and direction overrides never reach the subject line.
    subject: oneLine(subject),
    text: text.join('\n\n'),
    html: html.join('\n'),
    carried: carriedOf(notices),
  };
}

/** What an email (or a text message) carried, as its delivery record lists it. */
export function carriedOf(notices: readonly Notice[]): CarriedNotice[] {
  return notices.map((n) => ({
    id: noticeId(n),
    subject: n.subject,
    kind:
      n.body.type === 'cycle-reminder'
        ? 'reminder'
        : n.body.type === 'cycle-escalation'
          ? 'escalation'
          : n.body.type === 'cycle-change'
            ? 'change'
            : n.body.type === 'case'
              ? 'case'
              : n.body.type === 'cycle-rollup'
                ? 'rollup'
                : n.body.type,
    titleZh: titleOf(n),
  }));
}
