// The page a unit opens from its reminder: the duty's own report form (its fields, required ones marked, files
// where the duty asks for them), a banner when the deadline has passed, and after sending, what was recorded.
import type { Duty, DutyForm, FormField } from '../../workflows/catalog/schema.ts';
import { instantLabel, overdueText, periodLabel } from '../core/labels.ts';
import type { Submission } from '../core/model.ts';
import { ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES, formOf } from '../core/report-form.ts';
import { escapeHtml, page } from './pages.ts';

const e = escapeHtml;

export interface ReportPageInput {
  duty: Pick<Duty, 'titleZh' | 'evidenceZh' | 'form'>;
  /** `warnings`: the plan reaches into a year without the official holiday arrangement. */
  plan: { periodKey: string; deadline: string; period: { start: string; end: string }; warnings?: string[] };
  unitName: string;
  /** Working days past the deadline (undefined while it has not passed). */
  overdueDays?: number;
}

function head(p: ReportPageInput): string {
  const period = periodLabel(p.plan.periodKey, p.plan.period.start, p.plan.period.end);
  return `<div class="box"><strong>${e(p.unitName)}</strong><dl><dt>事项</dt><dd>${e(p.duty.titleZh)}（${e(period)}）</dd><dt>截止时间</dt><dd>${e(instantLabel(p.plan.deadline))}</dd><dt>需报送</dt><dd>${e(p.duty.evidenceZh)}</dd>${(p.plan.warnings ?? []).map((w) => `<dt>注意</dt><dd>${e(w)}</dd>`).join('')}</dl></div>`;
}

function fieldInput(f: FormField): string {
  const name = `f.${f.key}`;
  const required = f.required ? ' required' : '';
  const label = `<label for="${e(name)}">${e(f.labelZh)}${f.required ? ' <span class="req">*</span>' : '（选填）'}${f.hintZh ? `<br><span class="hint">${e(f.hintZh)}</span>` : ''}</label>`;
  if (f.type === 'textarea')
    return `${label}<textarea id="${e(name)}" name="${e(name)}" maxlength="${f.maxLength}"${required}></textarea>`;
  const type = f.type === 'number' ? ' inputmode="numeric" pattern="[0-9]*"' : '';
  return `${label}<input id="${e(name)}" name="${e(name)}" maxlength="${f.maxLength}"${type}${required}>`;
}

function filesInput(form: DutyForm): string {
  const a = form.attachments;
  if (!a) return '';
  const types = Object.keys(ATTACHMENT_TYPES).join(',');
  return `<label for="files">${e(a.labelZh)}${a.required ? ' <span class="req">*</span>' : '（选填）'}<br><span class="hint">照片或 PDF，最多 ${a.max} 个，每个不超过 ${ATTACHMENT_MAX_BYTES / 1024 / 1024} MB</span></label><label for="files" class="filebutton">选择照片或文件</label><input id="files" class="visually-hidden" type="file" multiple accept="${types}" data-max="${a.max}" data-max-bytes="${ATTACHMENT_MAX_BYTES}" data-required="${a.required ? 'true' : 'false'}"><input type="hidden" name="attachments" value="[]"><div id="upload-status" role="status"></div>`;
}

/** The form, or (already recorded) what was recorded. */
export function reportPage(p: ReportPageInput, existing?: Submission): string {
  const banner =
    p.overdueDays !== undefined
      ? `<div class="banner overdue" role="alert">本事项已于${e(instantLabel(p.plan.deadline))}截止，${e(overdueText(p.overdueDays))}。${existing ? '' : '请尽快报送，报送后记为逾期补报。'}</div>`
      : '';
  if (existing)
    return page(
      '已报送',
      `<div class="banner done">本单位已于${e(instantLabel(existing.submittedAt))}报送${existing.late ? '（逾期补报）' : ''}，无需重复报送。</div>${head(p)}${recorded(p.duty, existing)}`,
    );
  const form = formOf(p.duty);
  const note = `<label for="note">${form.fields.length === 0 ? '完成情况 <span class="req">*</span><br><span class="hint">做了什么、何时完成</span>' : '补充说明（选填）'}</label><textarea id="note" name="note" maxlength="5000"${form.fields.length === 0 ? ' required' : ''}></textarea>`;
  return page(
    '报送完成情况',
    `${banner}${head(p)}<form id="report" method="post" class="box">${form.fields.map(fieldInput).join('')}${note}${filesInput(form)}<button type="submit">确认报送</button></form>`,
    { script: '/console/unit.js' },
  );
}

/** What a report holds, with the form's labels: the confirmation, and the page of an item already reported. */
export function recorded(duty: Pick<Duty, 'form'>, s: Submission): string {
  const form = formOf(duty);
  const values = s.evidence.fields ?? {};
  const rows = [
    ...form.fields
      .filter((f) => (values[f.key] ?? '').trim())
      .map((f) => `<dt>${e(f.labelZh)}</dt><dd>${e(values[f.key] ?? '')}</dd>`),
    ...(s.evidence.minutes ? [`<dt>会议纪要</dt><dd>${e(s.evidence.minutes)}</dd>`] : []),
    ...(s.evidence.attendees?.length
      ? [`<dt>参会人员</dt><dd>${e(s.evidence.attendees.join('、'))}</dd>`]
      : []),
    ...(s.note ? [`<dt>${form.fields.length ? '补充说明' : '完成情况'}</dt><dd>${e(s.note)}</dd>`] : []),
  ];
  const files = s.evidence.attachments ?? [];
  return `<div class="box"><strong>报送内容</strong><dl>${rows.join('')}${files.length ? `<dt>附件</dt><dd><ul class="files">${files.map((f) => `<li>${e(f.name)}（${Math.max(1, Math.round(f.size / 1024))} KB）</li>`).join('')}</ul></dd>` : ''}</dl></div>`;
}

/** The answer to a report sent from the page. */
export function reportRecordedPage(p: ReportPageInput, s: Submission, created: boolean): string {
  return page(
    created ? '报送成功' : '此前已报送',
    `<div class="banner done" role="status">${created ? `已记录，时间 ${e(instantLabel(s.submittedAt))}${s.late ? '（逾期补报）' : ''}。谢谢！` : `本单位已于${e(instantLabel(s.submittedAt))}报送，未重复记录。`}</div>${head(p)}${recorded(p.duty, s)}`,
  );
}
