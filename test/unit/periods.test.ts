import { describe, it, expect } from 'vitest';
import { CalendarError, addDays, dayOfWeek } from '../../workflows/calendar.ts';
import type { CalendarErrorCode } from '../../workflows/calendar.ts';
import {
  seasonRuleZh,
  seasonWindow,
  PERIOD_KINDS,
  isoWeeksInYear,
  nextPeriodKey,
  parsePeriodKey,
  periodKeyOf,
  periodKindOf,
  periodOf,
  periodsBetween,
  previousPeriodKey,
} from '../../workflows/periods.ts';

function expectCode(fn: () => unknown, code: CalendarErrorCode): CalendarError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CalendarError);
    expect((e as CalendarError).code).toBe(code);
    return e as CalendarError;
  }
  throw new Error('expected a CalendarError');
}

describe('parsePeriodKey', () => {
  it('parses each kind into an inclusive date range', () => {
    expect(parsePeriodKey('2023-02-06')).toEqual({
      kind: 'daily',
      key: '2023-02-06',
      start: '2023-02-06',
      end: '2023-02-06',
    });
    expect(parsePeriodKey('2023-W06')).toEqual({
      kind: 'weekly',
      key: '2023-W06',
      start: '2023-02-06',
      end: '2023-02-12',
    });
    expect(parsePeriodKey('2023-02')).toEqual({
      kind: 'monthly',
      key: '2023-02',
      start: '2023-02-01',
      end: '2023-02-28',
    });
    expect(parsePeriodKey('2023-Q1')).toEqual({
      kind: 'quarterly',
      key: '2023-Q1',
      start: '2023-01-01',
      end: '2023-03-31',
    });
    expect(parsePeriodKey('2023')).toEqual({
      kind: 'yearly',
      key: '2023',
      start: '2023-01-01',
      end: '2023-12-31',
    });
  });

  it('handles ISO weeks at year boundaries', () => {
    expect(parsePeriodKey('2023-W52')).toMatchObject({ start: '2023-12-25', end: '2023-12-31' });
    expect(parsePeriodKey('2024-W01')).toMatchObject({ start: '2024-01-01', end: '2024-01-07' });
    expect(parsePeriodKey('2023-W01')).toMatchObject({ start: '2023-01-02', end: '2023-01-08' });
    expect(parsePeriodKey('2020-W53')).toMatchObject({ start: '2020-12-28', end: '2021-01-03' });
    expect(parsePeriodKey('2025-W01')).toMatchObject({ start: '2024-12-30', end: '2025-01-05' });
    expect(parsePeriodKey('2026-W53')).toMatchObject({ start: '2026-12-28', end: '2027-01-03' });
  });

  it('knows which years have 53 ISO weeks', () => {
    // 53 weeks when 1 January is a Thursday, or a Wednesday in a leap year.
    expect(isoWeeksInYear(2015)).toBe(53);
    expect(isoWeeksInYear(2020)).toBe(53);
    expect(isoWeeksInYear(2026)).toBe(53);
    expect(isoWeeksInYear(2004)).toBe(53);
    expect(isoWeeksInYear(2023)).toBe(52);
    expect(isoWeeksInYear(2024)).toBe(52);
    expect(isoWeeksInYear(2008)).toBe(52);
    for (let y = 2000; y <= 2040; y++) {
      expect(periodKeyOf('weekly', `${y}-12-28`), String(y)).toBe(`${y}-W${isoWeeksInYear(y)}`);
    }
  });

  it('has correct month and quarter ends, including leap years', () => {
    expect(parsePeriodKey('2024-02').end).toBe('2024-02-29');
    expect(parsePeriodKey('2023-02').end).toBe('2023-02-28');
    expect(parsePeriodKey('1900-02').end).toBe('1900-02-28');
    expect(parsePeriodKey('2000-02').end).toBe('2000-02-29');
    expect(parsePeriodKey('2023-04').end).toBe('2023-04-30');
    expect(parsePeriodKey('2023-12').end).toBe('2023-12-31');
    expect(parsePeriodKey('2023-Q2')).toMatchObject({ start: '2023-04-01', end: '2023-06-30' });
    expect(parsePeriodKey('2023-Q3')).toMatchObject({ start: '2023-07-01', end: '2023-09-30' });
    expect(parsePeriodKey('2023-Q4')).toMatchObject({ start: '2023-10-01', end: '2023-12-31' });
    expect(parsePeriodKey('2024-02-29').kind).toBe('daily');
  });

  it('rejects keys that do not exist', () => {
    const bad = [
      '2023-W53',
      '2023-W00',
      '2020-W54',
      '2023-13',
      '2023-00',
      '2023-Q5',
      '2023-Q0',
      '2023-02-30',
      '2023-02-29',
      '1900-02-29',
      '0000',
      '0000-01',
    ];
    for (const key of bad) expectCode(() => parsePeriodKey(key), 'invalid-period');
  });

  it('rejects malformed keys', () => {
    const bad = [
      '',
      'abc',
      '2023-W6',
      '2023-w06',
      '2023W06',
      '2023-q1',
      '2023-Q01',
      '2023-2',
      '2023-2-6',
      '2023-02-06x',
      '23',
      '20230',
      ' 2023',
      '2023-H1',
    ];
    for (const key of bad) expectCode(() => parsePeriodKey(key), 'invalid-period');
    expectCode(() => parsePeriodKey(undefined as unknown as string), 'invalid-period');
  });

  it('explains errors in English and Chinese', () => {
    const w53 = expectCode(() => parsePeriodKey('2023-W53'), 'invalid-period');
    expect(w53.message).toContain('2023-W53');
    expect(w53.message).toContain('YYYY-Www');
    expect(w53.messageZh).toBe('周期编号无效：2023-W53（2023 年只有 52 个 ISO 周）');
    expect(expectCode(() => parsePeriodKey('2023-13'), 'invalid-period').messageZh).toBe(
      '周期编号无效：2023-13（月份应为 01–12）',
    );
    expect(expectCode(() => parsePeriodKey('2023-Q5'), 'invalid-period').messageZh).toBe(
      '周期编号无效：2023-Q5（季度应为 Q1–Q4）',
    );
    expect(expectCode(() => parsePeriodKey('2023-02-30'), 'invalid-period').messageZh).toBe(
      '周期编号无效：2023-02-30（日期不存在）',
    );
    const garbage = expectCode(() => parsePeriodKey('abc'), 'invalid-period');
    expect(garbage.message).toContain('"abc"');
    expect(garbage.message).toContain('YYYY-Qn');
  });

  it('enforces the expected kind', () => {
    expect(parsePeriodKey('2023-W06', 'weekly').kind).toBe('weekly');
    expect(parsePeriodKey('2023-02', 'monthly').kind).toBe('monthly');
    const e = expectCode(() => parsePeriodKey('2023-02', 'weekly'), 'invalid-period');
    expect(e.message).toContain('2023-02');
    expect(e.message).toContain('YYYY-Www');
    expect(e.messageZh).toBe('周期编号无效：2023-02（应为ISO 周编号，例如 2023-W06）');
    expectCode(() => parsePeriodKey('2023', 'quarterly'), 'invalid-period');
    expectCode(() => parsePeriodKey('2023-W6', 'weekly'), 'invalid-period');
  });

  it('rejects periods that run past year 9999', () => {
    expect(parsePeriodKey('9999-12').end).toBe('9999-12-31');
    expectCode(() => nextPeriodKey('9999-12'), 'invalid-period');
    expectCode(() => previousPeriodKey('0001'), 'invalid-period');
  });
});

