// The assessment's rules, as a pure function: what a unit owes, what counts as on time, late and missed, and
// whether a case kept its term.
import { describe, expect, it } from 'vitest';
import { assess, termResult, type AssessedCase } from '../../functions/core/assessment.ts';
import type { UnitRecord } from '../../functions/core/model.ts';

const unit = (id: string, joinedAt = '2023-01-01T00:00:00+08:00'): UnitRecord => ({
  id,
  name: `${id}名称`,
  kind: 'town',
  contact: { name: '联络人', email: `${id}@example.gov.cn` },
  principal: { name: '负责人', email: `${id}.p@example.gov.cn` },
  active: true,
  joinedAt,
});
const duty = { id: 'monthly-safety-meeting', titleZh: '月度安全生产例会' };
const cycle = (periodKey: string, deadline: string, extra: Record<string, unknown> = {}) => ({
  periodKey,
  deadline,
  status: 'closed' as const,
  ...extra,
});
const ASOF = Date.parse('2023-04-10T12:00:00+08:00');

describe('assess', () => {
  it('counts on time, late and missed per unit and duty, and leaves out what was not owed', () => {
    const a = assess({
      year: 2023,
      asOfMs: ASOF,
      asOf: '2023-04-10T12:00:00+08:00',
      units: [
        unit('town-a'),
        unit('town-b', '2023-02-15T00:00:00+08:00'),
        { ...unit('town-c'), active: false },
        { ...unit('town-d'), active: false },
      ],
      undeliverable: () => [],
      cases: [],
      cycles: [
        {
          duty,
          cycle: cycle('2023-01', '2023-01-31T18:00:00+08:00'),
          responsible: ['town-a', 'town-b', 'town-c', 'town-gone'],
          submissions: [{ unitId: 'town-a', submittedAt: '2023-01-30T10:00:00+08:00' }],
        },
        {
          duty,
          cycle: cycle('2023-02', '2023-02-28T18:00:00+08:00'),
          responsible: ['town-a', 'town-b'],
          submissions: [
            { unitId: 'town-a', submittedAt: '2023-03-02T10:00:00+08:00' },
            // Recorded after the assessment's instant: not there yet.
            { unitId: 'town-b', submittedAt: '2023-04-11T10:00:00+08:00' },
          ],
        },
        // Cancelled, due after the instant, and due before the duty was tracked: none of them owed.
        {
          duty,
          cycle: cycle('2023-03', '2023-03-31T18:00:00+08:00', { status: 'cancelled' }),
          responsible: ['town-a'],
          submissions: [],
        },
        {
          duty,
          cycle: cycle('2023-04', '2023-04-28T18:00:00+08:00', { status: 'open' }),
          responsible: ['town-a'],
          submissions: [],
        },
        {
          duty: { id: 'late-tracked', titleZh: '晚开始跟踪的职责' },
          cycle: cycle('2023-01', '2023-01-31T18:00:00+08:00', { trackedSince: '2023-02-01T00:00:00+08:00' }),
          responsible: ['town-a'],
          submissions: [],
        },
      ],
    });
    const [a1, b1] = a.units;
    expect(a1?.duties).toEqual([
      {
        dutyId: 'monthly-safety-meeting',
        titleZh: '月度安全生产例会',
        owed: 2,
        onTime: 1,
        late: 1,
        missed: 0,
        onTimeRate: 0.5,
        latePeriods: ['2023-02'],
        missedPeriods: [],
      },
    ]);
    // town-b joined in February: January is not its to answer for; February is missed as of the instant.
    expect(b1?.totals).toEqual({ owed: 1, onTime: 0, late: 0, missed: 1, onTimeRate: 0 });
    // town-c, deactivated since, still answers for January; town-d, deactivated and owing nothing, is not listed.
    expect(a.units.map((u) => u.unit.id)).toEqual(['town-a', 'town-b', 'town-c']);
    expect(a.units[2]?.totals.missed).toBe(1);
  });

  it('a case keeps its term when closed by it; open past it, or closed after it, it did not', () => {
    const c: AssessedCase = {
      caseId: 'mh-1',
      typeTitleZh: '重大事故隐患挂牌督办整改',
      title: '安全阀失效',
      responsibleUnitId: 'ent-a',
      openedAt: '2023-03-01T10:00:00+08:00',
      term: '2023-03-31T18:00:00+08:00',
      stageTitleZh: '整改中',
      status: 'open',
    };
    expect(termResult(c, Date.parse('2023-03-20T00:00:00+08:00'))).toBe('running');
    expect(termResult(c, Date.parse('2023-04-01T00:00:00+08:00'))).toBe('missed');
    expect(termResult({ ...c, status: 'closed', closedAt: '2023-03-31T17:00:00+08:00' }, ASOF)).toBe('kept');
    expect(termResult({ ...c, status: 'closed', closedAt: '2023-04-03T09:00:00+08:00' }, ASOF)).toBe(
      'missed',
    );
    expect(termResult({ ...c, term: '2023-03-31' }, Date.parse('2023-03-31T20:00:00+08:00'))).toBe('running');
  });
});
