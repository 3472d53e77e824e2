/**
 * The page a case email links to (`/cases/{id}?link=…` opened in a browser): where the case stands, what happened so
 * far, and a form for each event the unit's side may send now. The forms post to the same events route the API
 * uses, so the same checks apply.
 */
import { ACTOR_ZH, type Actor, type CaseEvent, type CaseType } from '../../workflows/cases/schema.ts';
import type { CaseRecord, CaseEventBody } from '../core/cases-model.ts';
import { allowedEvents, caseSummary, historyEventZh } from '../core/cases.ts';
import { instantLabel } from '../core/labels.ts';
import { escapeHtml, page } from './pages.ts';

const input = 'style="width:100%;box-sizing:border-box"';

/** Generic labels of the event body's own fields, for error pages (an event's text fields bring their own). */
export const EVENT_FIELD_LABELS: Record<string, string> = {
  event: '办理事项',
  'person.name': '办理人姓名',
  'person.email': '办理人电子邮箱',
  newDeadline: '新的整改期限',
  note: '补充说明',
};

function eventForm(ev: CaseEvent, action: string): string {
  const fields = ev.fields.map(
    (f) =>
      `<p><label>${escapeHtml(f.labelZh)}${f.required ? '' : '（可选）'}<br><textarea name="field.${escapeHtml(f.key)}" rows="3" maxlength="${f.maxLength}" ${input}${f.required ? ' required' : ''}></textarea></label></p>`,
  );
  const person = ev.person
    ? `<p><label>办理人姓名<br><input name="personName" maxlength="100" required ${input}></label></p>` +
      `<p><label>办理人电子邮箱（可选）<br><input name="personEmail" type="email" ${input}></label></p>`
    : '';
  const deadline =
    ev.newDeadline === 'none'
      ? ''
      : `<p><label>新的整改期限${ev.newDeadline === 'optional' ? '（可选，不填则按申请的期限）' : ''}<br><input name="newDeadline" type="date"${ev.newDeadline === 'required' ? ' required' : ''}></label></p>`;
  return (
    `<form method="post" action="${escapeHtml(action)}" style="border:1px solid #ccc;padding:0 1rem;margin:1rem 0">` +
    `<h3 style="font-size:1.05rem">${escapeHtml(ev.titleZh)}</h3>` +
    (ev.fieldsRuleZh ? `<p>${escapeHtml(ev.fieldsRuleZh)}</p>` : '') +
    fields.join('') +
    person +
    deadline +
    `<p><label>补充说明（可选）<br><textarea name="note" rows="2" maxlength="5000" ${input}></textarea></label></p>` +
    `<input type="hidden" name="event" value="${escapeHtml(ev.id)}">` +
    `<p><button type="submit">提交：${escapeHtml(ev.titleZh)}</button></p></form>`
  );
}

/**
 * One tap per person: a button that names who answers (the unit's principal, its contact), and a short form for
 * anyone else on duty. Big enough to hit on a phone in the dark.
 */
function oneTapForm(
  ev: CaseEvent,
  action: string,
  people: readonly { name: string; roleZh: string }[],
): string {
  const button =
    'style="display:block;width:100%;font-size:1.2rem;padding:.9rem;margin:.6rem 0;background:#b71c1c;color:#fff;border:0;border-radius:.4rem"';
  const hidden = `<input type="hidden" name="event" value="${escapeHtml(ev.id)}">`;
  const taps = people.map(
    (p) =>
      `<form method="post" action="${escapeHtml(action)}">${hidden}` +
      `<input type="hidden" name="personName" value="${escapeHtml(p.name)}">` +
      `<button type="submit" ${button}>我是${escapeHtml(p.name)}（${escapeHtml(p.roleZh)}），${escapeHtml(ev.titleZh)}</button></form>`,
  );
  const other =
    `<form method="post" action="${escapeHtml(action)}" style="margin-top:1rem">${hidden}` +
    `<p><label>其他值班人员：姓名<br><input name="personName" maxlength="100" required ${input}></label></p>` +
    `<p><button type="submit">${escapeHtml(ev.titleZh)}</button></p></form>`;
  return `<div style="margin:1rem 0">${taps.join('')}${other}</div>`;
}

