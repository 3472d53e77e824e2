// Between recording and delivery the world moves on: a unit submits, a case changes stage. Delivery sends only what
// is still owed. Pure over facts read just before sending.
import type { Notice, NoticeUnit } from '../notices/model.ts';

export interface CaseFacts {
  status: string;
  stage: string;
  visit: number;
  requestSeq?: number;
}

export interface CycleFacts {
  status: string;
  /** An ad-hoc duty's revision (1 until its deadline is first changed). */
  revision: number;
  /** Units an administrator removed from the duty: nothing more is owed to them. */
  removed?: ReadonlySet<string>;
}

export interface OwedFacts {
  /** Units that have submitted for a cycle. */
  submitted(dutyId: string, periodKey: string): ReadonlySet<string>;
  /** The cycle's record as it stands (undefined: not known, nothing is dropped for it). */
  cycle(dutyId: string, periodKey: string): CycleFacts | undefined;
  caseState(caseId: string): CaseFacts | undefined;
}

/** What the facts a batch of notices needs: the cycles' submissions and the cases' records. */
export function factsNeeded(notices: readonly Notice[]): { cycles: [string, string][]; cases: string[] } {
  const cycles = new Map<string, [string, string]>();
  const cases = new Set<string>();
  for (const n of notices) {
    const b = n.body;
    if (b.type === 'cycle-reminder' || b.type === 'cycle-escalation' || b.type === 'cycle-change')
      cycles.set(`${b.dutyId}|${b.periodKey}`, [b.dutyId, b.periodKey]);
    else if (b.type === 'case' && b.check) cases.add(b.caseId);
  }
  return { cycles: [...cycles.values()], cases: [...cases] };
}

/** The revision of the stage a cycle notice belongs to (`reminder-1@r2` → 2). */
export function stageRevision(stage: string): number {
  const m = /@r(\d+)/.exec(stage);
  return m ? Number(m[1]) : 1;
}

/**
 * The notice as it still stands, or undefined when nothing of it is owed: units that have submitted leave it,
 * a reminder whose deadline has passed is dropped (the escalation speaks now), and a case reminder or
 * escalation is dropped once the case has left the stage (or request) it was about. An ad-hoc duty's units
 * removed leave it too, and its notices of an older revision or of a cancelled cycle are dropped (decisions §28).
 * Notices of things that happened (a case event, an undeliverable address, a change) stand.
 */
export function stillOwed(n: Notice, facts: OwedFacts, nowMs: number): Notice | undefined {
  const b = n.body;
  /** The units of a cycle notice still owing it: neither submitted nor removed from the duty. */
  const owing = (units: NoticeUnit[], dutyId: string, periodKey: string) => {
    const done = facts.submitted(dutyId, periodKey);
    const removed = facts.cycle(dutyId, periodKey)?.removed;
    return units.filter((u) => !done.has(u.id) && !removed?.has(u.id));
  };
  if (b.type === 'cycle-reminder' || b.type === 'cycle-escalation') {
    // A cancelled duty is owed nothing more; a moved deadline's earlier stages are replaced by the new ones.
    const c = facts.cycle(b.dutyId, b.periodKey);
    if (c && (c.status === 'cancelled' || stageRevision(n.stage) < c.revision)) return undefined;
  }
  switch (b.type) {
    case 'cycle-reminder': {
      if (nowMs >= Date.parse(b.deadline)) return undefined;
      const units = owing(b.units, b.dutyId, b.periodKey);
      return units.length === 0 ? undefined : { ...n, body: { ...b, units } };
    }
    case 'cycle-escalation': {
      const units = owing(b.units, b.dutyId, b.periodKey);
      return units.length === 0 ? undefined : { ...n, body: { ...b, units } };
    }
    case 'cycle-change': {
      // A cancellation, or a unit removed, is told as it is; an extension or an addition is for units still owing.
      if (b.change === 'cancelled' || b.change === 'units-removed') return n;
      if (facts.cycle(b.dutyId, b.periodKey)?.status === 'cancelled') return undefined;
      const units = owing(b.units, b.dutyId, b.periodKey);
      return units.length === 0 ? undefined : { ...n, body: { ...b, units } };
    }
    case 'case': {
      if (!b.check) return n;
      const c = facts.caseState(b.caseId);
      if (!c || c.status !== 'open' || c.stage !== b.check.stage || c.visit !== b.check.visit)
        return undefined;
      if (b.check.requestSeq !== undefined && c.requestSeq !== b.check.requestSeq) return undefined;
      return n;
    }
    case 'delivery-problem':
    case 'calendar-missing':
    case 'cycle-rollup':
      return n;
  }
}
