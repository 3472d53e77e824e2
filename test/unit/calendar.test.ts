import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import chineseDays from 'chinese-days';
import { describe, it, expect } from 'vitest';
import {
  CalendarError,
  addDays,
  addWorkdays,
  checkWorkday,
  compareDates,
  dayOfWeek,
  daysInMonth,
  diffDays,
  firstWorkdayOfMonth,
  fromDayNumber,
  hasOfficialData,
  isLeapYear,
  isWorkday,
  lastWorkdayOfMonth,
  nextWorkdayOnOrAfter,
  officialDataRange,
  parseDate,
  parseInstant,
  previousWorkdayOnOrBefore,
  shanghaiDateOf,
  shanghaiInstant,
  toDayNumber,
  toShanghaiIso,
  workdaysBetween,
} from '../../workflows/calendar.ts';
import type { CalendarErrorCode } from '../../workflows/calendar.ts';

function errorOf(fn: () => unknown): CalendarError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CalendarError);
    return e as CalendarError;
  }
  throw new Error('expected a CalendarError');
}

function expectCode(fn: () => unknown, code: CalendarErrorCode): CalendarError {
  const e = errorOf(fn);
  expect(e.code).toBe(code);
  return e;
}

function datesFrom(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Runs an ES module snippet in a child process with the given TZ; `c` is calendar.ts. Prints JSON. */
function runInTz(tz: string, body: string): unknown {
  const moduleUrl = new URL('../../workflows/calendar.ts', import.meta.url).href;
  const script = `import * as c from ${JSON.stringify(moduleUrl)};\n${body}`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, TZ: tz },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('parseDate', () => {
  it('accepts real dates and returns them unchanged', () => {
    for (const d of [
      '2023-02-06',
      '2023-01-01',
      '2023-12-31',
      '2024-02-29',
      '2000-02-29',
      '0001-01-01',
      '9999-12-31',
    ]) {
      expect(parseDate(d)).toBe(d);
    }
  });

  it('applies Gregorian leap-year rules', () => {
    expect(parseDate('2024-02-29')).toBe('2024-02-29');
    expect(parseDate('2000-02-29')).toBe('2000-02-29');
    expectCode(() => parseDate('2023-02-29'), 'invalid-date');
    expectCode(() => parseDate('1900-02-29'), 'invalid-date');
    expectCode(() => parseDate('2100-02-29'), 'invalid-date');
    expect(isLeapYear(2024)).toBe(true);
    expect(isLeapYear(1900)).toBe(false);
    expect(isLeapYear(2000)).toBe(true);
  });

  it('rejects malformed and impossible dates with invalid-date', () => {
    const bad = [
      '2023-2-6',
      '2023-02-6',
      '2023-02-06x',
      ' 2023-02-06',
      '2023-02-06\n',
      '',
      'abc',
      '2023/02/06',
      '20230206',
      '2023-02-30',
      '2023-04-31',
      '2023-13-01',
      '2023-00-10',
      '2023-01-00',
      '2023-01-32',
      '0000-01-01',
      '2023-W06',
      '２０２３-02-06',
    ];
    for (const s of bad) expectCode(() => parseDate(s), 'invalid-date');
    expectCode(() => parseDate(undefined as unknown as string), 'invalid-date');
  });

  it('gives English and Chinese messages naming the input', () => {
    const e = expectCode(() => parseDate('2023-02-30'), 'invalid-date');
    expect(e.message).toContain('2023-02-30');
    expect(e.message).toContain('YYYY-MM-DD');
    expect(e.messageZh).toBe('日期无效：2023-02-30（应为 YYYY-MM-DD）');
    expect(e.name).toBe('CalendarError');
    expect(e).toBeInstanceOf(Error);
  });
});

describe('plain date arithmetic', () => {
  it('adds days across month, year and leap-day boundaries', () => {
    expect(addDays('2023-01-31', 1)).toBe('2023-02-01');
    expect(addDays('2023-02-28', 1)).toBe('2023-03-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2023-12-31', 1)).toBe('2024-01-01');
    expect(addDays('2024-01-01', -1)).toBe('2023-12-31');
    expect(addDays('2023-02-06', 0)).toBe('2023-02-06');
    expect(addDays('2023-02-06', 365)).toBe('2024-02-06');
    expect(addDays('1970-01-01', -1)).toBe('1969-12-31');
  });

  it('rejects bad input and results outside 0001..9999', () => {
    expectCode(() => addDays('2023-02-30', 1), 'invalid-date');
    expectCode(() => addDays('9999-12-31', 1), 'invalid-date');
    expectCode(() => addDays('0001-01-01', -1), 'invalid-date');
    expect(() => addDays('2023-02-06', 1.5)).toThrow(RangeError);
  });

  it('agrees with Date.UTC on day numbers over four centuries', () => {
    for (let dn = toDayNumber('1900-01-01'); dn <= toDayNumber('2300-12-31'); dn += 7) {
      expect(fromDayNumber(dn)).toBe(new Date(dn * 86_400_000).toISOString().slice(0, 10));
    }
    expect(toDayNumber('1970-01-01')).toBe(0);
  });

  it('gives ISO days of week (1 = Monday, 7 = Sunday)', () => {
    expect(dayOfWeek('2023-02-06')).toBe(1);
    expect(dayOfWeek('2023-01-28')).toBe(6);
    expect(dayOfWeek('2023-01-01')).toBe(7);
    expect(dayOfWeek('2024-02-29')).toBe(4);
    expect(dayOfWeek('1969-12-31')).toBe(3);
  });

  it('compares and diffs dates', () => {
    expect(compareDates('2023-02-06', '2023-02-07')).toBe(-1);
    expect(compareDates('2023-02-07', '2023-02-06')).toBe(1);
    expect(compareDates('2023-02-06', '2023-02-06')).toBe(0);
    expectCode(() => compareDates('2023-02-06', '2023-2-7'), 'invalid-date');
    expect(diffDays('2023-01-01', '2024-01-01')).toBe(365);
    expect(diffDays('2024-01-01', '2025-01-01')).toBe(366);
    expect(diffDays('2023-02-07', '2023-02-06')).toBe(-1);
  });

  it('knows month lengths', () => {
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2023, 2)).toBe(28);
    expect(daysInMonth(2023, 4)).toBe(30);
    expect(daysInMonth(2023, 12)).toBe(31);
    expectCode(() => daysInMonth(2023, 13), 'invalid-date');
  });
});

