import { describe, expect, it } from 'vitest';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import {
  DeliveryPolicyError,
  DeliverySchedule,
  loadDeliveryPolicy,
  parseDeliveryPolicy,
} from '../../workflows/delivery/policy.ts';

const schedule = new DeliverySchedule(loadDeliveryPolicy());
const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : toShanghaiIso(new Date(ms)));

describe('the default delivery policy', () => {
  it('is the documented one: 09:00 and 14:30 on working days, quiet from 20:00 to 08:00', () => {
    expect(loadDeliveryPolicy()).toEqual({
      routineMoments: ['09:00', '14:30'],
      quietHours: { from: '20:00', until: '08:00' },
      prepareLeadMinutes: 10,
      reminderMinimumLeadMinutes: 60,
      reminderMoment: 'first-of-day',
    });
  });

  it('sends routine mail on working days of the official calendar only, in office hours', () => {
    expect(schedule.allows(t('2023-02-06T09:00:00+08:00'), 'routine')).toBe(true);
    expect(schedule.allows(t('2023-02-06T20:00:00+08:00'), 'routine')).toBe(false);
    expect(schedule.allows(t('2023-02-06T07:59:00+08:00'), 'routine')).toBe(false);
    // Sunday, and May Day; Saturday 6 May 2023 is a working day in lieu of the holiday.
    expect(schedule.allows(t('2023-02-05T10:00:00+08:00'), 'routine')).toBe(false);
    expect(schedule.allows(t('2023-05-01T10:00:00+08:00'), 'routine')).toBe(false);
    expect(schedule.allows(t('2023-05-06T10:00:00+08:00'), 'routine')).toBe(true);
    // Urgent mail goes any day but never in quiet hours; immediate mail always.
    expect(schedule.allows(t('2023-02-05T10:00:00+08:00'), 'urgent')).toBe(true);
    expect(schedule.allows(t('2023-02-05T22:00:00+08:00'), 'urgent')).toBe(false);
    expect(schedule.allows(t('2023-02-05T22:00:00+08:00'), 'immediate')).toBe(true);
  });

  it('holds what may not go now until the next time it may', () => {
    // Routine mail held over the May Day holiday goes at the first routine moment after it.
    expect(iso(schedule.nextAllowed(t('2023-04-28T21:00:00+08:00'), 'routine'))).toBe(
      '2023-05-04T09:00:00+08:00',
    );
    expect(iso(schedule.nextAllowed(t('2023-02-06T10:13:00+08:00'), 'routine'))).toBe(
      '2023-02-06T10:13:00+08:00',
    );
    expect(iso(schedule.nextAllowed(t('2023-02-05T23:30:00+08:00'), 'urgent'))).toBe(
      '2023-02-06T08:00:00+08:00',
    );
  });
});

