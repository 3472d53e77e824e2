// Gathers what the assessment of a year needs from the table: every cycle whose deadline falls in the year with its
// responsible units and submissions, the cases of the year, the roster and its undeliverable addresses.
import type { Catalog } from '../../workflows/catalog/index.ts';
import { UNIT_KINDS, type Duty } from '../../workflows/catalog/schema.ts';
import type { CaseTypes } from '../../workflows/cases/index.ts';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import { listCasesByStatus } from '../adapters/case-store.ts';
import { addressesStore } from '../adapters/outbox-store.ts';
import { dutyRoster, listCycles, listDefaulters, listSubmissionTimes, listUnits } from '../adapters/store.ts';
import { assess, type AssessedCase, type AssessedCycle, type Assessment } from './assessment.ts';
import type { CycleRecord } from './model.ts';
import { caseSummary } from './cases.ts';
import { mapLimit } from './concurrency.ts';
import { undeliverableMarks } from './units.ts';

/** Cycles read at once: each is one query for its submissions. */
const CONCURRENCY = 8;

/** The end of a year in Asia/Shanghai: the assessment of a past year counts everything due in it. */
const yearEndMs = (year: number) => Date.parse(`${year + 1}-01-01T00:00:00+08:00`) - 1;

/**
 * The cycles of the catalog's duties whose period keys start in `years` and that `keep` selects, each with the
 * units that owed it and its submissions.
 */
export async function gatherCycles(
  catalog: Pick<Catalog, 'duties'>,
  years: { from: number; to: number },
  keep: (c: CycleRecord, duty: Duty) => boolean,
): Promise<AssessedCycle[]> {
  const rosters = new Map<string, Promise<string[]>>();
  const rosterOf = (duty: Duty) => {
    let p = rosters.get(duty.id);
    if (!p) {
      p = dutyRoster(duty).then((r) => r.units.map((u) => u.id));
      rosters.set(duty.id, p);
    }
    return p;
  };
  const perDuty = await mapLimit(catalog.duties, CONCURRENCY, async (duty) =>
    (await listCycles({ dutyId: duty.id, years }))
      .filter((c) => keep(c, duty))
      .map((cycle) => ({ duty, cycle })),
  );
  return mapLimit(perDuty.flat(), CONCURRENCY, async ({ duty, cycle }): Promise<AssessedCycle> => {
    if (cycle.status === 'cancelled')
      return { duty: { id: duty.id, titleZh: duty.titleZh }, cycle, responsible: [], submissions: [] };
    const submissions = await listSubmissionTimes(duty.id, cycle.periodKey);
    // A closed cycle owed what it recorded at its close; an open one owes the roster as it is.
    const responsible =
      cycle.status === 'closed'
        ? [...new Set([...submissions.map((s) => s.unitId), ...(await listDefaulters(cycle))])]
        : await rosterOf(duty);
    return { duty: { id: duty.id, titleZh: duty.titleZh }, cycle, responsible, submissions };
  });
}

export async function gatherAssessment(
  catalog: Catalog,
  types: CaseTypes,
  year: number,
  now: Date,
): Promise<Assessment> {
  const asOfMs = Math.min(now.getTime(), yearEndMs(year));
  const y = String(year);
  // A period due in the year starts in it or the year before (a weekly key of the old year, due in January).
  const cycles = await gatherCycles(
    catalog,
    { from: year - 1, to: year },
    (c) => c.deadline.slice(0, 4) === y && Date.parse(c.deadline) <= asOfMs,
  );

  const { cases: records } = await listCasesByStatus(['open', 'closed']);
  const cases: AssessedCase[] = [];
  for (const r of records) {
    // The cases of the year: opened by its end, and not closed before it began.
    if (r.openedAt.slice(0, 4) > y || (r.closedAt !== undefined && r.closedAt.slice(0, 4) < y)) continue;
    const type = types.get(r.typeId);
    if (!type) continue;
    const s = caseSummary(type, r, new Date(asOfMs));
    cases.push({
      caseId: s.caseId,
      typeTitleZh: s.typeTitleZh,
      title: s.title,
      responsibleUnitId: s.responsibleUnitId,
      openedAt: s.openedAt,
      term: s.term,
      stageTitleZh: s.stageTitleZh,
      status: s.status,
      ...(s.closedAt ? { closedAt: s.closedAt } : {}),
    });
  }

  const [units, known] = await Promise.all([
    listUnits({ kinds: UNIT_KINDS, includeInactive: true }),
    addressesStore.undeliverable(),
  ]);
  return assess({
    year,
    asOfMs,
    asOf: toShanghaiIso(new Date(asOfMs)),
    units,
    cycles,
    cases,
    undeliverable: (u) => undeliverableMarks(u, known),
  });
}
