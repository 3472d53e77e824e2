import { describe, expect, it } from 'vitest';
import { CalendarError, addDays, dayOfWeek, isWorkday } from '../../workflows/calendar.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { dutySchema, type Duty, type DutyInput } from '../../workflows/catalog/schema.ts';
import { planCycle } from '../../workflows/plan.ts';

const catalog = loadCatalog();
const MEETING = catalog.require('monthly-safety-meeting');
const WEEKLY = catalog.require('risk-prejudgment-weekly');
const YEAR_END = catalog.require('year-end-safety-report');

const stageTimes = (duty: Duty, key: string) =>
  Object.fromEntries(planCycle(duty, key).stages.map((s) => [s.id, s.at]));

function calendarError(fn: () => unknown): CalendarError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CalendarError);
    return e as CalendarError;
  }
  throw new Error('expected a CalendarError');
}

/** A duty built from the weekly one with some fields replaced, validated like a catalog entry. */
function variant(overrides: Partial<DutyInput>): Duty {
  return dutySchema.parse({ ...WEEKLY, id: 'test-variant', ...overrides });
}

describe('monthly safety meeting, 2023-09 (last working day)', () => {
  const plan = planCycle(MEETING, '2023-09');

  it('is due on Thursday 28 September at 18:00, since the 29th and 30th are holidays', () => {
    expect(isWorkday('2023-09-29')).toBe(false);
    expect(isWorkday('2023-09-30')).toBe(false);
    expect(plan.deadline).toBe('2023-09-28T18:00:00+08:00');
    // The rule itself lands on a working day, so the non-working-day policy did not move it.
    expect(plan.deadlineAdjusted).toBeUndefined();
    expect(plan.window).toEqual({
      opensAt: '2023-09-01T00:00:00+08:00',
      closesAt: '2023-10-01T00:00:00+08:00',
    });
    expect(plan.verified).toBe(true);
    expect(plan.warnings).toEqual([]);
  });

  it('counts working days over the National Day holiday, make-up days included', () => {
    expect(stageTimes(MEETING, '2023-09')).toEqual({
      'reminder-1': '2023-09-25T09:00:00+08:00',
      'reminder-2': '2023-09-27T09:00:00+08:00',
      // 7 and 8 October 2023 are a Saturday and a Sunday worked in lieu of the holiday.
      'escalation-1': '2023-10-07T09:00:00+08:00',
      'escalation-2': '2023-10-08T09:00:00+08:00',
      'escalation-3': '2023-10-10T09:00:00+08:00',
      'escalation-4': '2023-10-12T09:00:00+08:00',
      'escalation-5': '2023-10-16T09:00:00+08:00',
    });
  });
});

