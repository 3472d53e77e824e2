/**
 * The benchmark's cost model: pure functions from the simulator's counts and a price table (bench/prices.json) to
 * a yearly AWS bill, the SES floor and the per-unit alternative's bill, and the targets of issue 7. No I/O here.
 */

/** A list price: `usd` for every `per` units. */
export interface Price {
  usd: number;
  per: number;
  unit: string;
  source?: string;
}

export type PriceName =
  | 'stepFunctionsTransition'
  | 'lambdaGbSecond'
  | 'lambdaRequest'
  | 'dynamodbRead'
  | 'dynamodbWrite'
  | 'schedulerInvocation'
  | 'sesEmail';

export interface PriceTable {
  region: string;
  asOf: string;
  currency: string;
  basis: string;
  regionNote: string;
  prices: Record<PriceName, Price>;
  assumptions: {
    schedulerInvocationsPerYear: number;
    cycleAdvance: { baseMs: number; perEmailMs: number; perItemReadMs: number; note: string };
    dispatch: { perInvocationMs: number; note: string };
    dynamodb: { readUnitsPerItem: number; writeUnitsPerItem: number; note: string };
    alternative: {
      lambdaMemoryMb: number;
      lambdaMsPerInvocation: number;
      readsPerInvocation: number;
      writesPerEmail: number;
      writesPerSubmission: number;
      note: string;
    };
  };
  excluded: string[];
}

/** Memory of the two functions the simulated year invokes (from functions/registry.ts). */
export interface LambdaMemory {
  cycleAdvanceMb: number;
  dispatchMb: number;
}

/** The part of a `SimulateReport` the cost model reads. */
export interface Usage {
  stateTransitions: number;
  invocations: number;
  /** Items, and (from the simulator) the capacity units DynamoDB consumed for them; units are billed when known. */
  dynamodb: {
    reads: number;
    writes: number;
    readUnits?: number;
    writeUnits?: number;
    indexWriteUnits?: number;
  };
  /** Emails sent; runs saved before the delivery redesign counted reminders and escalation digests apart. */
  emails: { total: number } | { reminder: number; escalation: number };
  submissions: { onTime: number; late: number };
  alternative: { executions: number; stateTransitions: number; invocations: number; emails: number };
}

export interface Bill {
  stepFunctions: number;
  lambda: number;
  dynamodb: number;
  scheduler: number;
  ses: number;
  total: number;
  /** The billed quantities behind the dollars. */
  quantities: {
    stateTransitions: number;
    lambdaRequests: number;
    lambdaGbSeconds: number;
    readUnits: number;
    writeUnits: number;
    schedulerInvocations: number;
    emails: number;
  };
}

export function priceOf(price: Price, quantity: number): number {
  return (quantity * price.usd) / price.per;
}

export function emailsOf(usage: Pick<Usage, 'emails'>): number {
  const e = usage.emails;
  return 'total' in e ? e.total : e.reminder + e.escalation;
}

function bill(prices: PriceTable, q: Bill['quantities']): Bill {
  const p = prices.prices;
  const stepFunctions = priceOf(p.stepFunctionsTransition, q.stateTransitions);
  const lambda = priceOf(p.lambdaGbSecond, q.lambdaGbSeconds) + priceOf(p.lambdaRequest, q.lambdaRequests);
  const dynamodb = priceOf(p.dynamodbRead, q.readUnits) + priceOf(p.dynamodbWrite, q.writeUnits);
  const scheduler = priceOf(p.schedulerInvocation, q.schedulerInvocations);
  const ses = priceOf(p.sesEmail, q.emails);
  return {
    stepFunctions,
    lambda,
    dynamodb,
    scheduler,
    ses,
    total: stepFunctions + lambda + dynamodb + scheduler + ses,
    quantities: q,
  };
}

/**
 * Our design's yearly bill. The simulator's `invocations` are cycleAdvance task invocations plus the daily
 * dispatches; the dispatches are taken as `schedulerInvocationsPerYear` (never more than all invocations).
 */
export function ourBill(usage: Usage, prices: PriceTable, memory: LambdaMemory): Bill {
  const a = prices.assumptions;
  const dispatches = Math.min(a.schedulerInvocationsPerYear, usage.invocations);
  const advances = usage.invocations - dispatches;
  const emails = emailsOf(usage);
  const advanceMs =
    advances * a.cycleAdvance.baseMs +
    emails * a.cycleAdvance.perEmailMs +
    usage.dynamodb.reads * a.cycleAdvance.perItemReadMs;
  const dispatchMs = dispatches * a.dispatch.perInvocationMs;
  return bill(prices, {
    stateTransitions: usage.stateTransitions,
    lambdaRequests: usage.invocations,
    lambdaGbSeconds:
      (advanceMs / 1000) * (memory.cycleAdvanceMb / 1024) + (dispatchMs / 1000) * (memory.dispatchMb / 1024),
    readUnits: usage.dynamodb.readUnits ?? usage.dynamodb.reads * a.dynamodb.readUnitsPerItem,
    writeUnits: usage.dynamodb.writeUnits ?? usage.dynamodb.writes * a.dynamodb.writeUnitsPerItem,
    schedulerInvocations: a.schedulerInvocationsPerYear,
    emails,
  });
}

/** The floor: our emails alone at the SES price. No design that sends these emails costs less. */
export function floorCost(usage: Pick<Usage, 'emails'>, prices: PriceTable): number {
  return priceOf(prices.prices.sesEmail, emailsOf(usage));
}