describe('periodKindOf', () => {
  it('identifies each kind', () => {
    expect(periodKindOf('2023-02-06')).toBe('daily');
    expect(periodKindOf('2023-W06')).toBe('weekly');
    expect(periodKindOf('2023-02')).toBe('monthly');
    expect(periodKindOf('2023-Q1')).toBe('quarterly');
    expect(periodKindOf('2023')).toBe('yearly');
    expectCode(() => periodKindOf('2023-W53'), 'invalid-period');
  });
});

describe('periodKeyOf', () => {
  it('uses the ISO week-numbering year', () => {
    expect(periodKeyOf('weekly', '2023-01-01')).toBe('2022-W52');
    expect(periodKeyOf('weekly', '2023-01-02')).toBe('2023-W01');
    expect(periodKeyOf('weekly', '2023-02-06')).toBe('2023-W06');
    expect(periodKeyOf('weekly', '2023-12-31')).toBe('2023-W52');
    expect(periodKeyOf('weekly', '2024-01-01')).toBe('2024-W01');
    expect(periodKeyOf('weekly', '2024-12-30')).toBe('2025-W01');
    expect(periodKeyOf('weekly', '2021-01-03')).toBe('2020-W53');
    expect(periodKeyOf('weekly', '2021-01-01')).toBe('2020-W53');
    expect(periodKeyOf('weekly', '2021-01-04')).toBe('2021-W01');
  });

  it('gives daily, monthly, quarterly and yearly keys', () => {
    expect(periodKeyOf('daily', '2023-02-06')).toBe('2023-02-06');
    expect(periodKeyOf('monthly', '2023-02-06')).toBe('2023-02');
    expect(periodKeyOf('quarterly', '2023-03-31')).toBe('2023-Q1');
    expect(periodKeyOf('quarterly', '2023-04-01')).toBe('2023-Q2');
    expect(periodKeyOf('quarterly', '2023-12-31')).toBe('2023-Q4');
    expect(periodKeyOf('yearly', '2023-12-31')).toBe('2023');
  });

  it('rejects invalid dates with invalid-date', () => {
    expectCode(() => periodKeyOf('monthly', '2023-02-30'), 'invalid-date');
    expectCode(() => periodKeyOf('weekly', '2023-2-6'), 'invalid-date');
  });

  it('returns a period containing the date, for every day and kind over 2019–2027', () => {
    for (let d = '2019-01-01'; d <= '2027-12-31'; d = addDays(d, 1)) {
      for (const kind of PERIOD_KINDS) {
        const p = periodOf(kind, d);
        if (p.start > d || p.end < d || p.kind !== kind)
          throw new Error(`${kind} ${p.key} does not contain ${d}`);
      }
    }
  });

  it('makes every ISO week run Monday to Sunday', () => {
    for (let y = 2000; y <= 2040; y++) {
      for (let w = 1; w <= isoWeeksInYear(y); w++) {
        const p = parsePeriodKey(`${y}-W${String(w).padStart(2, '0')}`);
        expect(dayOfWeek(p.start)).toBe(1);
        expect(addDays(p.start, 6)).toBe(p.end);
        expect(periodKeyOf('weekly', p.start)).toBe(p.key);
        expect(periodKeyOf('weekly', p.end)).toBe(p.key);
      }
    }
  });
});