describe('official data coverage', () => {
  it('reads the covered years from the chinese-days data (2004–2026 in 1.5.7)', () => {
    expect(officialDataRange()).toEqual({ firstYear: 2004, lastYear: 2026 });
    expect(hasOfficialData(2004)).toBe(true);
    expect(hasOfficialData(2023)).toBe(true);
    expect(hasOfficialData(2026)).toBe(true);
    expect(hasOfficialData(2003)).toBe(false);
    expect(hasOfficialData(2027)).toBe(false);
  });

  it('throws unverified-year outside the data instead of guessing', () => {
    // The package itself guesses: 2027-10-01 (a Friday, surely National Day) comes back as a working day.
    expect(chineseDays.isWorkday(new Date(2027, 9, 1))).toBe(true);
    const e = expectCode(() => isWorkday('2027-03-01'), 'unverified-year');
    expect(e.message).toContain('2027');
    expect(e.messageZh).toContain('2027 年没有官方节假日数据，无法确认');
    expectCode(() => isWorkday('2003-12-31'), 'unverified-year');
    expectCode(() => checkWorkday('2027-10-01'), 'unverified-year');
  });

  it('falls back to Monday–Friday, unverified, when allowed', () => {
    expect(checkWorkday('2027-03-01', { allowUnverified: true })).toMatchObject({
      workday: true,
      verified: false,
    });
    expect(checkWorkday('2027-03-06', { allowUnverified: true })).toMatchObject({
      workday: false,
      verified: false,
    });
    expect(checkWorkday('2027-03-06', { allowUnverified: true }).reason).toContain('周末');
    expect(checkWorkday('2023-01-28', { allowUnverified: true }).verified).toBe(true);
  });

  it('keeps the holidays the law fixes by date off in a guessed year: 元旦, 劳动节 1–2 May, 国庆节 1–3 October', () => {
    expect(checkWorkday('2027-01-01', { allowUnverified: true })).toEqual({
      workday: false,
      verified: false,
      reason: '法定节假日：元旦（按放假办法推定，未核实）',
    });
    for (const d of ['2027-05-03', '2027-10-04', '2027-10-08'])
      expect(checkWorkday(d, { allowUnverified: true }).workday, d).toBe(true);
    for (const d of ['2027-05-01', '2027-05-02', '2028-10-01', '2028-10-02', '2028-10-03'])
      expect(checkWorkday(d, { allowUnverified: true }).workday, d).toBe(false);
  });

  it('agrees with the chinese-days functions on every covered day, run in Asia/Shanghai', () => {
    // Only in a zone at or east of UTC: west of it, chinese-days builds its own tables one day early at load
    // time (it parses 'YYYY-M-D' as UTC and formats in local time), which is why calendar.ts reads its JSON.
    const result = runInTz(
      'Asia/Shanghai',
      `
      import chineseDays from 'chinese-days';
      const bad = [];
      let count = 0;
      for (let d = '2004-01-01'; d <= '2026-12-31'; d = c.addDays(d, 1), count++) {
        const [y, m, day] = d.split('-').map(Number);
        const local = new Date(y, m - 1, day);
        const detail = chineseDays.getDayDetail(local);
        const check = c.checkWorkday(d);
        const festival = detail.name.split(',')[1];
        if (
          detail.date !== d ||
          detail.work !== check.workday ||
          chineseDays.isWorkday(local) !== c.isWorkday(d) ||
          (festival !== undefined && !check.reason.endsWith(festival))
        ) bad.push(d);
      }
      console.log(JSON.stringify({ count, bad }));
      `,
    );
    expect(result).toEqual({ count: 8401, bad: [] });
  });

  it('does not depend on the machine time zone', () => {
    const script = `
      let bits = '';
      for (let d = '2004-01-01'; d <= '2026-12-31'; d = c.addDays(d, 1)) bits += c.isWorkday(d) ? '1' : '0';
      const t = c.shanghaiInstant('2023-02-07', '00:30');
      console.log(JSON.stringify([bits, c.toShanghaiIso(t), c.shanghaiDateOf(t), c.addWorkdays('2023-01-19', 2)]));
    `;
    const west = runInTz('America/Los_Angeles', script);
    expect(runInTz('Pacific/Kiritimati', script)).toEqual(west);
    expect(runInTz('Asia/Shanghai', script)).toEqual(west);
    expect((west as string[]).slice(1)).toEqual(['2023-02-07T00:30:00+08:00', '2023-02-07', '2023-01-28']);
  });
});

