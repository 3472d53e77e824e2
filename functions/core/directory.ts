import type { Position } from '../../workflows/catalog/schema.ts';
import { getLeader, getUnit } from '../adapters/store.ts';
import type { Addressee } from '../notices/cycle-notices.ts';
import type { Leader, Person, Unit } from './model.ts';
import { safetyOfficeUnitId } from './safety-office.ts';

/**
 * Logged when a notice has nobody to go to (a vacant position and no safety office unit to fall back to); the stack
 * counts these lines and alarms (NoticesUnaddressedAlarm).
 */
export const UNADDRESSED_MESSAGE =
  'a notice has nobody to go to: the position is vacant and the safety office unit is missing';

export { safetyOfficeUnitId };

export type { Addressee };

/**
 * Resolves positions to the people holding them, escalating to positions rather than people: a unit's contact
 * and principal, its supervising department's principal, its county leader in charge, and 安委办's contact.
 * Lookups are memoised for one sweep, since hundreds of units share a few departments and leaders.
 */
export class Directory {
  private units = new Map<string, Promise<Unit | undefined>>();
  private leaders = new Map<string, Promise<Leader | undefined>>();
  readonly warnings: string[] = [];
  /**
   * Notices that could go to nobody: the position is vacant and the safety office unit (safetyOfficeUnitId) does not
   * exist either. Logged as UNADDRESSED_MESSAGE, which an alarm watches: never dropped silently.
   */
  readonly unaddressed: string[] = [];

  unit(id: string): Promise<Unit | undefined> {
    let p = this.units.get(id);
    if (!p) {
      p = getUnit(id);
      this.units.set(id, p);
    }
    return p;
  }

  leader(id: string): Promise<Leader | undefined> {
    let p = this.leaders.get(id);
    if (!p) {
      p = getLeader(id);
      this.leaders.set(id, p);
    }
    return p;
  }

  /** Prime the unit cache with units already read (the roster). */
  remember(units: Unit[]): void {
    for (const u of units) this.units.set(u.id, Promise.resolve(u));
  }

  async resolve(unit: Unit, position: Position): Promise<Addressee | undefined> {
    const found = await this.lookup(unit, position);
    if (found) return { person: found, position, fallback: false, scope: scopeOf(unit, position) };
    const office = await this.unit(safetyOfficeUnitId());
    if (!office) {
      this.unaddressed.push(
        `${unit.id}: no holder for ${position}, and no safety office unit ${safetyOfficeUnitId()}`,
      );
      return undefined;
    }
    // The office's own duties have no supervising department above it by design: not worth a warning per cycle.
    if (unit.id !== office.id)
      this.warnings.push(`${unit.id}: no holder for ${position}; addressed to the safety office instead`);
    return { person: office.contact, position, fallback: true, scope: { kind: 'office', id: office.id } };
  }

  private async lookup(unit: Unit, position: Position): Promise<Person | undefined> {
    switch (position) {
      case 'contact':
        return unit.contact;
      case 'principal':
        return unit.principal;
      case 'supervising-department': {
        if (!unit.supervisingDepartmentId) return undefined;
        const dept = await this.unit(unit.supervisingDepartmentId);
        return dept?.active ? dept.principal : undefined;
      }
      case 'leader-in-charge': {
        if (!unit.leaderInChargeId) return undefined;
        return (await this.leader(unit.leaderInChargeId))?.holder;
      }
      case 'safety-office':
        return (await this.unit(safetyOfficeUnitId()))?.contact;
    }
  }
}

/** What a supervising position oversees: the overdue link of an escalation shows the units in this scope. */
function scopeOf(unit: Unit, position: Position): Addressee['scope'] {
  if (position === 'supervising-department' && unit.supervisingDepartmentId)
    return { kind: 'department', id: unit.supervisingDepartmentId };
  if (position === 'leader-in-charge' && unit.leaderInChargeId)
    return { kind: 'leader', id: unit.leaderInChargeId };
  return { kind: 'office', id: safetyOfficeUnitId() };
}