describe('weekly risk pre-judgment across the turn of the year', () => {
  it('2023-W52 runs Monday 25 December to Sunday 31 December, due on the Monday', () => {
    const plan = planCycle(WEEKLY, '2023-W52');
    expect(plan.period).toEqual({ kind: 'weekly', key: '2023-W52', start: '2023-12-25', end: '2023-12-31' });
    expect(plan.window).toEqual({
      opensAt: '2023-12-25T00:00:00+08:00',
      closesAt: '2024-01-01T00:00:00+08:00',
    });
    expect(plan.deadline).toBe('2023-12-25T18:00:00+08:00');
    // The catalog's 10:00 and 16:00 reminders both go at the day's first routine moment: one reminder.
    expect(stageTimes(WEEKLY, '2023-W52')).toEqual({
      'reminder-2': '2023-12-25T09:00:00+08:00',
      'escalation-1': '2023-12-26T09:00:00+08:00',
      'escalation-2': '2023-12-27T09:00:00+08:00',
      'escalation-3': '2023-12-29T09:00:00+08:00',
    });
  });

  it('2024-W01 starts on New Year’s Day, a holiday: the deadline moves to Tuesday 2 January', () => {
    const plan = planCycle(WEEKLY, '2024-W01');
    expect(plan.period).toEqual({ kind: 'weekly', key: '2024-W01', start: '2024-01-01', end: '2024-01-07' });
    expect(plan.window.opensAt).toBe('2024-01-01T00:00:00+08:00');
    expect(plan.deadline).toBe('2024-01-02T18:00:00+08:00');
    expect(plan.deadlineAdjusted).toEqual({ ruleDate: '2024-01-01', policy: 'next-workday' });
    expect(stageTimes(WEEKLY, '2024-W01')).toEqual({
      'reminder-2': '2024-01-02T09:00:00+08:00',
      'escalation-1': '2024-01-03T09:00:00+08:00',
      'escalation-2': '2024-01-04T09:00:00+08:00',
      'escalation-3': '2024-01-08T09:00:00+08:00',
    });
  });

  it('the two weeks meet without a gap', () => {
    const w52 = planCycle(WEEKLY, '2023-W52');
    const w01 = planCycle(WEEKLY, '2024-W01');
    expect(w52.window.closesAt).toBe(w01.window.opensAt);
    expect(addDays(w52.period.end, 1)).toBe(w01.period.start);
  });

  it('2023 has no week 53', () => {
    expect(calendarError(() => planCycle(WEEKLY, '2023-W53')).code).toBe('invalid-period');
    expect(planCycle(WEEKLY, '2020-W53').period).toMatchObject({ start: '2020-12-28', end: '2021-01-03' });
  });
});

describe('year-end safety report (fixed date 12-31)', () => {
  it('moves a Sunday deadline to the previous working day', () => {
    expect(dayOfWeek('2023-12-31')).toBe(7);
    const plan = planCycle(YEAR_END, '2023');
    expect(plan.deadline).toBe('2023-12-29T18:00:00+08:00');
    expect(plan.deadlineAdjusted).toEqual({ ruleDate: '2023-12-31', policy: 'previous-workday' });
    expect(plan.window).toEqual({
      opensAt: '2023-01-01T00:00:00+08:00',
      closesAt: '2024-01-01T00:00:00+08:00',
    });
    expect(stageTimes(YEAR_END, '2023')).toMatchObject({
      'reminder-1': '2023-11-29T09:00:00+08:00', // 30 calendar days before the moved deadline
      'reminder-4': '2023-12-28T09:00:00+08:00',
      'escalation-1': '2024-01-02T09:00:00+08:00', // New Year's Day is not a working day
    });
  });

  it('keeps a working-day deadline where the rule puts it', () => {
    const plan = planCycle(YEAR_END, '2024'); // a Tuesday
    expect(plan.deadline).toBe('2024-12-31T18:00:00+08:00');
    expect(plan.deadlineAdjusted).toBeUndefined();
  });
});

describe('a deadline moved off a rest day stays in its period', () => {
  it('a weekly Monday deadline on the National Day Monday goes to the next working day, the 调休 Saturday', () => {
    const monday = variant({
      deadline: { type: 'after-period-start', days: 0, time: '17:00' },
      nonWorkdayPolicy: 'previous-workday',
    });
    const plan = planCycle(monday, '2023-W40');
    expect(plan.deadline).toBe('2023-10-07T17:00:00+08:00');
    expect(plan.deadlineAdjusted).toEqual({ ruleDate: '2023-10-02', policy: 'next-workday' });
  });
});

