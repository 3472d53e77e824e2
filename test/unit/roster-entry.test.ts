import { describe, expect, it } from 'vitest';
import type { Unit } from '../../functions/core/model.ts';
import { rosterEntry, unitOnly } from '../../functions/core/units.ts';

const unit: Unit = {
  id: 'ent-a',
  name: '甲公司',
  kind: 'enterprise',
  contact: { name: '联络员', email: 'a@example.gov.cn' },
  principal: { name: '负责人', email: 'b@example.gov.cn' },
  active: true,
};
const JAN = '2023-01-05T10:00:00+08:00';
const MAR = '2023-03-01T09:00:00+08:00';

describe('when a unit joins the roster (the fair start)', () => {
  it('joins when first saved', () => {
    expect(rosterEntry(unit, undefined, MAR).joinedAt).toBe(MAR);
  });

  it('keeps its date through later changes and deactivation', () => {
    const stored = { ...unit, joinedAt: JAN };
    expect(rosterEntry({ ...unit, name: '甲公司（更名）' }, stored, MAR).joinedAt).toBe(JAN);
    expect(rosterEntry({ ...unit, active: false }, stored, MAR).joinedAt).toBe(JAN);
  });

  it('joins again when an inactive unit becomes active: the periods it was away are not escalated', () => {
    const away = { ...unit, active: false, joinedAt: JAN };
    expect(rosterEntry(unit, away, MAR).joinedAt).toBe(MAR);
  });

  it('leaves a unit stored before joining dates were kept as it was (it escalates as before)', () => {
    expect(rosterEntry(unit, { ...unit }, MAR).joinedAt).toBeUndefined();
  });

  it('compares units without the joining date', () => {
    expect(unitOnly({ ...unit, joinedAt: JAN })).toEqual(unit);
  });
});
