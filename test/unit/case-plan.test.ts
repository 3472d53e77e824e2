import { describe, expect, it } from 'vitest';
import { loadCaseTypes } from '../../workflows/cases/index.ts';
import {
  deadlineFrom,
  escalationLevelOfKey,
  offsetFrom,
  planCase,
  selectDue,
  termFrom,
  type CaseSnapshot,
} from '../../workflows/cases/plan.ts';
import { termMoveZh } from '../../functions/core/cases-messages.ts';
import type { CaseType } from '../../workflows/cases/schema.ts';

const types = loadCaseTypes();
const major = types.get('major-hazard-rectification') as CaseType;
const house = types.get('self-built-house-rectification') as CaseType;

function snapshot(overrides: Partial<CaseSnapshot> = {}): CaseSnapshot {
  return {
    stage: 'awaiting-plan',
    visit: 1,
    stageEnteredAt: '2023-03-06T10:00:00+08:00',
    term: '2023-06-30T18:00:00+08:00',
    termSetAt: '2023-03-06T10:00:00+08:00',
    progressReports: [],
    outbox: [],
    ...overrides,
  };
}

const lines = (plan: ReturnType<typeof planCase>) =>
  plan.steps.map((s) => `${s.at} ${s.kind}-${s.level} ${s.positions.join('+')}`);

describe('deadlines on the official calendar', () => {
  it('counts working days after the entry date', () => {
    expect(
      deadlineFrom({ type: 'workdays-after-entry', n: 10, time: '18:00' }, '2023-03-06T10:00:00+08:00', ''),
    ).toBe('2023-03-20T18:00:00+08:00');
  });

  it('skips the Spring Festival and counts its make-up working weekend', () => {
    // 2023-01-21..27 off; Saturday 28 and Sunday 29 January were working days.
    expect(
      deadlineFrom({ type: 'workdays-after-entry', n: 10, time: '18:00' }, '2023-01-19T15:00:00+08:00', ''),
    ).toBe('2023-02-07T18:00:00+08:00');
    expect(
      deadlineFrom({ type: 'workdays-after-entry', n: 2, time: '18:00' }, '2023-01-19T15:00:00+08:00', ''),
    ).toBe('2023-01-28T18:00:00+08:00');
  });

  it('moves a calendar-day deadline that falls on a rest day to the next working day', () => {
    // 2023-03-06 + 10 days = Thursday 16 March; + 12 days = Saturday 18 March → Monday 20 March.
    expect(
      deadlineFrom({ type: 'days-after-entry', n: 10, time: '18:00' }, '2023-03-06T10:00:00+08:00', ''),
    ).toBe('2023-03-16T18:00:00+08:00');
    expect(
      deadlineFrom({ type: 'days-after-entry', n: 12, time: '18:00' }, '2023-03-06T10:00:00+08:00', ''),
    ).toBe('2023-03-20T18:00:00+08:00');
  });

  it('takes a term as a date (ending at the type time) or as days from opening', () => {
    expect(termFrom(major, { until: '2023-06-30' }, '2023-03-06T10:00:00+08:00')).toEqual({
      term: '2023-06-30T18:00:00+08:00',
    });
    // 2023-03-06 + 90 days = Sunday 4 June → Monday 5 June.
    expect(termFrom(major, { days: 90 }, '2023-03-06T10:00:00+08:00')).toEqual({
      term: '2023-06-05T18:00:00+08:00',
      movedFrom: '2023-06-04',
    });
    // A date on a holiday ends on the next working day: 国庆 2023 ran to 6 October, Saturday 7 October was worked.
    expect(termFrom(major, { until: '2023-10-01' }, '2023-03-06T10:00:00+08:00')).toEqual({
      term: '2023-10-07T18:00:00+08:00',
      movedFrom: '2023-10-01',
    });
    expect(termMoveZh('2023-10-01', '2023-10-07T18:00:00+08:00')).toBe(
      '原定2023年10月1日（法定节假日：国庆节），顺延至2023年10月7日',
    );
  });

  it('names instants relative to a deadline, in working days, days or hours', () => {
    const d = '2023-10-09T18:00:00+08:00'; // Monday after the National Day week (7–8 October were working days)
    expect(offsetFrom(d, { amount: -1, unit: 'workdays', at: '09:00' })).toBe('2023-10-08T09:00:00+08:00');
    expect(offsetFrom(d, { amount: -3, unit: 'workdays', at: '09:00' })).toBe('2023-09-28T09:00:00+08:00');
    expect(offsetFrom(d, { amount: -5, unit: 'workdays' })).toBe('2023-09-26T18:00:00+08:00');
    expect(offsetFrom(d, { amount: 2, unit: 'days' })).toBe('2023-10-11T18:00:00+08:00');
    expect(offsetFrom(d, { amount: -6, unit: 'hours' })).toBe('2023-10-09T12:00:00+08:00');
  });
});