describe('2023 holidays and make-up working days', () => {
  it('Spring Festival: 01-21..01-27 off, Sat 01-28 and Sun 01-29 worked', () => {
    for (const d of datesFrom('2023-01-21', '2023-01-27')) expect(isWorkday(d), d).toBe(false);
    expect(isWorkday('2023-01-28')).toBe(true);
    expect(isWorkday('2023-01-29')).toBe(true);
    expect(isWorkday('2023-01-20')).toBe(true);
    expect(isWorkday('2023-01-30')).toBe(true);
    expect(checkWorkday('2023-01-23')).toEqual({
      workday: false,
      verified: true,
      reason: '法定节假日：春节',
    });
    expect(checkWorkday('2023-01-28')).toEqual({ workday: true, verified: true, reason: '调休上班：春节' });
  });

  it('Mid-Autumn and National Day: 09-29..10-06 off, Sat 10-07 and Sun 10-08 worked', () => {
    for (const d of datesFrom('2023-09-29', '2023-10-06')) expect(isWorkday(d), d).toBe(false);
    expect(isWorkday('2023-09-28')).toBe(true);
    expect(isWorkday('2023-10-07')).toBe(true);
    expect(isWorkday('2023-10-08')).toBe(true);
    expect(isWorkday('2023-10-09')).toBe(true);
    expect(checkWorkday('2023-09-29').reason).toBe('法定节假日：中秋');
    expect(checkWorkday('2023-10-02').reason).toBe('法定节假日：国庆节');
    expect(checkWorkday('2023-10-07').reason).toBe('调休上班：国庆节');
  });

  it('other 2023 holidays and make-up days', () => {
    // New Year (Mon 01-02), Qingming (Wed 04-05), Labour Day (04-29..05-03), Dragon Boat (06-22..06-24).
    for (const d of [
      '2023-01-02',
      '2023-04-05',
      '2023-04-29',
      '2023-05-01',
      '2023-05-03',
      '2023-06-22',
      '2023-06-23',
    ]) {
      expect(isWorkday(d), d).toBe(false);
    }
    for (const d of ['2023-04-23', '2023-05-06', '2023-06-25']) expect(isWorkday(d), d).toBe(true);
    expect(dayOfWeek('2023-04-23')).toBe(7);
    expect(dayOfWeek('2023-05-06')).toBe(6);
    expect(dayOfWeek('2023-06-25')).toBe(7);
    expect(checkWorkday('2023-04-23').reason).toBe('调休上班：劳动节');
    expect(checkWorkday('2023-06-25').reason).toBe('调休上班：端午');
  });

  it('ordinary weekdays and weekends', () => {
    expect(checkWorkday('2023-02-06')).toEqual({ workday: true, verified: true, reason: '工作日' });
    expect(checkWorkday('2023-02-11')).toEqual({ workday: false, verified: true, reason: '周末' });
    expect(checkWorkday('2023-02-12').workday).toBe(false);
  });

  it('counts 249 working days in 2023', () => {
    expect(datesFrom('2023-01-01', '2023-12-31').filter(isWorkday)).toHaveLength(249);
    expect(workdaysBetween('2022-12-31', '2023-12-31')).toBe(249);
  });
});

