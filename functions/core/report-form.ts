// What a unit's report must hold: the fields of its duty's form (required ones filled, numbers numbers, nothing
// longer than allowed) and its files (types and sizes a phone produces and an office can open). One set of rules
// for the page, the link API and the upload, so the page never accepts what the API would refuse.
import type { Duty, DutyForm } from '../../workflows/catalog/schema.ts';
import type { FieldIssue } from './errors.ts';
import type { Evidence } from './model.ts';

/** File types a report may carry: photos from phones and documents. */
export const ATTACHMENT_TYPES: Readonly<Record<string, { labelZh: string; extension: string }>> = {
  'image/jpeg': { labelZh: 'JPG 照片', extension: 'jpg' },
  'image/png': { labelZh: 'PNG 图片', extension: 'png' },
  'image/heic': { labelZh: 'HEIC 照片', extension: 'heic' },
  'image/heif': { labelZh: 'HEIF 照片', extension: 'heif' },
  'image/webp': { labelZh: 'WebP 图片', extension: 'webp' },
  'application/pdf': { labelZh: 'PDF 文件', extension: 'pdf' },
};
export const ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;
/** Files per report when the duty's form does not say. */
export const DEFAULT_MAX_ATTACHMENTS = 5;

/** A duty without a form of its own: what was done, in words, with files if the unit has them. */
export const FREE_FORM: DutyForm = {
  fields: [],
  attachments: { labelZh: '相关材料（照片或 PDF）', required: false, max: DEFAULT_MAX_ATTACHMENTS },
};

export const formOf = (duty: Pick<Duty, 'form'>): DutyForm => duty.form ?? FREE_FORM;

/** Why a file cannot be attached, or undefined when it can. */
export function attachmentProblem(file: {
  name: string;
  contentType: string;
  size: number;
}): string | undefined {
  if (!ATTACHMENT_TYPES[file.contentType])
    return `不支持的文件类型（${file.contentType || '未知'}），可上传：${Object.values(ATTACHMENT_TYPES)
      .map((t) => t.labelZh)
      .join('、')}`;
  if (file.size <= 0) return '文件是空的';
  if (file.size > ATTACHMENT_MAX_BYTES)
    return `文件过大（${(file.size / 1024 / 1024).toFixed(1)} MB），单个文件不能超过 ${ATTACHMENT_MAX_BYTES / 1024 / 1024} MB`;
  return undefined;
}

/**
 * Every problem of a report against its duty's form, at once: required fields empty, a number that is not one,
 * a field the form does not have, too many or too few files, a file of the wrong type or size. A duty without a
 * form needs a note saying what was done.
 */
export function reportProblems(duty: Pick<Duty, 'form'>, note: string, evidence: Evidence): FieldIssue[] {
  const form = formOf(duty);
  const issues: FieldIssue[] = [];
  const values = evidence.fields ?? {};
  const known = new Set(form.fields.map((f) => f.key));
  for (const key of Object.keys(values))
    if (!known.has(key))
      issues.push({ field: `evidence.fields.${key}`, problem: '此项职责的报送表中没有这一项' });
  for (const f of form.fields) {
    const v = (values[f.key] ?? '').trim();
    const field = `evidence.fields.${f.key}`;
    if (!v) {
      if (f.required) issues.push({ field, problem: `请填写“${f.labelZh}”` });
      continue;
    }
    if ([...v].length > f.maxLength)
      issues.push({ field, problem: `“${f.labelZh}”不能超过 ${f.maxLength} 个字` });
    if (f.type === 'number' && !/^\d{1,9}$/.test(v))
      issues.push({ field, problem: `“${f.labelZh}”应为不小于 0 的整数` });
  }
  if (form.fields.length === 0 && !note.trim())
    issues.push({ field: 'note', problem: '请填写完成情况：做了什么、何时完成' });
  const files = evidence.attachments ?? [];
  const rule = form.attachments;
  if (!rule && files.length > 0)
    issues.push({ field: 'evidence.attachments', problem: '此项职责不需要上传附件' });
  if (rule?.required && files.length === 0)
    issues.push({ field: 'evidence.attachments', problem: `请上传${rule.labelZh}` });
  if (rule && files.length > rule.max)
    issues.push({ field: 'evidence.attachments', problem: `最多上传 ${rule.max} 个文件` });
  files.forEach((file, i) => {
    const problem = attachmentProblem(file);
    if (problem) issues.push({ field: `evidence.attachments[${i}]`, problem: `${file.name}：${problem}` });
  });
  return issues;
}
