// Templates for the usual ad-hoc duties: their deadlines follow the official calendar of each year.
import { describe, expect, it } from 'vitest';
import { adhocTemplates, templateByName } from '../../functions/core/adhoc-templates.ts';
import { ValidationError } from '../../functions/core/errors.ts';
import { isWorkday } from '../../workflows/calendar.ts';

const deadlines = (year: number) =>
  Object.fromEntries(
    adhocTemplates(Date.parse(`${year}-01-01T00:00:00+08:00`), year).templates.map((t) => [
      t.id,
      `${(t.request.deadline as { date: string }).date} (${t.beforeDate})`,
    ]),
  );

describe('节前检查 and 汛前检查 templates', () => {
  it('are due the second working day before the rest begins, 18:00: 2023 as the State Council arranged it', () => {
    expect(deadlines(2023)).toEqual({
      // Spring Festival rest 01-21 to 01-27: the Thursday before.
      'spring-festival-check': '2023-01-19 (2023-01-21)',
      // 五一 rest 04-29 to 05-03, with Sunday 04-23 a make-up working day: Thursday 04-27.
      'labour-day-check': '2023-04-27 (2023-04-29)',
      // 中秋 and 国庆 together, 09-29 to 10-06: Wednesday 09-27, the date of 襄安办's own 2023 notice.
      'national-day-check': '2023-09-27 (2023-09-29)',
      // The main flood season opens on 1 June (a Thursday): Tuesday 05-30.
      'pre-flood-check': '2023-05-30 (2023-06-01)',
    });
  });

  it('fall on working days every year the calendar covers', () => {
    for (const year of [2023, 2024, 2025, 2026])
      for (const t of adhocTemplates(Date.parse(`${year}-01-01T00:00:00+08:00`), year).templates) {
        const { date, time } = t.request.deadline as { date: string; time: string };
        expect(isWorkday(date), `${year} ${t.id} ${date}`).toBe(true);
        expect(date < t.beforeDate, `${year} ${t.id}`).toBe(true);
        expect(time).toBe('18:00');
        expect(t.request.instructionZh).toContain(
          `${Number(date.slice(5, 7))}月${Number(date.slice(8))}日18:00前`,
        );
      }
  });

  it('without a year, each is for the first year whose deadline is still ahead', () => {
    const after = adhocTemplates(Date.parse('2023-10-01T00:00:00+08:00')).templates;
    expect(after.map((t) => [t.id, t.year])).toEqual([
      ['spring-festival-check', 2024],
      ['labour-day-check', 2024],
      ['national-day-check', 2024],
      ['pre-flood-check', 2024],
    ]);
    const before = adhocTemplates(Date.parse('2023-09-18T10:00:00+08:00')).templates;
    expect(before.find((t) => t.id === 'national-day-check')?.year).toBe(2023);
  });

  it('lists what next year would take as unavailable, while the calendar has no data for it', () => {
    const late2026 = adhocTemplates(Date.parse('2026-10-10T00:00:00+08:00'));
    expect(late2026.templates).toEqual([]);
    expect(late2026.unavailable.map((u) => u.id)).toEqual([
      'spring-festival-check',
      'labour-day-check',
      'national-day-check',
      'pre-flood-check',
    ]);
    expect(late2026.unavailable[0]?.reasonZh).toContain('2027 年没有官方节假日数据');
    const march2026 = adhocTemplates(Date.parse('2026-03-01T00:00:00+08:00'));
    expect(march2026.templates.map((t) => [t.id, t.year])).toEqual([
      ['labour-day-check', 2026],
      ['national-day-check', 2026],
      ['pre-flood-check', 2026],
    ]);
  });

  it('refuses a year without the official arrangement, in Chinese, naming the year', () => {
    try {
      adhocTemplates(Date.now(), 2027);
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues[0]?.field).toBe('year');
      expect((err as ValidationError).messageZh).toContain('2027 年没有官方节假日数据');
    }
  });

  it('are found by the names administrators use', () => {
    expect(templateByName('国庆节前检查')).toBe('national-day-check');
    expect(templateByName('汛前检查')).toBe('pre-flood-check');
    expect(templateByName('春节')).toBe('spring-festival-check');
    expect(templateByName('中秋')).toBeUndefined();
  });
});