describe('stage order', () => {
  const cases: [string, string][] = [
    ['monthly-safety-meeting', '2023-09'],
    ['risk-prejudgment-weekly', '2023-W06'],
    ['year-end-safety-report', '2023'],
    ['risk-prejudgment-daily', '2023-02-06'],
    ['safety-month-activities', '2023'],
  ];

  it.each(cases)('%s %s: reminders, then the deadline, then escalations by level', (dutyId, key) => {
    const duty = catalog.require(dutyId);
    const plan = planCycle(duty, key);
    const times = plan.stages.map((s) => Date.parse(s.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const deadline = Date.parse(plan.deadline);
    const reminders = plan.stages.filter((s) => s.kind === 'reminder');
    const escalations = plan.stages.filter((s) => s.kind === 'escalation');
    // Reminders that land on one day's first moment are one reminder (the delivery policy's first-of-day).
    expect(reminders.length).toBeGreaterThanOrEqual(1);
    expect(reminders.length).toBeLessThanOrEqual(duty.reminders.length);
    expect(new Set(reminders.map((r) => r.at)).size).toBe(reminders.length);
    for (const r of reminders) {
      expect(Date.parse(r.at)).toBeLessThan(deadline);
      expect(r.addressed).toEqual(['contact']);
    }
    for (const e of escalations) expect(Date.parse(e.at)).toBeGreaterThan(deadline);
    expect(escalations.map((e) => e.id)).toEqual(duty.escalation.map((e) => `escalation-${e.level}`));
    expect(escalations.map((e) => e.addressed)).toEqual(duty.escalation.map((e) => e.notify));
    // Checkpoints fall among the reminders, before the deadline (the year-end report's on 1 December).
    const checkpoints = plan.stages.filter((s) => s.kind === 'checkpoint');
    expect(checkpoints.map((c) => c.id)).toEqual(duty.checkpoints.map((_c, i) => `checkpoint-${i + 1}`));
    for (const c of checkpoints) expect(Date.parse(c.at)).toBeLessThan(deadline);
    expect(plan.stages.filter((s) => s.kind !== 'checkpoint').map((s) => s.kind)).toEqual([
      ...reminders.map(() => 'reminder'),
      ...escalations.map(() => 'escalation'),
    ]);
    for (const s of plan.stages) expect(s.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+08:00$/);
  });
});

describe('determinism', () => {
  it('gives deep-equal plans for the same input', () => {
    for (const [duty, key] of [
      [MEETING, '2023-09'],
      [WEEKLY, '2024-W01'],
      [YEAR_END, '2023'],
      [MEETING, '2027-03'],
    ] as const) {
      const a = planCycle(duty, key);
      const b = planCycle(duty, key);
      expect(a).toEqual(b);
      expect(a).not.toBe(b);
      expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    }
  });
});

describe('years without official holiday data', () => {
  it('2027 is planned Monday–Friday, flagged unverified with a warning', () => {
    const plan = planCycle(MEETING, '2027-03');
    expect(plan.verified).toBe(false);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toContain('2027');
    expect(plan.deadline).toBe('2027-03-31T18:00:00+08:00');
  });

  it('a 2026 cycle whose escalations run into 2027 is flagged too', () => {
    const plan = planCycle(YEAR_END, '2026');
    expect(plan.deadline).toBe('2026-12-31T18:00:00+08:00');
    expect(plan.verified).toBe(false);
    expect(plan.warnings.join()).toContain('2027');
  });

  it('a covered year is verified', () => {
    expect(planCycle(MEETING, '2026-03')).toMatchObject({ verified: true, warnings: [] });
  });
});

describe('bad period keys', () => {
  it.each(['', 'garbage', '2023-13', '2023-02-30', '2023-W00', '2023-W6', '2023/02'])('rejects %j', (key) => {
    const err = calendarError(() => planCycle(MEETING, key));
    expect(err.code).toBe('invalid-period');
    expect(err.messageZh).toContain('周期编号无效');
  });

  it('rejects a key of the wrong kind for the duty', () => {
    expect(calendarError(() => planCycle(WEEKLY, '2023-02-06')).code).toBe('invalid-period');
    expect(calendarError(() => planCycle(WEEKLY, '2023-02')).code).toBe('invalid-period');
    expect(calendarError(() => planCycle(MEETING, '2023-W06')).code).toBe('invalid-period');
    // A seasonal duty's period is the year.
    expect(calendarError(() => planCycle(catalog.require('safety-month-activities'), '2023-06')).code).toBe(
      'invalid-period',
    );
  });
});

describe('reminders never come before the window opens', () => {
  it('holds for every built-in duty over two years of periods', () => {
    const keysFor = (duty: Duty): string[] => {
      const kind = duty.cadence.kind;
      if (kind === 'yearly' || kind === 'seasonal') return ['2023', '2024', '2025'];
      if (kind === 'quarterly') return ['2023', '2024'].flatMap((y) => [1, 2, 3, 4].map((q) => `${y}-Q${q}`));
      if (kind === 'monthly')
        return Array.from(
          { length: 24 },
          (_, i) => `${2023 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`,
        );
      if (kind === 'weekly')
        return Array.from(
          { length: 104 },
          (_, i) => `${2023 + Math.floor(i / 52)}-W${String((i % 52) + 1).padStart(2, '0')}`,
        );
      const days: string[] = [];
      for (let d = '2023-01-01'; d <= '2024-12-31'; d = addDays(d, 1)) days.push(d);
      return days;
    };
    let checked = 0;
    for (const duty of catalog.duties) {
      for (const key of keysFor(duty)) {
        const plan = planCycle(duty, key);
        const opens = Date.parse(plan.window.opensAt);
        for (const s of plan.stages)
          expect(Date.parse(s.at), `${duty.id} ${key} ${s.id}`).toBeGreaterThanOrEqual(opens);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('moves early reminders to the opening and out of quiet hours, and merges those that land together', () => {
    const duty = variant({
      deadline: { type: 'after-period-start', days: 0, time: '09:00' },
      reminders: [
        { amount: -3, unit: 'days', at: '09:00' },
        { amount: -1, unit: 'days', at: '09:00' },
        { amount: -2, unit: 'hours' },
      ],
    });
    const plan = planCycle(duty, '2023-W06');
    const reminders = plan.stages.filter((s) => s.kind === 'reminder');
    // All three would come before the 09:00 deadline with no routine moment left in time: they go urgently at the
    // end of the quiet hours, as one reminder that says it is the last.
    expect(reminders).toEqual([
      {
        id: 'reminder-3',
        kind: 'reminder',
        level: 3,
        at: '2023-02-06T08:00:00+08:00',
        urgency: 'urgent',
        prepareAt: '2023-02-06T07:50:00+08:00',
        catalogAt: '2023-02-06T07:00:00+08:00',
        addressed: ['contact'],
      },
    ]);
  });
});

describe('a daily duty summed up for 安委办 (rollup)', () => {
  it('plans the roll-up on the next working day at 09:00, to 安委办, after the escalations of that moment', () => {
    const duty = loadCatalog().require('hazard-daily-report');
    // Friday 7 July 2023: summed up on Monday 10 July.
    const plan = planCycle(duty, '2023-07-07');
    const rollup = plan.stages.find((s) => s.kind === 'rollup');
    expect(rollup).toMatchObject({
      id: 'rollup',
      at: '2023-07-10T09:00:00+08:00',
      urgency: 'routine',
      addressed: ['safety-office'],
    });
    expect(plan.stages.at(-1)?.kind).toBe('rollup');
  });

  it('refuses a roll-up on a duty that is not daily, or summing a field the form does not have as a number', () => {
    const duty = loadCatalog().require('hazard-daily-report');
    const base = JSON.parse(JSON.stringify(duty)) as Record<string, unknown>;
    const monthly = dutySchema.safeParse({ ...base, cadence: { kind: 'monthly' } });
    expect(monthly.success).toBe(false);
    expect(JSON.stringify(monthly.error?.issues)).toContain('daily duties only');
    const wrongField = dutySchema.safeParse({
      ...base,
      rollup: { ...(base.rollup as object), sumField: 'areas' },
    });
    expect(JSON.stringify(wrongField.error?.issues)).toContain("must name a number field of the duty's form");
  });
});