/** The per-unit alternative's yearly bill on the same simulated events (assumptions in prices.json). */
export function alternativeBill(usage: Usage, prices: PriceTable, memory: LambdaMemory): Bill {
  const a = prices.assumptions;
  const alt = usage.alternative;
  const dispatches = a.schedulerInvocationsPerYear;
  const submissions = usage.submissions.onTime + usage.submissions.late;
  const gbSeconds =
    ((alt.invocations * a.alternative.lambdaMsPerInvocation) / 1000) * (a.alternative.lambdaMemoryMb / 1024) +
    ((dispatches * a.dispatch.perInvocationMs) / 1000) * (memory.dispatchMb / 1024);
  return bill(prices, {
    stateTransitions: alt.stateTransitions,
    lambdaRequests: alt.invocations + dispatches,
    lambdaGbSeconds: gbSeconds,
    readUnits: alt.invocations * a.alternative.readsPerInvocation * a.dynamodb.readUnitsPerItem,
    writeUnits:
      (alt.emails * a.alternative.writesPerEmail + submissions * a.alternative.writesPerSubmission) *
      a.dynamodb.writeUnitsPerItem,
    schedulerInvocations: dispatches,
    emails: alt.emails,
  });
}

export interface Ratios {
  /** Our total / the SES floor. */
  costToFloor: number;
  /** Our total / the alternative's total. */
  costToAlternative: number;
  /** Our state transitions / the alternative's. */
  transitionsToAlternative: number;
  /** Our emails / the alternative's. */
  emailsToAlternative: number;
}

const ratio = (a: number, b: number): number => (b === 0 ? (a === 0 ? 1 : Number.POSITIVE_INFINITY) : a / b);

export function ratios(usage: Usage, ours: Bill, floor: number, alternative: Bill): Ratios {
  return {
    costToFloor: ratio(ours.total, floor),
    costToAlternative: ratio(ours.total, alternative.total),
    transitionsToAlternative: ratio(usage.stateTransitions, usage.alternative.stateTransitions),
    emailsToAlternative: ratio(emailsOf(usage), usage.alternative.emails),
  };
}

export interface CostSummary {
  ours: Bill;
  floor: number;
  alternative: Bill;
  ratios: Ratios;
}

export function costSummary(usage: Usage, prices: PriceTable, memory: LambdaMemory): CostSummary {
  const ours = ourBill(usage, prices, memory);
  const floor = floorCost(usage, prices);
  const alternative = alternativeBill(usage, prices, memory);
  return { ours, floor, alternative, ratios: ratios(usage, ours, floor, alternative) };
}

/** One measured roster as the targets see it. */
export interface MeasuredRoster {
  roster: string;
  units: number;
  wallSeconds: number;
  peakRssMb: number;
  usage: Usage;
  cost: CostSummary;
}

export type TargetStatus = 'PASS' | 'MISS' | 'NOT RUN';

export interface TargetResult {
  target: string;
  roster: string;
  /** Measured value, in the target's own unit; undefined when not run. */
  value?: number;
  limit: number;
  status: TargetStatus;
  /** value / limit − 1: negative is headroom, positive is how far over. */
  margin?: number;
}

function check(target: string, roster: string, value: number | undefined, limit: number): TargetResult {
  if (value === undefined) return { target, roster, limit, status: 'NOT RUN' };
  return {
    target,
    roster,
    value,
    limit,
    status: value <= limit ? 'PASS' : 'MISS',
    margin: value / limit - 1,
  };
}

/**
 * The targets of issue 7, all "at most" limits: county cost ≤ 1.05 × floor; emails ≤ the alternative's and state
 * transitions ≤ 1 % of the alternative's (county, and city when measured); county ≤ 300 s wall and
 * ≤ 1 GiB peak; county → city growth of wall time and cost ≤ 12× for 10× the units (scaled by the actual ratio
 * of units). Targets whose roster was not measured are NOT RUN.
 */
export function evaluateTargets(measured: readonly MeasuredRoster[]): TargetResult[] {
  const by = new Map(measured.map((m) => [m.roster, m]));
  const county = by.get('county');
  const city = by.get('city');
  const results: TargetResult[] = [];
  results.push(check('yearly cost / SES floor', 'county', county?.cost.ratios.costToFloor, 1.05));
  // The count targets are about a real county and up; `small` (19 units) is a smoke-size roster, reported only.
  const rosters = city ? ['county', 'city'] : ['county'];
  for (const r of rosters)
    results.push(check('our emails / alternative emails', r, by.get(r)?.cost.ratios.emailsToAlternative, 1));
  for (const r of rosters)
    results.push(
      check(
        'our transitions / alternative transitions',
        r,
        by.get(r)?.cost.ratios.transitionsToAlternative,
        0.01,
      ),
    );
  results.push(check('wall time, seconds', 'county', county?.wallSeconds, 300));
  results.push(check('peak memory, MiB', 'county', county?.peakRssMb, 1024));
  const growthLimit = county && city ? 1.2 * (city.units / county.units) : 12;
  const growth = (f: (m: MeasuredRoster) => number) => (county && city ? f(city) / f(county) : undefined);
  results.push(
    check(
      'wall time growth, county → city',
      'city',
      growth((m) => m.wallSeconds),
      growthLimit,
    ),
  );
  results.push(
    check(
      'yearly cost growth, county → city',
      'city',
      growth((m) => m.cost.ours.total),
      growthLimit,
    ),
  );
  return results;
}