describe('the plan of a major-hazard case', () => {
  it('lists the 五到位 plan stage: reminders before the deadline, the escalation ladder after it', () => {
    const plan = planCase(major, snapshot());
    expect(plan.deadline).toBe('2023-03-20T18:00:00+08:00');
    expect(lines(plan)).toEqual([
      '2023-03-15T09:00:00+08:00 reminder-1 responsible.contact',
      '2023-03-17T09:00:00+08:00 reminder-2 responsible.contact',
      '2023-03-21T09:00:00+08:00 escalation-1 responsible.principal',
      '2023-03-23T09:00:00+08:00 escalation-2 responsible.principal+supervising.principal',
      '2023-03-27T09:00:00+08:00 escalation-3 supervising.principal+leader-in-charge',
      '2023-03-30T09:00:00+08:00 escalation-4 leader-in-charge+safety-office',
    ]);
    expect(plan.verified).toBe(true);
  });

  it('puts the listing notice (双报告) first, for the principal, the staff representative and the department', () => {
    const plan = planCase(
      major,
      snapshot({ outbox: [{ seq: 0, eventId: 'opened', at: '2023-03-06T10:00:00+08:00' }] }),
    );
    expect(plan.steps[0]).toMatchObject({
      key: 'e0.notice',
      kind: 'notice',
      at: '2023-03-06T10:00:00+08:00',
      positions: ['responsible.principal', 'responsible.staff-representative', 'supervising.principal'],
    });
  });

  it('plans the rectification against the term, with progress reports every 30 days before it', () => {
    const plan = planCase(
      major,
      snapshot({ stage: 'rectifying', visit: 2, stageEnteredAt: '2023-03-16T10:00:00+08:00' }),
    );
    expect(plan.deadline).toBe('2023-06-30T18:00:00+08:00');
    // +30 days is Saturday 15 April → Monday 17 April; +60 Monday 15 May; +90 Wednesday 14 June; +120 is past the term.
    expect(plan.progressDues).toEqual([
      '2023-04-17T18:00:00+08:00',
      '2023-05-15T18:00:00+08:00',
      '2023-06-14T18:00:00+08:00',
    ]);
    expect(lines(plan).slice(0, 6)).toEqual([
      '2023-04-13T09:00:00+08:00 reminder-1 responsible.contact',
      '2023-05-11T09:00:00+08:00 reminder-2 responsible.contact',
      '2023-06-12T09:00:00+08:00 reminder-3 responsible.contact',
      '2023-06-15T09:00:00+08:00 reminder-1 responsible.contact',
      '2023-06-27T09:00:00+08:00 reminder-2 responsible.contact',
      '2023-06-29T09:00:00+08:00 reminder-3 responsible.contact',
    ]);
    expect(plan.steps[0]?.key).toBe('v2.rectifying.progress@20230417T1800');
    expect(plan.steps[3]?.key).toBe('v2.rectifying.reminder-1@20230630T1800');
  });

  it('gives acceptance to the department, with its own ladder', () => {
    const plan = planCase(
      major,
      snapshot({ stage: 'awaiting-acceptance', visit: 3, stageEnteredAt: '2023-06-20T10:00:00+08:00' }),
    );
    // 7 working days after Tuesday 20 June across the Dragon Boat Festival (22–24 off, Sunday 25 worked).
    expect(plan.deadline).toBe('2023-06-30T18:00:00+08:00');
    expect(lines(plan)).toEqual([
      '2023-06-28T09:00:00+08:00 reminder-1 supervising.contact',
      '2023-07-03T09:00:00+08:00 escalation-1 supervising.principal',
      '2023-07-05T09:00:00+08:00 escalation-2 supervising.principal+leader-in-charge',
      '2023-07-07T09:00:00+08:00 escalation-3 leader-in-charge+safety-office',
    ]);
  });

  it('runs a pending extension request on its own clock beside the stage', () => {
    const plan = planCase(
      major,
      snapshot({
        stage: 'rectifying',
        visit: 2,
        stageEnteredAt: '2023-03-16T10:00:00+08:00',
        request: { id: 'extension', seq: 4, openedAt: '2023-06-12T10:00:00+08:00' },
      }),
    );
    expect(plan.request).toEqual({ id: 'extension', seq: 4, deadline: '2023-06-15T18:00:00+08:00' });
    expect(plan.steps.filter((s) => s.track === 'request').map((s) => `${s.key} ${s.at}`)).toEqual([
      'v2.extension-4.reminder-1@20230615T1800 2023-06-14T09:00:00+08:00',
      'v2.extension-4.escalation-1@20230615T1800 2023-06-16T09:00:00+08:00',
      'v2.extension-4.escalation-2@20230615T1800 2023-06-19T09:00:00+08:00',
      'v2.extension-4.escalation-3@20230615T1800 2023-06-21T09:00:00+08:00',
    ]);
  });

  it('moves reminders with the term: new keys for the new deadline, none before the change', () => {
    const before = planCase(
      major,
      snapshot({ stage: 'rectifying', visit: 2, stageEnteredAt: '2023-03-16T10:00:00+08:00' }),
    );
    const after = planCase(
      major,
      snapshot({
        stage: 'rectifying',
        visit: 2,
        stageEnteredAt: '2023-03-16T10:00:00+08:00',
        term: '2023-07-14T18:00:00+08:00',
        termSetAt: '2023-07-03T10:00:00+08:00',
      }),
    );
    const stageKeys = (p: typeof before) => p.steps.filter((s) => s.track === 'stage').map((s) => s.key);
    expect(stageKeys(after).some((k) => stageKeys(before).includes(k))).toBe(false);
    // -10 working days (30 June) is before the change: dropped; -3 and -1 remain.
    expect(after.steps.filter((s) => s.track === 'stage' && s.kind === 'reminder').map((s) => s.at)).toEqual([
      '2023-07-11T09:00:00+08:00',
      '2023-07-13T09:00:00+08:00',
    ]);
  });

  it('flags plans that reach years without official holiday data', () => {
    const plan = planCase(major, snapshot({ stage: 'rectifying', term: '2027-03-31T18:00:00+08:00' }));
    expect(plan.verified).toBe(false);
    expect(plan.warnings[0]).toContain('2027');
  });

  it('has a terminal stage with nothing to wait for but its notices', () => {
    const plan = planCase(
      major,
      snapshot({
        stage: 'closed',
        outbox: [{ seq: 7, eventId: 'acceptance-passed', at: '2023-06-25T10:00:00+08:00' }],
      }),
    );
    expect(plan.deadline).toBeUndefined();
    expect(plan.steps.map((s) => `${s.key} ${s.positions.join('+')}`)).toEqual([
      'e7.notice responsible.principal+responsible.staff-representative+supervising.principal',
    ]);
  });

  it('plans a self-built house like a building: 双通知、一报告, 一栋一策 plan, rectification, acceptance', () => {
    expect(house.stages.map((s) => s.id)).toEqual([
      'awaiting-notices',
      'awaiting-report',
      'awaiting-plan',
      'rectifying',
      'awaiting-acceptance',
      'closed',
    ]);
    expect(house.initialStage).toBe('awaiting-notices');
    // Written notices served within 3 working days of listing, the report 2 working days after that.
    const notices = planCase(house, snapshot({ stage: 'awaiting-notices' }));
    expect(notices.stage.actionZh).toBe('向产权人和使用人（经营者）书面送达隐患整治通知（双通知）');
    expect(notices.deadline).toBe('2023-03-09T18:00:00+08:00');
    expect(notices.steps.filter((s) => s.kind === 'escalation').map((s) => s.positions.join('+'))).toEqual([
      'responsible.principal',
      'responsible.principal+supervising.principal',
      'supervising.principal+leader-in-charge',
      'leader-in-charge+safety-office',
    ]);
    const report = planCase(
      house,
      snapshot({ stage: 'awaiting-report', visit: 2, stageEnteredAt: '2023-03-09T10:00:00+08:00' }),
    );
    expect(report.deadline).toBe('2023-03-13T18:00:00+08:00');
    const plan = planCase(house, snapshot());
    expect(plan.stage.actionZh).toBe('制定并报送“一栋一策”整治方案');
    expect(plan.deadline).toBe('2023-03-20T18:00:00+08:00');
    // The owner and the occupant are reminded before the term and told once after it; the ladder goes on without them.
    const rect = planCase(house, snapshot({ stage: 'rectifying', visit: 4 }));
    expect(rect.steps.map((s) => `${s.kind}-${s.level} ${s.positions.join('+')}`)).toEqual([
      'reminder-1 responsible.contact+owner+occupant',
      'reminder-2 responsible.contact+owner+occupant',
      'escalation-1 responsible.principal+owner+occupant',
      'escalation-2 responsible.principal+supervising.principal',
      'escalation-3 supervising.principal+leader-in-charge',
      'escalation-4 leader-in-charge+safety-office',
    ]);
  });
});