describe('nextPeriodKey / previousPeriodKey', () => {
  it('steps across boundaries', () => {
    expect(nextPeriodKey('2023-W52')).toBe('2024-W01');
    expect(nextPeriodKey('2020-W52')).toBe('2020-W53');
    expect(nextPeriodKey('2020-W53')).toBe('2021-W01');
    expect(previousPeriodKey('2021-W01')).toBe('2020-W53');
    expect(previousPeriodKey('2023-W01')).toBe('2022-W52');
    expect(nextPeriodKey('2023-12')).toBe('2024-01');
    expect(previousPeriodKey('2023-01')).toBe('2022-12');
    expect(nextPeriodKey('2023-Q4')).toBe('2024-Q1');
    expect(previousPeriodKey('2023-Q1')).toBe('2022-Q4');
    expect(nextPeriodKey('2023-01-31')).toBe('2023-02-01');
    expect(nextPeriodKey('2024-02-28')).toBe('2024-02-29');
    expect(nextPeriodKey('2023-02-28')).toBe('2023-03-01');
    expect(previousPeriodKey('2024-01-01')).toBe('2023-12-31');
    expect(nextPeriodKey('2023')).toBe('2024');
    expect(previousPeriodKey('2023')).toBe('2022');
  });

  it('chains into contiguous periods', () => {
    for (const kind of PERIOD_KINDS) {
      let p = periodOf(kind, '2019-12-01');
      for (let i = 0; i < 60; i++) {
        const next = parsePeriodKey(nextPeriodKey(p.key));
        expect(next.start).toBe(addDays(p.end, 1));
        expect(previousPeriodKey(next.key)).toBe(p.key);
        p = next;
      }
    }
  });

  it('rejects invalid keys', () => {
    expectCode(() => nextPeriodKey('2023-W53'), 'invalid-period');
    expectCode(() => previousPeriodKey('2023-Q0'), 'invalid-period');
  });
});

