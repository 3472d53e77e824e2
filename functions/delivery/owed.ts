// Between recording and delivery the world moves on: a unit submits, a case changes stage. Delivery sends only what
// is still owed. Pure over facts read just before sending.
import type { Notice } from '../notices/model.ts';

export interface CaseFacts {
  status: string;
  stage: string;
  visit: number;
  requestSeq?: number;
}

export interface OwedFacts {
  /** Units that have submitted for a cycle. */
  submitted(dutyId: string, periodKey: string): ReadonlySet<string>;
  caseState(caseId: string): CaseFacts | undefined;
}

/** What the facts a batch of notices needs: the cycles' submissions and the cases' records. */
export function factsNeeded(notices: readonly Notice[]): { cycles: [string, string][]; cases: string[] } {
  const cycles = new Map<string, [string, string]>();
  const cases = new Set<string>();
  for (const n of notices) {
    const b = n.body;
    if (b.type === 'cycle-reminder' || b.type === 'cycle-escalation')
      cycles.set(`${b.dutyId}|${b.periodKey}`, [b.dutyId, b.periodKey]);
    else if (b.type === 'case' && b.check) cases.add(b.caseId);
  }
  return { cycles: [...cycles.values()], cases: [...cases] };
}

/**
 * The notice as it still stands, or undefined when nothing of it is owed: units that have submitted leave it,
 * a reminder whose deadline has passed is dropped (the escalation speaks now), and a case reminder or
 * escalation is dropped once the case has left the stage (or request) it was about. Notices of things that
 * happened (a case event, an undeliverable address) always stand.
 */
export function stillOwed(n: Notice, facts: OwedFacts, nowMs: number): Notice | undefined {
  const b = n.body;
  switch (b.type) {
    case 'cycle-reminder': {
      if (nowMs >= Date.parse(b.deadline)) return undefined;
      const done = facts.submitted(b.dutyId, b.periodKey);
      const units = b.units.filter((u) => !done.has(u.id));
      return units.length === 0 ? undefined : { ...n, body: { ...b, units } };
    }
    case 'cycle-escalation': {
      const done = facts.submitted(b.dutyId, b.periodKey);
      const units = b.units.filter((u) => !done.has(u.id));
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
      return n;
  }
}
