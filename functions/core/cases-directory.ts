import { CASE_POSITION_ZH, type CasePosition, type Party } from '../../workflows/cases/schema.ts';
import { Directory, safetyOfficeUnitId } from './directory.ts';
import type { Person, Unit } from './model.ts';
import type { CaseRecord } from './cases-model.ts';

export interface CaseRecipient {
  person: Person;
  /** The roles the person is addressed in, in Chinese (a vacant position says who stands in for it). */
  rolesZh: string[];
  /** The party unit the person speaks for (their email carries a link bound to it), if any. */
  party?: Party;
  fallback: boolean;
}

/**
 * Resolves a case's positions to people: the responsible unit's contact, principal and staff representative,
 * the supervising unit's contact and principal, the county leader in charge (the responsible unit's, else the
 * supervising unit's), and 安委办. A position nobody holds goes to 安委办's contact, labelled as such.
 */
export class CaseDirectory {
  private readonly dir = new Directory();
  readonly warnings: string[] = [];
  /**
   * Notices that could go to nobody: the position is vacant and the safety office unit (safetyOfficeUnitId) does not
   * exist either. Logged as UNADDRESSED_MESSAGE, which an alarm watches: never dropped silently.
   */
  readonly unaddressed: string[] = [];

  constructor(private readonly record: CaseRecord) {}

  responsible(): Promise<Unit | undefined> {
    return this.dir.unit(this.record.responsibleUnitId);
  }

  supervising(): Promise<Unit | undefined> {
    return this.dir.unit(this.record.supervisingUnitId);
  }

  private async lookup(position: CasePosition): Promise<Person | undefined> {
    const resp = await this.responsible();
    const sup = await this.supervising();
    switch (position) {
      case 'responsible.contact':
        return resp?.active ? resp.contact : undefined;
      case 'responsible.principal':
        return resp?.active ? resp.principal : undefined;
      case 'responsible.staff-representative':
        return resp?.active ? resp.staffRepresentative : undefined;
      case 'supervising.contact':
        return sup?.active ? sup.contact : undefined;
      case 'supervising.principal':
        return sup?.active ? sup.principal : undefined;
      case 'leader-in-charge': {
        const id = resp?.leaderInChargeId ?? sup?.leaderInChargeId;
        return id ? (await this.dir.leader(id))?.holder : undefined;
      }
      case 'safety-office':
        return (await this.dir.unit(safetyOfficeUnitId()))?.contact;
    }
  }

  /** One recipient per address, with every role they are addressed in. */
  async recipients(positions: readonly CasePosition[]): Promise<CaseRecipient[]> {
    const byEmail = new Map<string, CaseRecipient>();
    for (const position of positions) {
      let person = await this.lookup(position);
      let fallback = false;
      let role = CASE_POSITION_ZH[position];
      if (!person) {
        person = (await this.dir.unit(safetyOfficeUnitId()))?.contact;
        fallback = true;
        role = `县安委办（${CASE_POSITION_ZH[position]}空缺，代为接收）`;
        if (!person) {
          this.unaddressed.push(
            `${this.record.caseId}: no holder for ${position}, and no safety office unit ${safetyOfficeUnitId()}`,
          );
          continue;
        }
        this.warnings.push(
          `${this.record.caseId}: no holder for ${position}; addressed to the safety office instead`,
        );
      }
      const key = person.email.toLowerCase();
      const party: Party | undefined = fallback
        ? undefined
        : position.startsWith('responsible.')
          ? 'responsible'
          : position.startsWith('supervising.')
            ? 'supervising'
            : undefined;
      const existing = byEmail.get(key);
      if (existing) {
        if (!existing.rolesZh.includes(role)) existing.rolesZh.push(role);
        existing.party ??= party;
        existing.fallback &&= fallback;
        continue;
      }
      byEmail.set(key, { person, rolesZh: [role], ...(party ? { party } : {}), fallback });
    }
    return [...byEmail.values()];
  }
}
