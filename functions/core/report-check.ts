import type { Duty } from '../../workflows/catalog/schema.ts';
import { attachmentPrefix, storedAttachment } from '../adapters/attachments.ts';
import { ValidationError, type FieldIssue } from './errors.ts';
import type { Evidence } from './model.ts';
import { reportProblems } from './report-form.ts';

/**
 * A unit's report before it is recorded: the form's rules (report-form.ts), and each file really uploaded by this
 * unit for this item, as declared (an address from another unit's folder, or a file that never arrived or differs,
 * is refused). Every problem is listed at once; nothing is recorded until there are none.
 */
export async function checkUnitReport(
  duty: Pick<Duty, 'form'>,
  target: { item: string; unitId: string },
  note: string,
  evidence: Evidence,
  options: { form?: boolean } = {},
): Promise<void> {
  // An administrator recording on a unit's behalf may have less than the form asks; the files are checked always.
  const issues: FieldIssue[] = options.form === false ? [] : reportProblems(duty, note, evidence);
  const prefix = attachmentPrefix(target.item, target.unitId);
  const files = evidence.attachments ?? [];
  const stored = await Promise.all(
    files.map((f) => (f.key?.startsWith(prefix) ? storedAttachment(f.key) : Promise.resolve(undefined))),
  );
  files.forEach((f, i) => {
    const field = `evidence.attachments[${i}]`;
    const s = stored[i];
    if (!f.key || !f.key.startsWith(prefix))
      issues.push({ field, problem: `${f.name}：不是本单位为本事项上传的文件` });
    else if (!s) issues.push({ field, problem: `${f.name}：文件没有上传成功，请重新选择该文件` });
    else if (s.size !== f.size || s.contentType !== f.contentType)
      issues.push({ field, problem: `${f.name}：上传的文件与所选文件不一致，请重新选择该文件` });
  });
  if (issues.length > 0)
    throw new ValidationError('report incomplete', '报送内容不完整或有误，请按提示修改后重新提交', issues);
}