describe('what is due now', () => {
  const plan = planCase(
    major,
    snapshot({ outbox: [{ seq: 0, eventId: 'opened', at: '2023-03-06T10:00:00+08:00' }] }),
  );
  const s = snapshot();

  it('sends the notices and waits for the first reminder', () => {
    const r = selectDue(plan, s, new Set(), new Date('2023-03-06T10:00:00+08:00'));
    expect(r.act.map((x) => x.key)).toEqual(['e0.notice']);
    expect(r.next?.at).toBe('2023-03-15T09:00:00+08:00');
  });

  it('collapses missed escalation levels into the latest, addressed to every position of them', () => {
    const done = new Set(['e0.notice']);
    const r = selectDue(plan, s, done, new Date('2023-03-28T10:00:00+08:00'));
    expect(r.act).toHaveLength(1);
    expect(r.act[0]).toMatchObject({ kind: 'escalation', level: 3 });
    expect(r.act[0]?.positions).toEqual([
      'responsible.principal',
      'supervising.principal',
      'leader-in-charge',
    ]);
    expect(r.due.map((x) => x.key.split('@')[0])).toEqual([
      'v1.awaiting-plan.reminder-1',
      'v1.awaiting-plan.reminder-2',
      'v1.awaiting-plan.escalation-1',
      'v1.awaiting-plan.escalation-2',
      'v1.awaiting-plan.escalation-3',
    ]);
    expect(r.next?.level).toBe(4);
  });

  it('drops reminders once the deadline has passed', () => {
    const r = selectDue(plan, s, new Set(['e0.notice']), new Date('2023-03-20T19:00:00+08:00'));
    expect(r.act).toEqual([]);
    expect(r.due).toHaveLength(2);
  });

  it('skips a progress reminder when a report came since the previous due date', () => {
    const rect = snapshot({ stage: 'rectifying', visit: 2, stageEnteredAt: '2023-03-16T10:00:00+08:00' });
    const p = planCase(major, rect);
    const now = new Date('2023-05-11T10:00:00+08:00');
    const done = new Set(['v2.rectifying.progress@20230417T1800']);
    expect(selectDue(p, rect, done, now).act.map((x) => x.key)).toEqual([
      'v2.rectifying.progress@20230515T1800',
    ]);
    const reported = { ...rect, progressReports: ['2023-04-20T10:00:00+08:00'] };
    expect(selectDue(p, reported, done, now).act).toEqual([]);
    // A report before the previous due date does not count for this one.
    const early = { ...rect, progressReports: ['2023-04-10T10:00:00+08:00'] };
    expect(selectDue(p, early, done, now).act).toHaveLength(1);
  });

  it('reads the escalation level back from a step key', () => {
    expect(escalationLevelOfKey('v1.awaiting-plan.escalation-3@20230320T1800')).toBe(3);
    expect(escalationLevelOfKey('v1.awaiting-plan.reminder-2@20230320T1800')).toBe(0);
  });
});

