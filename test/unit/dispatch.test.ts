import { describe, expect, it } from 'vitest';
import { cycleExecutionName, cyclesStartingBy } from '../../functions/core/dispatch.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { dutySchema, type Duty } from '../../workflows/catalog/schema.ts';

const catalog = loadCatalog();
const duties = catalog.duties;
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

const keysBy = (asOf: string, list: readonly Duty[] = duties) =>
  Object.fromEntries(cyclesStartingBy(list, new Date(asOf)).map((c) => [c.dutyId, c.periodKey]));
const byCadence = (kind: Duty['cadence']['kind']) =>
  duties.filter((d) => d.cadence.kind === kind).map((d) => d.id);

describe('cyclesStartingBy', () => {
  it('on Monday 2023-02-06 starts the week, the month, the day and the year of every non-seasonal duty', () => {
    const starts = cyclesStartingBy(duties, new Date('2023-02-06T00:00:00+08:00'));
    const keys = Object.fromEntries(starts.map((c) => [c.dutyId, c.periodKey]));
    expect(keys['risk-prejudgment-weekly']).toBe('2023-W06');
    expect(keys['monthly-safety-meeting']).toBe('2023-02');
    expect(keys['risk-prejudgment-daily']).toBe('2023-02-06');
    expect(keys['year-end-safety-report']).toBe('2023');
    for (const id of byCadence('weekly')) expect(keys[id]).toBe('2023-W06');
    for (const id of byCadence('monthly')) expect(keys[id]).toBe('2023-02');
    for (const id of byCadence('daily')) expect(keys[id]).toBe('2023-02-06');
    for (const id of byCadence('yearly')) expect(keys[id]).toBe('2023');
    // No seasonal window is open in February; everything else is.
    for (const id of byCadence('seasonal')) expect(keys[id]).toBeUndefined();
    expect(starts.length).toBe(duties.length - byCadence('seasonal').length);
    for (const c of starts) expect(c.executionName).toBe(cycleExecutionName(c.dutyId, c.periodKey));
  });

  it('takes the day in Asia/Shanghai, not UTC', () => {
    // 2023-02-05T16:00Z is already Monday 00:00 in Shanghai; one second earlier is still Sunday (week 5).
    expect(keysBy('2023-02-05T16:00:00Z')['risk-prejudgment-daily']).toBe('2023-02-06');
    expect(keysBy('2023-02-05T16:00:00Z')['risk-prejudgment-weekly']).toBe('2023-W06');
    expect(keysBy('2023-02-05T15:59:59Z')['risk-prejudgment-daily']).toBe('2023-02-05');
    expect(keysBy('2023-02-05T15:59:59Z')['risk-prejudgment-weekly']).toBe('2023-W05');
  });

  it('uses the ISO week-numbering year around New Year', () => {
    expect(keysBy('2024-12-30T09:00:00+08:00')['risk-prejudgment-weekly']).toBe('2025-W01');
    expect(keysBy('2023-01-01T09:00:00+08:00')['risk-prejudgment-weekly']).toBe('2022-W52');
  });

  it('starts a seasonal duty only inside its window, keyed by the year', () => {
    // 防灾减灾宣传周: the Saturday-to-Friday week containing 12 May, 05-06..05-12 in 2023, both ends included.
    const prevention = 'disaster-prevention-week-activities';
    expect(keysBy('2023-05-05T23:59:59+08:00')[prevention]).toBeUndefined();
    expect(keysBy('2023-05-06T00:00:00+08:00')[prevention]).toBe('2023');
    expect(keysBy('2023-05-05T16:00:00Z')[prevention]).toBe('2023');
    expect(keysBy('2023-05-12T23:59:59+08:00')[prevention]).toBe('2023');
    expect(keysBy('2023-05-13T00:00:00+08:00')[prevention]).toBeUndefined();

    // The week moves with the year: 11 to 17 May in 2024.
    expect(keysBy('2024-05-10T23:59:59+08:00')[prevention]).toBeUndefined();
    expect(keysBy('2024-05-11T00:00:00+08:00')[prevention]).toBe('2024');
    expect(keysBy('2024-05-17T23:59:59+08:00')[prevention]).toBe('2024');
    expect(keysBy('2024-05-18T00:00:00+08:00')[prevention]).toBeUndefined();

    const june = keysBy('2023-06-15T09:00:00+08:00');
    expect(june['safety-month-activities']).toBe('2023');
    expect(june['geohazard-freeze-thaw-prevention']).toBeUndefined();
    expect(june[prevention]).toBeUndefined();
    // The flood-season geohazard check is done before the season opens on 1 June: its window is May.
    expect(june['geohazard-flood-season-prevention']).toBeUndefined();
    expect(keysBy('2023-05-01T00:00:00+08:00')['geohazard-flood-season-prevention']).toBe('2023');
    expect(keysBy('2024-03-01T00:00:00+08:00')['geohazard-freeze-thaw-prevention']).toBe('2024');
  });

  it('starts a recurring ad-hoc duty only between its dates, and never a period due before its first date', () => {
    const monthly = dutySchema.parse({
      ...catalog.require('monthly-safety-meeting'),
      id: 'adhoc-monthly',
      deadline: { type: 'after-period-start', days: 14, time: '17:00' },
      nonWorkdayPolicy: 'previous-workday',
      activeDates: { from: '2023-06-20', until: '2023-08-31' },
      adhoc: { changes: [] },
    });
    const at = (iso: string) => keysBy(iso, [monthly])['adhoc-monthly'];
    expect(at('2023-06-19T09:00:00+08:00')).toBeUndefined();
    // June's report was due on the 15th, before the duty began.
    expect(at('2023-06-20T09:00:00+08:00')).toBeUndefined();
    expect(at('2023-07-01T09:00:00+08:00')).toBe('2023-07');
    expect(at('2023-08-31T09:00:00+08:00')).toBe('2023-08');
    expect(at('2023-09-01T09:00:00+08:00')).toBeUndefined();
  });

  it('skips disabled duties', () => {
    const weekly = catalog.require('risk-prejudgment-weekly');
    const monthly = catalog.require('monthly-safety-meeting');
    const list = [{ ...weekly, enabled: false }, monthly];
    expect(cyclesStartingBy(list, new Date('2023-02-06T09:00:00+08:00'))).toEqual([
      {
        dutyId: 'monthly-safety-meeting',
        periodKey: '2023-02',
        executionName: 'monthly-safety-meeting_2023-02',
      },
    ]);
    expect(cyclesStartingBy([], new Date('2023-02-06T09:00:00+08:00'))).toEqual([]);
  });
});