describe('where the catalog offsets land', () => {
  const deadline = t('2023-05-31T18:00:00+08:00');
  const opens = t('2023-01-01T00:00:00+08:00');

  it("a reminder goes at its day's first routine moment: one morning email with the day's reminders", () => {
    expect(iso(schedule.placeReminder(t('2023-02-06T10:00:00+08:00'), deadline, opens)?.at)).toBe(
      '2023-02-06T09:00:00+08:00',
    );
    expect(iso(schedule.placeReminder(t('2023-02-06T16:00:00+08:00'), deadline, opens)?.at)).toBe(
      '2023-02-06T09:00:00+08:00',
    );
    // Before that day's first moment: the latest moment before it, here the previous working day's afternoon.
    expect(iso(schedule.placeReminder(t('2023-02-07T08:30:00+08:00'), deadline, opens)?.at)).toBe(
      '2023-02-06T14:30:00+08:00',
    );
    // On May Day (a holiday), to the last working day's afternoon moment before it.
    expect(schedule.placeReminder(t('2023-05-01T09:00:00+08:00'), deadline, opens)).toEqual({
      at: t('2023-04-28T14:30:00+08:00'),
      urgency: 'routine',
    });
    // Never before the window opens: a window opening at noon takes the afternoon moment.
    expect(
      iso(
        schedule.placeReminder(t('2023-02-06T16:00:00+08:00'), deadline, t('2023-02-06T12:00:00+08:00'))?.at,
      ),
    ).toBe('2023-02-06T14:30:00+08:00');
  });

  it('with `reminderMoment: latest`, at the latest routine moment at or before the catalog instant', () => {
    const latest = new DeliverySchedule({ ...loadDeliveryPolicy(), reminderMoment: 'latest' });
    expect(iso(latest.placeReminder(t('2023-02-06T10:00:00+08:00'), deadline, opens)?.at)).toBe(
      '2023-02-06T09:00:00+08:00',
    );
    expect(iso(latest.placeReminder(t('2023-02-06T16:00:00+08:00'), deadline, opens)?.at)).toBe(
      '2023-02-06T14:30:00+08:00',
    );
  });

  it('never before the window opens: then the first routine moment that leaves time before the deadline', () => {
    const monday = t('2023-02-06T00:00:00+08:00');
    expect(
      schedule.placeReminder(t('2023-02-06T08:00:00+08:00'), t('2023-02-06T10:00:00+08:00'), monday),
    ).toEqual({ at: t('2023-02-06T09:00:00+08:00'), urgency: 'routine' });
  });

  it('urgently when no routine moment can reach the reader in time (a Sunday daily duty)', () => {
    const sunday = t('2023-02-05T00:00:00+08:00');
    expect(
      schedule.placeReminder(t('2023-02-05T08:00:00+08:00'), t('2023-02-05T10:00:00+08:00'), sunday),
    ).toEqual({ at: t('2023-02-05T08:00:00+08:00'), urgency: 'urgent' });
    // Out of quiet hours: a 07:00 reminder goes at 08:00.
    expect(
      schedule.placeReminder(t('2023-02-05T07:00:00+08:00'), t('2023-02-05T10:00:00+08:00'), sunday),
    ).toEqual({ at: t('2023-02-05T08:00:00+08:00'), urgency: 'urgent' });
    // Nothing can reach anyone before a 07:30 deadline: no reminder at all.
    expect(
      schedule.placeReminder(t('2023-02-05T05:30:00+08:00'), t('2023-02-05T07:30:00+08:00'), sunday),
    ).toBeUndefined();
  });

  it('escalations wait for the next routine moment: never in the evening or on a rest day', () => {
    expect(iso(schedule.placeEscalation(t('2023-02-06T20:00:00+08:00')).at)).toBe(
      '2023-02-07T09:00:00+08:00',
    );
    expect(iso(schedule.placeEscalation(t('2023-02-10T20:00:00+08:00')).at)).toBe(
      '2023-02-13T09:00:00+08:00',
    );
    expect(iso(schedule.placeEscalation(t('2023-02-06T12:00:00+08:00')).at)).toBe(
      '2023-02-06T14:30:00+08:00',
    );
    expect(iso(schedule.placeEscalation(t('2023-09-28T20:00:00+08:00')).at)).toBe(
      '2023-10-07T09:00:00+08:00',
    );
  });

  it('is prepared ten minutes before its moment', () => {
    expect(iso(schedule.prepareAt(t('2023-02-06T09:00:00+08:00')))).toBe('2023-02-06T08:50:00+08:00');
  });
});

describe('a deployment policy file', () => {
  it('is validated, naming every problem in Chinese', () => {
    expect(() =>
      parseDeliveryPolicy(
        {
          routineMoments: ['14:30', '09:00', '21:00'],
          quietHours: { from: '20:00', until: '8:00' },
          prepareLeadMinutes: 0,
          reminderMinimumLeadMinutes: 60,
        },
        'policy.json',
      ),
    ).toThrowError(DeliveryPolicyError);
    const problems = (raw: unknown) => {
      try {
        parseDeliveryPolicy(raw, 'p.json');
      } catch (err) {
        return (err as DeliveryPolicyError).messageZh;
      }
      return '';
    };
    expect(problems({ routineMoments: ['21:00'], quietHours: { from: '20:00', until: '08:00' } })).toBe(
      '投递策略 p.json 校验未通过：字段 prepareLeadMinutes：应为数字；字段 reminderMinimumLeadMinutes：应为数字',
    );
    expect(
      problems({
        routineMoments: ['09:00', '21:00'],
        quietHours: { from: '20:00', until: '08:00' },
        prepareLeadMinutes: 10,
        reminderMinimumLeadMinutes: 60,
      }),
    ).toBe('投递策略 p.json 校验未通过：字段 routineMoments.1：不能落在免打扰时段内');
  });

  it('can move the moments: one morning moment only', () => {
    const morning = new DeliverySchedule(
      parseDeliveryPolicy(
        {
          routineMoments: ['08:30'],
          quietHours: { from: '19:00', until: '07:30' },
          prepareLeadMinutes: 5,
          reminderMinimumLeadMinutes: 120,
        },
        'morning.json',
      ),
    );
    expect(iso(morning.placeEscalation(t('2023-02-06T12:00:00+08:00')).at)).toBe('2023-02-07T08:30:00+08:00');
  });
});