describe('a clock in minutes (预警叫应)', () => {
  const warning = types.get('warning-response') as CaseType;

  it('takes a term in minutes, to the minute, on a holiday night too', () => {
    // 1 October 2023, National Day, 23:50: the term is not moved to a working day.
    expect(termFrom(warning, { minutes: 15 }, '2023-10-01T23:50:00+08:00')).toEqual({
      term: '2023-10-02T00:05:00+08:00',
    });
  });

  it('escalates at the exact minutes, day or night, as immediate mail', () => {
    const plan = planCase(
      warning,
      snapshot({
        stage: 'awaiting-response',
        stageEnteredAt: '2023-10-01T23:50:00+08:00',
        term: '2023-10-02T00:05:00+08:00',
        termSetAt: '2023-10-01T23:50:00+08:00',
        outbox: [{ seq: 0, eventId: 'opened', at: '2023-10-01T23:50:00+08:00' }],
      }),
    );
    expect(plan.steps.map((s) => [s.kind, s.level, s.at, s.urgency, s.positions.join('+')])).toEqual([
      ['notice', 0, '2023-10-01T23:50:00+08:00', 'immediate', 'responsible.principal+responsible.contact'],
      ['escalation', 1, '2023-10-02T00:05:00+08:00', 'immediate', 'responsible.principal+leader-in-charge'],
      ['escalation', 2, '2023-10-02T00:20:00+08:00', 'immediate', 'leader-in-charge+safety-office'],
    ]);
  });
});