describe('periodsBetween', () => {
  it('lists every period overlapping [from, to]', () => {
    expect(periodsBetween('weekly', '2023-12-20', '2024-01-10')).toEqual([
      '2023-W51',
      '2023-W52',
      '2024-W01',
      '2024-W02',
    ]);
    expect(periodsBetween('monthly', '2023-11-15', '2024-02-01')).toEqual([
      '2023-11',
      '2023-12',
      '2024-01',
      '2024-02',
    ]);
    expect(periodsBetween('quarterly', '2023-03-31', '2023-04-01')).toEqual(['2023-Q1', '2023-Q2']);
    expect(periodsBetween('yearly', '2022-06-01', '2024-01-01')).toEqual(['2022', '2023', '2024']);
    expect(periodsBetween('daily', '2024-02-27', '2024-03-01')).toEqual([
      '2024-02-27',
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
    ]);
    expect(periodsBetween('weekly', '2020-12-31', '2021-01-04')).toEqual(['2020-W53', '2021-W01']);
  });

  it('handles single days and empty ranges', () => {
    expect(periodsBetween('monthly', '2023-02-06', '2023-02-06')).toEqual(['2023-02']);
    expect(periodsBetween('weekly', '2023-02-12', '2023-02-12')).toEqual(['2023-W06']);
    expect(periodsBetween('monthly', '2023-03-01', '2023-02-01')).toEqual([]);
    expect(periodsBetween('daily', '2023-01-01', '2023-12-31')).toHaveLength(365);
  });

  it('rejects invalid dates', () => {
    expectCode(() => periodsBetween('monthly', '2023-02-30', '2023-03-01'), 'invalid-date');
    expectCode(() => periodsBetween('monthly', '2023-02-01', '2023-3-1'), 'invalid-date');
  });
});

describe('seasonWindow', () => {
  const week = { id: 'w', titleZh: '防灾减灾宣传周', weekContaining: '05-12', weekStartsOn: 6 };
  it('gives the Saturday-to-Friday week containing 12 May in each year, as the national weeks ran', () => {
    expect(seasonWindow(week, 2022)).toEqual({ start: '2022-05-07', end: '2022-05-13' });
    expect(seasonWindow(week, 2023)).toEqual({ start: '2023-05-06', end: '2023-05-12' });
    expect(seasonWindow(week, 2024)).toEqual({ start: '2024-05-11', end: '2024-05-17' });
    expect(seasonWindow(week, 2025)).toEqual({ start: '2025-05-10', end: '2025-05-16' });
    for (let y = 2023; y <= 2040; y++) {
      const { start, end } = seasonWindow(week, y);
      expect(dayOfWeek(start)).toBe(6);
      expect(addDays(start, 6)).toBe(end);
      expect(start <= `${y}-05-12` && `${y}-05-12` <= end).toBe(true);
    }
    expect(seasonRuleZh(week)).toBe('每年5月12日所在的星期六至星期五');
  });

  it('keeps fixed windows fixed', () => {
    const flood = { id: 'f', titleZh: '汛期', from: '06-01', to: '09-30' };
    expect(seasonWindow(flood, 2025)).toEqual({ start: '2025-06-01', end: '2025-09-30' });
    expect(seasonRuleZh(flood)).toBe('每年06-01至09-30');
    expect(seasonRuleZh({ ...week, weekStartsOn: 1 })).toBe('每年5月12日所在的星期一至星期日');
  });
});