describe('addWorkdays', () => {
  it('skips the Spring Festival break', () => {
    expect(addWorkdays('2023-01-19', 1)).toBe('2023-01-20');
    expect(addWorkdays('2023-01-19', 2)).toBe('2023-01-28');
    expect(addWorkdays('2023-01-19', 3)).toBe('2023-01-29');
    expect(addWorkdays('2023-01-19', 4)).toBe('2023-01-30');
    expect(addWorkdays('2023-01-22', 1)).toBe('2023-01-28');
  });

  it('skips the National Day break', () => {
    expect(addWorkdays('2023-09-28', 1)).toBe('2023-10-07');
    expect(addWorkdays('2023-09-27', 3)).toBe('2023-10-08');
    expect(addWorkdays('2023-09-25', 4)).toBe('2023-10-07');
    expect(addWorkdays('2023-09-25', 5)).toBe('2023-10-08');
  });

  it('walks backwards for negative n', () => {
    expect(addWorkdays('2023-01-28', -1)).toBe('2023-01-20');
    expect(addWorkdays('2023-01-30', -2)).toBe('2023-01-28');
    expect(addWorkdays('2023-10-07', -1)).toBe('2023-09-28');
    expect(addWorkdays('2023-10-09', -3)).toBe('2023-09-28');
    expect(addWorkdays('2023-02-06', -1)).toBe('2023-02-03');
  });

  it('n = 0 returns the date if it is a working day, otherwise the next working day', () => {
    expect(addWorkdays('2023-02-06', 0)).toBe('2023-02-06');
    expect(addWorkdays('2023-01-21', 0)).toBe('2023-01-28');
    expect(addWorkdays('2023-02-11', 0)).toBe('2023-02-13');
  });

  it('throws unverified-year when the walk leaves the data', () => {
    expect(addWorkdays('2026-12-30', 1)).toBe('2026-12-31');
    expectCode(() => addWorkdays('2026-12-31', 1), 'unverified-year');
    expect(addWorkdays('2027-01-01', -1)).toBe('2026-12-31');
    expectCode(() => addWorkdays('2004-01-05', -5), 'unverified-year');
    expectCode(() => addWorkdays('2027-03-01', 0), 'unverified-year');
  });

  it('rejects bad input', () => {
    expectCode(() => addWorkdays('2023-02-30', 1), 'invalid-date');
    expect(() => addWorkdays('2023-02-06', 0.5)).toThrow(RangeError);
  });

  it('is consistent with workdaysBetween', () => {
    for (const start of ['2023-01-19', '2023-09-27', '2023-02-11', '2024-02-08', '2025-09-30']) {
      for (const n of [1, 2, 3, 5, 10, 30]) {
        const end = addWorkdays(start, n);
        expect(isWorkday(end)).toBe(true);
        expect(workdaysBetween(start, end), `${start} + ${n}`).toBe(n);
        expect(workdaysBetween(start, addDays(end, -1))).toBe(n - 1);
      }
    }
  });
});