describe('cycleExecutionName', () => {
  it('derives the name from duty and period, with a suffix for later generations', () => {
    expect(cycleExecutionName('risk-prejudgment-weekly', '2023-W06')).toBe(
      'risk-prejudgment-weekly_2023-W06',
    );
    expect(cycleExecutionName('risk-prejudgment-weekly', '2023-W06', 1)).toBe(
      'risk-prejudgment-weekly_2023-W06',
    );
    expect(cycleExecutionName('year-end-safety-report', '2023', 2)).toBe('year-end-safety-report_2023_g2');
  });

  it('gives valid, distinct Step Functions names for every built-in duty', () => {
    const names = new Set<string>();
    for (const asOf of [
      '2023-02-06T09:00:00+08:00',
      '2023-05-08T09:00:00+08:00',
      '2023-06-15T09:00:00+08:00',
      '2024-03-01T09:00:00+08:00',
    ]) {
      for (const c of cyclesStartingBy(duties, new Date(asOf))) {
        expect(c.executionName).toMatch(EXECUTION_NAME);
        names.add(c.executionName);
      }
    }
    for (const duty of duties) {
      for (const key of ['2023', '2023-12', '2023-W52', '2023-12-31', '2023-Q4']) {
        expect(cycleExecutionName(duty.id, key, 9)).toMatch(EXECUTION_NAME);
      }
    }
    // Names of different cycles never collide.
    const all = duties.flatMap((d) =>
      ['2023', '2023-W06', '2023-02', '2023-02-06'].map((k) => cycleExecutionName(d.id, k)),
    );
    expect(new Set(all).size).toBe(all.length);
    expect(names.size).toBeGreaterThan(duties.length);
  });
});
