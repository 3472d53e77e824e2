import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { ATTACHMENT_MAX_BYTES, attachmentProblem, reportProblems } from '../../functions/core/report-form.ts';

const catalog = loadCatalog();
const meeting = catalog.require('monthly-safety-meeting');
const daily = catalog.require('hazard-daily-report');
const photo = { name: '签到表.jpg', contentType: 'image/jpeg', size: 200_000, key: 'attachments/x/y/z.jpg' };

describe('report forms', () => {
  it('gives every duty of the catalog a form of its own', () => {
    for (const d of catalog.duties) expect(d.form?.fields.length, d.id).toBeGreaterThan(0);
  });

  it('lists every missing required field and file at once', () => {
    expect(reportProblems(meeting, '', {})).toEqual([
      { field: 'evidence.fields.meetingDate', problem: '请填写“会议日期”' },
      { field: 'evidence.fields.minutes', problem: '请填写“会议纪要”' },
      { field: 'evidence.fields.attendees', problem: '请填写“参会人员”' },
      { field: 'evidence.fields.decisions', problem: '请填写“研究解决的重大问题及责任分工”' },
      { field: 'evidence.attachments', problem: '请上传签到表、会议纪要扫描件或照片' },
    ]);
  });

  it('accepts a complete report, with optional fields left out', () => {
    const fields = { inspector: '王伟', areas: '配电室、仓库', hazards: '0' };
    expect(reportProblems(daily, '', { fields })).toEqual([]);
    expect(reportProblems(daily, '', { fields, attachments: [photo] })).toEqual([]);
  });

  it('wants numbers as whole numbers, and refuses fields the form does not have', () => {
    const fields = { inspector: '王伟', areas: '仓库', hazards: '两处', colour: '红' };
    expect(reportProblems(daily, '', { fields })).toEqual([
      { field: 'evidence.fields.colour', problem: '此项职责的报送表中没有这一项' },
      { field: 'evidence.fields.hazards', problem: '“发现隐患数”应为不小于 0 的整数' },
    ]);
  });

  it('limits the number, type and size of files', () => {
    const many = Array.from({ length: 6 }, (_, i) => ({ ...photo, name: `${i}.jpg` }));
    const fields = { meetingDate: '2月27日', minutes: '纪要', attendees: '甲、乙', decisions: '无' };
    expect(reportProblems(meeting, '', { fields, attachments: many })).toEqual([
      { field: 'evidence.attachments', problem: '最多上传 5 个文件' },
    ]);
    expect(attachmentProblem({ name: 'a.exe', contentType: 'application/x-msdownload', size: 10 })).toMatch(
      /^不支持的文件类型/,
    );
    expect(attachmentProblem({ ...photo, size: ATTACHMENT_MAX_BYTES + 1 })).toMatch(/^文件过大/);
    expect(attachmentProblem({ ...photo, size: 0 })).toBe('文件是空的');
    expect(attachmentProblem(photo)).toBeUndefined();
  });

  it('needs a note saying what was done when a duty has no form (an ad-hoc duty)', () => {
    expect(reportProblems({}, '  ', {})).toEqual([
      { field: 'note', problem: '请填写完成情况：做了什么、何时完成' },
    ]);
    expect(reportProblems({}, '已完成节前检查', { attachments: [photo] })).toEqual([]);
  });
});