describe('month boundaries and nearest working days', () => {
  it('last working day of a month', () => {
    expect(lastWorkdayOfMonth(2023, 9)).toBe('2023-09-28');
    expect(lastWorkdayOfMonth(2023, 4)).toBe('2023-04-28'); // 04-29 Sat and 04-30 Sun are Labour Day
    expect(lastWorkdayOfMonth(2023, 12)).toBe('2023-12-29'); // month ends on a weekend
    expect(lastWorkdayOfMonth(2023, 1)).toBe('2023-01-31');
    expect(lastWorkdayOfMonth(2023, 2)).toBe('2023-02-28');
    expect(lastWorkdayOfMonth(2024, 2)).toBe('2024-02-29');
  });

  it('first working day of a month', () => {
    expect(firstWorkdayOfMonth(2023, 1)).toBe('2023-01-03');
    expect(firstWorkdayOfMonth(2023, 10)).toBe('2023-10-07'); // a Saturday make-up day
    expect(firstWorkdayOfMonth(2023, 5)).toBe('2023-05-04');
    expect(firstWorkdayOfMonth(2023, 2)).toBe('2023-02-01');
  });

  it('rejects bad months and unverified years', () => {
    expectCode(() => lastWorkdayOfMonth(2023, 13), 'invalid-date');
    expectCode(() => firstWorkdayOfMonth(2023, 0), 'invalid-date');
    expectCode(() => firstWorkdayOfMonth(2023.5, 1), 'invalid-date');
    expectCode(() => lastWorkdayOfMonth(2027, 1), 'unverified-year');
  });

  it('next / previous working day on or around a date', () => {
    expect(nextWorkdayOnOrAfter('2023-02-06')).toBe('2023-02-06');
    expect(nextWorkdayOnOrAfter('2023-09-29')).toBe('2023-10-07');
    expect(nextWorkdayOnOrAfter('2023-02-11')).toBe('2023-02-13');
    expect(previousWorkdayOnOrBefore('2023-02-06')).toBe('2023-02-06');
    expect(previousWorkdayOnOrBefore('2023-10-06')).toBe('2023-09-28');
    expect(previousWorkdayOnOrBefore('2023-01-27')).toBe('2023-01-20');
    expectCode(() => nextWorkdayOnOrAfter('2026-12-32'), 'invalid-date');
  });
});

describe('workdaysBetween', () => {
  it('counts working days in (from, to]', () => {
    expect(workdaysBetween('2023-01-19', '2023-01-29')).toBe(3); // 01-20, 01-28, 01-29
    expect(workdaysBetween('2023-09-28', '2023-10-08')).toBe(2);
    expect(workdaysBetween('2023-02-03', '2023-02-06')).toBe(1);
    expect(workdaysBetween('2023-02-06', '2023-02-07')).toBe(1);
    expect(workdaysBetween('2023-02-10', '2023-02-12')).toBe(0);
  });

  it('is 0 when to is not after from', () => {
    expect(workdaysBetween('2023-02-06', '2023-02-06')).toBe(0);
    expect(workdaysBetween('2023-02-10', '2023-02-06')).toBe(0);
  });

  it('throws unverified-year when the range leaves the data', () => {
    expectCode(() => workdaysBetween('2026-12-01', '2027-01-05'), 'unverified-year');
    expectCode(() => workdaysBetween('2003-12-01', '2004-01-05'), 'unverified-year');
    expect(workdaysBetween('2003-12-31', '2004-01-05')).toBeGreaterThan(0);
  });
});

