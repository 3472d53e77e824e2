import { afterEach, describe, expect, it } from 'vitest';
import example from '../../examples/holiday-arrangement-example.json' with { type: 'json' };
import { arrangementSchema, checkArrangement } from '../../workflows/calendar-arrangement.ts';
import {
  CalendarError,
  addWorkdays,
  checkWorkday,
  festivalRest,
  hasOfficialData,
  isWorkday,
  setLoadedYears,
} from '../../workflows/calendar.ts';
import { planCycle } from '../../workflows/plan.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';

const arrangement = () => arrangementSchema.parse(structuredClone(example));

afterEach(() => setLoadedYears([]));

describe('a year loaded from the State Council arrangement', () => {
  it('is refused until loaded, then answers like a built-in year', () => {
    expect(hasOfficialData(2027)).toBe(false);
    expect(() => isWorkday('2027-01-04')).toThrow(CalendarError);
    const checked = checkArrangement(arrangement());
    if (checked.issues) throw new Error(JSON.stringify(checked.issues));
    setLoadedYears([checked.year]);
    expect(hasOfficialData(2027)).toBe(true);
    expect(checkWorkday('2027-02-08')).toEqual({
      workday: false,
      verified: true,
      reason: '法定节假日：春节',
    });
    expect(checkWorkday('2027-02-14')).toEqual({ workday: true, verified: true, reason: '调休上班：春节' });
    expect(isWorkday('2027-01-04')).toBe(true);
    // Working days run across the year boundary and through the loaded festivals.
    expect(addWorkdays('2026-12-31', 1)).toBe('2027-01-04');
    expect(festivalRest(2027, 'National Day')).toEqual({ start: '2027-10-01', end: '2027-10-07' });
    // A plan for a 2027 period is verified once the year is there.
    const duty = loadCatalog().require('monthly-safety-meeting');
    expect(planCycle(duty, '2027-01').verified).toBe(true);
    setLoadedYears([]);
    expect(hasOfficialData(2027)).toBe(false);
    expect(planCycle(duty, '2027-01').verified).toBe(false);
    expect(planCycle(duty, '2027-01').warnings).toEqual([
      '2027 年的节假日安排尚未载入系统，涉及该年的日期暂按周一至周五推算（未核实），载入后可能调整',
    ]);
  });

  it('lists every problem of an arrangement at once, by field, in Chinese', () => {
    const a = arrangement();
    a.festivals = a.festivals.filter((f) => f.name !== '清明' && f.name !== '端午');
    a.festivals[0]!.workdays = ['2027-01-04'];
    a.festivals[1]!.rest = { from: '2027-02-05', to: '2027-02-20' };
    a.festivals.push({ name: '元宵', rest: { from: '2027-02-20', to: '2027-02-20' }, workdays: [] });
    a.festivals.push({
      name: '中秋',
      rest: { from: '2027-09-16', to: '2027-09-16' },
      workdays: ['2026-12-27'],
    });
    const r = checkArrangement(a);
    expect(r.issues).toEqual([
      { field: 'festivals[0].workdays[0]', problem: '2027-01-04 不是周末，调休上班日应为周六或周日' },
      { field: 'festivals[1].rest.to', problem: '放假不应超过10天' },
      { field: 'festivals[5].name', problem: '应为元旦、春节、清明、劳动节、端午、中秋、国庆节之一' },
      { field: 'festivals[6].name', problem: '中秋重复' },
      { field: 'festivals[6].rest', problem: '2027-09-16 已在中秋假期中' },
      { field: 'festivals[6].workdays[0]', problem: '应在 2027 年内' },
      { field: 'festivals', problem: '缺少：清明、端午' },
    ]);
    expect(checkArrangement({ ...arrangement(), year: 2026 }).issues).toContainEqual({
      field: 'year',
      problem: '2026 年的安排已内置在系统中，无需载入',
    });
  });

  it('never replaces a built-in year', () => {
    setLoadedYears([{ year: 2023, source: 'x', holidays: { '2023-03-01': '元旦' }, workdays: {} }]);
    expect(isWorkday('2023-03-01')).toBe(true);
  });
});
