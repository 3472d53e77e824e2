// Where a notice goes when its reader's address cannot be delivered to: the next position of the unit the
// notice speaks for (联络员 → 主要负责人). Pure: the run looks the units up and records what this returns.
import type { Person } from '../core/model.ts';
import type { Notice, NoticeBody } from '../notices/model.ts';
import { addressKey } from '../notices/model.ts';

/** A unit's positions in the order a notice falls back through them. */
export interface UnitPositions {
  id: string;
  contact: Person;
  principal: Person;
}

const POSITIONS = [
  { key: 'contact', zh: '单位联络人' },
  { key: 'principal', zh: '单位主要负责人' },
] as const;

/**
 * The units whose people a notice is addressed to as that unit's position: the units of a reminder or of an
 * escalation to the defaulters themselves, the supervising unit of a supervisor's escalation (a town, a
 * department), the party of a case link. A county leader's or 安委办's notice has no next position.
 */
export function unitsSpokenFor(body: NoticeBody): string[] {
  switch (body.type) {
    case 'cycle-reminder':
    case 'cycle-change':
      return body.units.map((u) => u.id);
    case 'cycle-escalation':
      if (body.audience === 'own') return body.units.map((u) => u.id);
      return body.scope.kind === 'unit' || body.scope.kind === 'department' ? [body.scope.id] : [];
    case 'case':
      return body.link ? [body.link.unitId] : [];
    case 'delivery-problem':
    case 'calendar-missing':
    case 'cycle-rollup':
      return [];
  }
}

/**
 * Who takes over from `address` for one unit: the position after the one holding it (联络人 → 主要负责人). Nobody
 * when the address holds no position of the unit (a staff representative, or a roster corrected since): guessing
 * could hand a supervisor's notice to the very person who is late. Never an undeliverable address, never the same.
 */
export function nextPosition(
  unit: UnitPositions,
  address: string,
  undeliverable: (address: string) => boolean,
): { person: Person; roleZh: string; fromRoleZh: string } | undefined {
  const mine = addressKey(address);
  const held = POSITIONS.findIndex((p) => addressKey(unit[p.key].email) === mine);
  if (held < 0) return undefined;
  for (const p of POSITIONS.slice(held + 1)) {
    const person = unit[p.key];
    if (addressKey(person.email) !== mine && !undeliverable(person.email))
      return { person, roleZh: p.zh, fromRoleZh: POSITIONS[held]?.zh ?? '' };
  }
  return undefined;
}

/** The position a notice's next reader takes it over in (for a stage that already addressed them, no copy). */
export type NextPositionKey = (typeof POSITIONS)[number]['key'];
export const positionKeyOfRole = (roleZh: string): NextPositionKey | undefined =>
  POSITIONS.find((p) => p.zh === roleZh)?.key;

/**
 * The notice readdressed to whoever takes over, split by new reader where its units fall back to different
 * people. Empty when nobody can take it (it is then suppressed, and 安委办 hears of the address). A notice
 * already redirected once is not moved again.
 */
export function redirectNotice(
  notice: Notice,
  units: ReadonlyMap<string, UnitPositions>,
  undeliverable: (address: string) => boolean,
  reasonZh: string,
  /** Whether the notice's stage addressed this position itself (its holder then has a copy of their own). */
  stageAddressed: (notice: Notice, position: NextPositionKey) => boolean = () => false,
): Notice[] {
  if (notice.redirectedFrom) return [];
  const byReader = new Map<
    string,
    { person: Person; roleZh: string; fromRoleZh: string; unitIds: string[] }
  >();
  for (const id of unitsSpokenFor(notice.body)) {
    const unit = units.get(id);
    const next = unit && nextPosition(unit, notice.recipient.address, undeliverable);
    if (!next) continue;
    const position = positionKeyOfRole(next.roleZh);
    if (position && stageAddressed(notice, position)) continue;
    const k = addressKey(next.person.email);
    const entry = byReader.get(k) ?? { ...next, unitIds: [] };
    entry.unitIds.push(id);
    byReader.set(k, entry);
  }
  return [...byReader.values()].map((r) => {
    const body = notice.body;
    const narrowed: NoticeBody =
      (body.type === 'cycle-reminder' || (body.type === 'cycle-escalation' && body.audience === 'own')) &&
      r.unitIds.length < body.units.length
        ? { ...body, units: body.units.filter((u) => r.unitIds.includes(u.id)) }
        : body;
    // The reader is addressed in the role they take it over in, not the original reader's.
    const reRoled: NoticeBody =
      narrowed.type === 'cycle-escalation' || narrowed.type === 'case'
        ? { ...narrowed, rolesZh: [`${r.roleZh}（代${r.fromRoleZh}接收）`] }
        : narrowed;
    return {
      ...notice,
      recipient: { address: r.person.email, name: r.person.name },
      // Its own identity: a copy taken over from one address never replaces a notice the reader has of their
      // own, nor one taken over from another address.
      stage: `${notice.stage}~${addressKey(notice.recipient.address)}`,
      body: reRoled,
      redirectedFrom: {
        address: notice.recipient.address,
        name: notice.recipient.name,
        roleZh: r.fromRoleZh,
        reasonZh,
      },
    };
  });
}
