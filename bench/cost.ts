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
    /** Daily dispatches a year. */
    schedulerInvocationsPerYear: number;
    cycleAdvance: { baseMs: number; perNoticeMs: number; perItemReadMs: number; note: string };
    deliver: { baseMs: number; perEmailMs: number; note: string };
    dispatch: { perInvocationMs: number; note: string };
    reconcile: { perYear: number; perInvocationMs: number; readUnitsPerInvocation: number; note: string };
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

/** Memory of the functions the simulated year invokes (from functions/registry.ts). */
export interface LambdaMemory {
  cycleAdvanceMb: number;
  dispatchMb: number;
  deliverMb: number;
  reconcileMb: number;
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
  /**
   * Emails sent, with the notices they carried and the delivery invocations that sent them; runs saved before the
   * delivery redesign counted reminders and escalation digests apart, sent by cycleAdvance itself.
   */
  emails:
    | {
        total: number;
        maxPerAddressDay?: { count: number };
        notices?: { cycle: number; case: number };
        deliveryInvocations?: number;
      }
    | { reminder: number; escalation: number };
  /** Reconciler runs the simulator made (it runs them daily; AWS every 15 minutes). */
  reconciles?: number;
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

/** Notices recorded (what cycles and cases owed people); a run from before the outbox counts its emails. */
export function noticesOf(usage: Pick<Usage, 'emails'>): number {
  const e = usage.emails;
  if ('total' in e && e.notices) return e.notices.cycle + e.notices.case;
  return emailsOf(usage);
}

/**
 * Our design's yearly bill. The simulator's `invocations` are the task invocations (cycleAdvance, caseAdvance,
 * deliver) plus the daily dispatches and its reconciler runs. The dispatches are taken as
 * `schedulerInvocationsPerYear` (never more than all invocations); the reconciler is billed at its production
 * schedule (`reconcile.perYear`), replacing the simulator's daily runs, with the reads of the runs it did not make
 * added at `readUnitsPerInvocation`.
 */
export function ourBill(usage: Usage, prices: PriceTable, memory: LambdaMemory): Bill {
  const a = prices.assumptions;
  const simulatedReconciles = Math.min(usage.reconciles ?? 0, usage.invocations);
  const dispatches = Math.min(a.schedulerInvocationsPerYear, usage.invocations - simulatedReconciles);
  const e = usage.emails;
  const deliveries = Math.min(
    'total' in e ? (e.deliveryInvocations ?? 0) : 0,
    usage.invocations - simulatedReconciles - dispatches,
  );
  const advances = Math.max(0, usage.invocations - simulatedReconciles - dispatches - deliveries);
  const emails = emailsOf(usage);
  const reconciles = a.reconcile.perYear;
  const seconds = (ms: number, mb: number) => (ms / 1000) * (mb / 1024);
  const advanceMs =
    advances * a.cycleAdvance.baseMs +
    noticesOf(usage) * a.cycleAdvance.perNoticeMs +
    usage.dynamodb.reads * a.cycleAdvance.perItemReadMs;
  const deliverMs = deliveries * a.deliver.baseMs + emails * a.deliver.perEmailMs;
  const extraReconcileReads =
    Math.max(0, reconciles - simulatedReconciles) * a.reconcile.readUnitsPerInvocation;
  return bill(prices, {
    stateTransitions: usage.stateTransitions,
    lambdaRequests: advances + deliveries + dispatches + reconciles,
    lambdaGbSeconds:
      seconds(advanceMs, memory.cycleAdvanceMb) +
      seconds(deliverMs, memory.deliverMb) +
      seconds(dispatches * a.dispatch.perInvocationMs, memory.dispatchMb) +
      seconds(reconciles * a.reconcile.perInvocationMs, memory.reconcileMb),
    readUnits:
      (usage.dynamodb.readUnits ?? usage.dynamodb.reads * a.dynamodb.readUnitsPerItem) + extraReconcileReads,
    writeUnits: usage.dynamodb.writeUnits ?? usage.dynamodb.writes * a.dynamodb.writeUnitsPerItem,
    schedulerInvocations: a.schedulerInvocationsPerYear + reconciles,
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

/** The first wave's county figure (bench/results.md of 2026-11-29): 226,008 emails for 1,575 units. */
export const FIRST_WAVE_EMAILS_PER_UNIT = 226_008 / 1_575;
/** The first wave's yearly bill for `county`, which the redesign must come in under. */
export const FIRST_WAVE_COUNTY_BILL = 23.73;

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
 * The targets, all "at most" limits. Issue 11 (the notification path): county emails per unit and year ≤ 0.6 × the
 * first wave's, at most 3 emails to one address on one day, the yearly bill below the first wave's $23.73 with
 * everything but SES ≤ 10 % of it. Issue 7 (kept): state transitions ≤ 1 % of the per-unit design's and emails ≤
 * its emails (county, and city when measured); county ≤ 300 s wall and ≤ 1 GiB peak; county → city growth of wall
 * time and cost ≤ 12× for 10× the units (scaled by the actual ratio of units). Targets whose roster was not
 * measured are NOT RUN.
 */
export function evaluateTargets(measured: readonly MeasuredRoster[]): TargetResult[] {
  const by = new Map(measured.map((m) => [m.roster, m]));
  const county = by.get('county');
  const city = by.get('city');
  const results: TargetResult[] = [];
  const perUnit = county ? emailsOf(county.usage) / county.units : undefined;
  results.push(check('emails per unit and year', 'county', perUnit, 0.6 * FIRST_WAVE_EMAILS_PER_UNIT));
  const most =
    county && 'total' in county.usage.emails ? county.usage.emails.maxPerAddressDay?.count : undefined;
  results.push(check('most emails to one address in a day', 'county', most, 3));
  results.push(check('yearly bill, USD', 'county', county?.cost.ours.total, FIRST_WAVE_COUNTY_BILL));
  const nonSes = county ? 1 - county.cost.ours.ses / county.cost.ours.total : undefined;
  results.push(check('share of the bill not SES', 'county', nonSes, 0.1));
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
