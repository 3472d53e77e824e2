// Changes to a running ad-hoc duty, as pure functions: what each makes of the duty, what it refuses, and how the
// planner gives a revised duty new stages.
import { describe, expect, it } from 'vitest';
import {
  buildAdhocDuty,
  cancelDuty,
  changeDutyUnits,
  extendDuty,
} from '../../functions/core/adhoc-duties.ts';
import { ValidationError } from '../../functions/core/errors.ts';
import type { UnitRecord } from '../../functions/core/model.ts';
import { generateRoster } from '../../local/roster.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { inDutyScope, type Duty } from '../../workflows/catalog/schema.ts';
import { planCycle } from '../../workflows/plan.ts';

const roster = generateRoster({ towns: 3, departments: 2, enterprises: 6, sites: 0 }, 2023)
  .units as UnitRecord[];
const towns = roster.filter((u) => u.kind === 'town');
const enterprise = roster.find((u) => u.kind === 'enterprise') as UnitRecord;
const NOW = Date.parse('2023-09-18T10:00:00+08:00');
const ctx = {
  catalog: loadCatalog(),
  nowMs: NOW,
  newId: () => 'adhoc-20230918-beef',
  roster: {
    unit: async (id: string) => roster.find((u) => u.id === id),
    responsible: async (duty: Duty) => roster.filter((u) => inDutyScope(duty, u)),
  },
};
const responsible = ctx.roster.responsible;

async function nationalDay(): Promise<Duty> {
  const { duty } = await buildAdhocDuty(
    {
      titleZh: '国庆节前安全生产大检查',
      instructionZh: '各乡镇完成国庆节前安全生产大检查并报送检查情况。',
      responsible: { kinds: ['town'] },
      deadline: { date: '2023-09-27', time: '18:00' },
    },
    ctx,
  );
  return duty;
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues.map((i) => `${i.field}: ${i.problem}`);
  }
  throw new Error('expected a ValidationError');
}

describe('extending the deadline', () => {
  it('moves the deadline and gives every stage a new id, so the moved ones are owed anew', async () => {
    const duty = await nationalDay();
    const before = planCycle(duty, '2023');
    expect(before.stages.map((s) => s.id)).toEqual([
      'reminder-1',
      'reminder-2',
      'escalation-1',
      'escalation-2',
      'escalation-3',
    ]);
    const revised = extendDuty(
      duty,
      { deadline: { date: '2023-10-12', time: '18:00' }, reasonZh: '任务较重' },
      NOW,
    );
    expect(revised).toBeDefined();
    const after = planCycle(revised!.duty, '2023');
    expect(after.deadline).toBe('2023-10-12T18:00:00+08:00');
    expect(after.stages.every((s) => s.id.endsWith('@r2'))).toBe(true);
    expect(revised!.changes).toEqual([
      {
        seq: 1,
        periodKey: '2023',
        kind: 'extended',
        at: '2023-09-18T10:00:00+08:00',
        deadline: '2023-10-12T18:00:00+08:00',
        previousDeadline: '2023-09-27T18:00:00+08:00',
        reasonZh: '任务较重',
      },
    ]);
    // The same extension again is a retry: nothing to change.
    expect(
      extendDuty(revised!.duty, { deadline: { date: '2023-10-12', time: '18:00' } }, NOW + 60_000),
    ).toBeUndefined();
  });

  it('refuses an earlier deadline, a past one, another year and an impossible date, naming the field', async () => {
    const duty = await nationalDay();
    const at =
      (date: string, time = '18:00') =>
      () =>
        extendDuty(duty, { deadline: { date, time } }, NOW);
    expect(issuesOf(at('2023-09-26'))).toEqual([
      'deadline: 新的截止时间应晚于原截止时间（2023-09-27 18:00）',
    ]);
    expect(
      issuesOf(() =>
        extendDuty(
          duty,
          { deadline: { date: '2023-10-12', time: '18:00' } },
          Date.parse('2023-10-13T00:00:00+08:00'),
        ),
      ),
    ).toEqual(['deadline: 截止时间 2023-10-12 18:00 已经过去']);
    expect(issuesOf(at('2024-01-05'))).toEqual(['deadline.date: 延期后的截止时间须在2023年内']);
    expect(issuesOf(at('2023-02-30'))).toEqual(['deadline.date: 不是有效日期']);
  });
});

describe('cancelling', () => {
  it('disables the duty with its reason, once', async () => {
    const duty = await nationalDay();
    const cancelled = cancelDuty(duty, { reasonZh: '已并入全县大检查' }, NOW);
    expect(cancelled?.duty.enabled).toBe(false);
    expect(cancelled?.duty.adhoc?.cancelled).toEqual({
      at: '2023-09-18T10:00:00+08:00',
      reasonZh: '已并入全县大检查',
    });
    expect(cancelled?.changes.map((c) => c.kind)).toEqual(['cancelled']);
    expect(cancelDuty(cancelled!.duty, { reasonZh: '再次' }, NOW)).toBeUndefined();
    expect(() => cancelDuty(duty, {}, NOW)).toThrow();
  });
});

describe('adding and removing units', () => {
  it('adds a unit of another kind and removes a town; the scope says so and the others stay', async () => {
    const duty = await nationalDay();
    const [kept, removed] = towns;
    const changed = await changeDutyUnits(
      duty,
      { add: [enterprise.id], remove: [removed!.id] },
      { nowMs: NOW, unit: ctx.roster.unit, responsible },
    );
    const next = changed!.duty;
    expect(next.scope).toEqual({ added: [enterprise.id], removed: [removed!.id] });
    expect(inDutyScope(next, enterprise)).toBe(true);
    expect(inDutyScope(next, removed!)).toBe(false);
    expect(inDutyScope(next, kept!)).toBe(true);
    // Other enterprises do not come with the one added.
    expect(roster.filter((u) => u.kind === 'enterprise' && inDutyScope(next, u)).map((u) => u.id)).toEqual([
      enterprise.id,
    ]);
    expect(changed!.changes.map((c) => [c.seq, c.kind, c.units])).toEqual([
      [1, 'units-added', [enterprise.id]],
      [2, 'units-removed', [removed!.id]],
    ]);
    // Again: already applied.
    expect(
      await changeDutyUnits(
        next,
        { add: [enterprise.id], remove: [removed!.id] },
        { nowMs: NOW, unit: ctx.roster.unit, responsible },
      ),
    ).toBeUndefined();
  });

  it('refuses unknown units, units already responsible or not responsible, emptying it, and adding after the deadline', async () => {
    const duty = await nationalDay();
    const change = async (body: unknown, nowMs = NOW) => {
      try {
        await changeDutyUnits(duty, body, { nowMs, unit: ctx.roster.unit, responsible });
      } catch (err) {
        return (err as ValidationError).issues.map((i) => i.field);
      }
      return [];
    };
    expect(await change({ add: ['nobody', towns[0]!.id], remove: [enterprise.id] })).toEqual([
      'add[0]',
      'add[1]',
      'remove[0]',
    ]);
    expect(await change({ remove: towns.map((t) => t.id) })).toEqual(['remove']);
    expect(await change({ add: [enterprise.id] }, Date.parse('2023-09-28T09:00:00+08:00'))).toEqual(['add']);
  });
});