describe('instants in Shanghai time', () => {
  it('formats with +08:00, seconds and no milliseconds', () => {
    expect(toShanghaiIso(new Date('2023-02-06T10:00:00Z'))).toBe('2023-02-06T18:00:00+08:00');
    expect(toShanghaiIso(new Date('2023-02-06T16:30:00Z'))).toBe('2023-02-07T00:30:00+08:00');
    expect(toShanghaiIso(new Date('2023-12-31T15:59:59.999Z'))).toBe('2023-12-31T23:59:59+08:00');
    expect(toShanghaiIso(new Date('1969-12-31T15:00:00.500Z'))).toBe('1969-12-31T23:00:00+08:00');
    expectCode(() => toShanghaiIso(new Date(Number.NaN)), 'invalid-date');
  });

  it('builds instants from a date and a wall-clock time', () => {
    expect(shanghaiInstant('2023-02-06', '18:00').toISOString()).toBe('2023-02-06T10:00:00.000Z');
    expect(shanghaiInstant('2023-02-07', '00:30').toISOString()).toBe('2023-02-06T16:30:00.000Z');
    expect(shanghaiInstant('2024-03-01', '07:59').toISOString()).toBe('2024-02-29T23:59:00.000Z');
    for (const bad of ['24:00', '9:00', '09:60', '09:00:00', '', 'noon']) {
      expectCode(() => shanghaiInstant('2023-02-06', bad), 'invalid-date');
    }
    expectCode(() => shanghaiInstant('2023-02-29', '09:00'), 'invalid-date');
  });

  it('takes the Shanghai calendar date of an instant', () => {
    expect(shanghaiDateOf(new Date('2023-02-06T16:30:00Z'))).toBe('2023-02-07');
    expect(shanghaiDateOf(new Date('2023-02-06T15:59:59.999Z'))).toBe('2023-02-06');
    expect(shanghaiDateOf(new Date('2023-02-06T16:00:00Z'))).toBe('2023-02-07');
    expect(shanghaiDateOf(shanghaiInstant('2023-01-01', '00:00'))).toBe('2023-01-01');
  });

  it('parses ISO 8601 instants with an explicit offset', () => {
    const t = '2023-02-06T10:00:00.000Z';
    expect(parseInstant('2023-02-06T10:00:00Z').toISOString()).toBe(t);
    expect(parseInstant('2023-02-06T18:00:00+08:00').toISOString()).toBe(t);
    expect(parseInstant('2023-02-06T18:00+08:00').toISOString()).toBe(t);
    expect(parseInstant('2023-02-06T05:00:00-05:00').toISOString()).toBe(t);
    expect(parseInstant('2023-02-06T10:00:00.123456Z').toISOString()).toBe('2023-02-06T10:00:00.123Z');
    expect(parseInstant('2023-02-06T10:00:00.5+00:00').toISOString()).toBe('2023-02-06T10:00:00.500Z');
    expect(parseInstant('2023-01-01T01:00:00+14:00').toISOString()).toBe('2022-12-31T11:00:00.000Z');
    const now = new Date('2024-02-29T12:34:56Z');
    expect(parseInstant(toShanghaiIso(now)).getTime()).toBe(now.getTime());
  });

  it('rejects garbage and offset-less instants', () => {
    const bad = [
      '',
      'abc',
      '2023-02-06',
      '2023-02-06T18:00:00',
      '2023-02-06 18:00:00+08:00',
      '2023-02-06T18:00:00+0800',
      '2023-02-06T18:00:00+8:00',
      '2023-02-06T24:00:00Z',
      '2023-02-06T18:60:00Z',
      '2023-02-06T18:00:60Z',
      '2023-02-30T18:00:00Z',
      '2023-2-6T18:00:00Z',
      '2023-02-06T18:00:00Zjunk',
      'Mon, 06 Feb 2023 10:00:00 GMT',
    ];
    for (const s of bad) expectCode(() => parseInstant(s), 'invalid-date');
    const e = expectCode(() => parseInstant('2023-02-06T18:00:00'), 'invalid-date');
    expect(e.message).toContain('2023-02-06T18:00:00');
    expect(e.messageZh).toContain('时间无效');
  });
});

describe('performance', () => {
  it('answers isWorkday in O(1) after the first call', () => {
    const dates = datesFrom('2023-01-01', '2023-12-31');
    isWorkday('2023-01-01');
    const started = performance.now();
    let count = 0;
    for (let i = 0; i < 500_000; i++) if (isWorkday(dates[i % dates.length] ?? '2023-01-01')) count++;
    expect(count).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