export function casePage(options: {
  type: CaseType;
  record: CaseRecord;
  now: Date;
  role: Actor;
  unitName: string;
  /** Where the forms post, with the link token. */
  action: string;
  /** Who may answer a one-tap event for the unit (its principal and contact). */
  people?: { name: string; roleZh: string }[];
}): string {
  const { type, record: r, role } = options;
  const s = caseSummary(type, r, options.now);
  const titleOf = (id: string) => historyEventZh(type, id);
  // What the case is about, as it was opened: the hazard (or house), its grade, where it is.
  const about = type.openFields
    .filter((f) => (r.fields[f.key] ?? '').trim())
    .map((f) => `${f.labelZh}：${r.fields[f.key] ?? ''}`);
  const facts = [
    `案件编号：${s.caseId}`,
    `类型：${s.typeTitleZh}`,
    `当前阶段：${s.stageTitleZh}${s.status === 'closed' ? '（已办结）' : ''}`,
    ...(s.deadline ? [`本阶段截止时间：${instantLabel(s.deadline)}`] : []),
    `${type.termLabelZh}：${instantLabel(s.term)}${s.termNoteZh ? `（${s.termNoteZh}）` : ''}`,
    ...(s.pendingRequest
      ? [
          `待决定的申请：${titleOf(s.pendingRequest.id)}${s.pendingRequest.deadline ? `（应于${instantLabel(s.pendingRequest.deadline)}前决定）` : ''}`,
        ]
      : []),
    ...(s.overdue ? [`已逾期：${s.overdue.titleZh}，逾期${s.overdue.workdaysOverdue}个工作日`] : []),
  ];
  const history = r.history.map(
    (h) =>
      `<li>${escapeHtml(instantLabel(h.at))} ${escapeHtml(titleOf(h.event))}（${escapeHtml(ACTOR_ZH[h.role as Actor] ?? h.role)}${h.person ? `，${escapeHtml(h.person.name)}` : ''}）</li>`,
  );
  const mine = role === 'admin' ? [] : allowedEvents(type, r).filter((e) => e.by.includes(role));
  const forms =
    role === 'admin'
      ? '<p>管理员请通过管理接口或命令行办理。</p>'
      : mine.length > 0
        ? mine
            .map((ev) =>
              ev.oneTap && options.people
                ? oneTapForm(ev, options.action, options.people)
                : eventForm(ev, options.action),
            )
            .join('')
        : `<p>${s.status === 'closed' ? '案件已办结。' : '当前没有需要贵单位办理的事项。'}</p>`;
  // A one-tap answer (a warning) comes first, above the fold of a phone: the details follow for who wants them.
  const tapFirst = options.people !== undefined && mine.some((e) => e.oneTap);
  const todo = `<h2 style="font-size:1.1rem">可办理事项</h2>${forms}`;
  return page(
    r.title,
    `<p><strong>${escapeHtml(options.unitName)}</strong>（${escapeHtml(ACTOR_ZH[role])}）</p>` +
      (tapFirst ? todo : '') +
      (about.length > 0
        ? `<div class="box"><strong>案件内容</strong><p>${about.map(escapeHtml).join('<br>')}</p></div>`
        : '') +
      `<div class="box"><p>${facts.map(escapeHtml).join('<br>')}</p></div>` +
      `<h2 style="font-size:1.1rem">办理记录</h2>` +
      (history.length > 0 ? `<ul>${history.join('')}</ul>` : '<p>暂无。</p>') +
      (tapFirst ? '' : todo),
  );
}

/** The form of the case page as an event body; empty inputs are left out, so the events route judges what is missing. */
export function eventBodyFromForm(raw: string): CaseEventBody {
  const form = new URLSearchParams(raw);
  const value = (name: string) => {
    const v = form.get(name)?.trim();
    return v ? v : undefined;
  };
  const fields: Record<string, string> = {};
  for (const [name, v] of form)
    if (name.startsWith('field.') && v.trim() !== '') fields[name.slice('field.'.length)] = v.trim();
  const personName = value('personName');
  const personEmail = value('personEmail');
  const note = value('note');
  const newDeadline = value('newDeadline');
  return {
    event: value('event') ?? '',
    fields,
    ...(personName || personEmail
      ? { person: { name: personName ?? '', ...(personEmail ? { email: personEmail } : {}) } }
      : {}),
    ...(note ? { note } : {}),
    ...(newDeadline ? { newDeadline } : {}),
  };
}
