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
  { key: 'contact', zh: '联络员' },
  { key: 'principal', zh: '主要负责人' },
] as const;

/**
 * The units whose people a notice is addressed to as that unit's position: the units of a reminder or of an
 * escalation to the defaulters themselves, the supervising unit of a supervisor's escalation (a town, a
 * department), the party of a case link. A county leader's or 安委办's notice has no next position.
 */
export function unitsSpokenFor(body: NoticeBody): string[] {
  switch (body.type) {
    case 'cycle-reminder':
      return body.units.map((u) => u.id);
    case 'cycle-escalation':
      if (body.audience === 'own') return body.units.map((u) => u.id);
      return body.scope.kind === 'unit' || body.scope.kind === 'department' ? [body.scope.id] : [];
    case 'case':
      return body.link ? [body.link.unitId] : [];
    case 'delivery-problem':
      return [];
  }
}

/**
 * Who takes over from `address` for one unit: the position after the one holding it, or — when the address no
 * longer belongs to the unit (the roster was corrected after the notice was recorded) — the unit's first
 * position. Never an undeliverable address, never the same address.
 */
export function nextPosition(
  unit: UnitPositions,
  address: string,
  undeliverable: (address: string) => boolean,
): { person: Person; roleZh: string; fromRoleZh?: string } | undefined {
  const mine = addressKey(address);
  const held = POSITIONS.findIndex((p) => addressKey(unit[p.key].email) === mine);
  for (const p of POSITIONS.slice(held + 1)) {
    const person = unit[p.key];
    if (addressKey(person.email) !== mine && !undeliverable(person.email))
      return { person, roleZh: p.zh, ...(held >= 0 ? { fromRoleZh: POSITIONS[held]?.zh } : {}) };
  }
  return undefined;
}

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
): Notice[] {
  if (notice.redirectedFrom) return [];
  const byReader = new Map<
    string,
    { person: Person; roleZh: string; fromRoleZh?: string; unitIds: string[] }
  >();
  for (const id of unitsSpokenFor(notice.body)) {
    const unit = units.get(id);
    const next = unit && nextPosition(unit, notice.recipient.address, undeliverable);
    if (!next) continue;
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
    return {
      ...notice,
      recipient: { address: r.person.email, name: r.person.name },
      body: narrowed,
      redirectedFrom: {
        address: notice.recipient.address,
        name: notice.recipient.name,
        ...(r.fromRoleZh ? { roleZh: r.fromRoleZh } : {}),
        reasonZh,
      },
    };
  });
}
