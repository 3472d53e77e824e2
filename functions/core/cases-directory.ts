import {
  CASE_POSITION_ZH,
  citizenFieldKeys,
  isCitizenPosition,
  type CasePosition,
  type CitizenPosition,
  type Party,
} from '../../workflows/cases/schema.ts';
import { smsAddressOf } from '../notices/channels.ts';
import { Directory, safetyOfficeUnitId } from './directory.ts';
import type { Person, Unit } from './model.ts';
import type { CaseRecord } from './cases-model.ts';

/** Whom a message reaches: a roster person (always an email), or a citizen named on the case (email, phone or both). */
export interface CaseAddressee {
  name: string;
  email?: string;
  phone?: string;
}

export interface CaseRecipient {
  person: CaseAddressee;
  /** The roles the person is addressed in, in Chinese (a vacant position says who stands in for it). */
  rolesZh: string[];
  /** The party unit the person speaks for (their email carries a link bound to it), if any. */
  party?: Party;
  fallback: boolean;
  /** A citizen named on the case (owner, occupant): told in plain words, without a link, at the case's contacts. */
  citizen?: boolean;
}

/**
 * Resolves a case's positions to people: the responsible unit's contact, principal and staff representative,
 * the supervising unit's contact and principal, the county leader in charge (the responsible unit's, else the
 * supervising unit's), and 安委办. A position nobody holds goes to 安委办's contact, labelled as such. The owner and
 * occupant are citizens named on the case record, not roster people (see `citizen`).
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
      case 'owner':
      case 'occupant':
        // Not roster people: recipients() reads them from the case.
        return undefined;
    }
  }

  /**
   * A citizen named on the case, from its open fields (`ownerName`, `ownerPhone`, `ownerEmail`…); undefined when the
   * case names nobody in that position (a house its owner runs has no separate occupant).
   */
  citizen(position: CitizenPosition): CaseAddressee | undefined {
    const keys = citizenFieldKeys(position);
    const value = (key: string) => this.record.fields[key]?.trim() || undefined;
    const [name, email, phone] = [value(keys.name), value(keys.email), value(keys.phone)];
    if (!name && !email && !phone) return undefined;
    return {
      name: name ?? CASE_POSITION_ZH[position],
      ...(email ? { email } : {}),
      ...(phone ? { phone } : {}),
    };
  }

  /**
   * Citizens are merged when they share an email or a mobile number (an owner who runs the business), never with a
   * roster person; one the case gives no way to reach is skipped with a warning, never handed to 安委办.
   */
  private addCitizen(position: CitizenPosition, into: CaseRecipient[]): void {
    const person = this.citizen(position);
    if (!person) return;
    const sms = person.phone ? smsAddressOf(person.phone) : undefined;
    if (!person.email && !sms) {
      this.warnings.push(
        `${this.record.caseId}: the ${position} has no mobile number or email on the case; not notified`,
      );
      return;
    }
    const role = CASE_POSITION_ZH[position];
    const same = into.find(
      (r) =>
        r.citizen &&
        ((person.email && r.person.email?.toLowerCase() === person.email.toLowerCase()) ||
          (sms && r.person.phone && smsAddressOf(r.person.phone) === sms)),
    );
    if (same) {
      if (!same.rolesZh.includes(role)) same.rolesZh.push(role);
      // Whichever of the two gave an address the other lacks, the merged one has both.
      if (!same.person.email && person.email) same.person.email = person.email;
      if (!same.person.phone && person.phone) same.person.phone = person.phone;
      return;
    }
    into.push({ person, rolesZh: [role], fallback: false, citizen: true });
  }

  /** One recipient per address, with every role they are addressed in. */
  async recipients(positions: readonly CasePosition[]): Promise<CaseRecipient[]> {
    const byEmail = new Map<string, CaseRecipient>();
    const citizens: CaseRecipient[] = [];
    for (const position of positions) {
      if (isCitizenPosition(position)) {
        this.addCitizen(position, citizens);
        continue;
      }
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
    return [...byEmail.values(), ...citizens];
  }
}
