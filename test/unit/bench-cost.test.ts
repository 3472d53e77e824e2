import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  alternativeBill,
  costSummary,
  evaluateTargets,
  floorCost,
  ourBill,
  priceOf,
  type LambdaMemory,
  type MeasuredRoster,
  type PriceName,
  type PriceTable,
  type Usage,
} from '../../bench/cost.ts';
import { evaluate, wallTimeFloor, type BenchRun } from '../../bench/report.ts';
import type { RequestCost } from '../../bench/request-cost.ts';
import type { SimulateReport } from '../../local/simulate.ts';

/** The reference list prices of bench/prices.json, written out so the hand computation below is self-contained. */
const prices: PriceTable = {
  region: 'us-east-1',
  asOf: '2026-11-29',
  currency: 'USD',
  basis: '',
  regionNote: '',
  prices: {
    stepFunctionsTransition: { usd: 0.025, per: 1000, unit: 'transition' },
    lambdaGbSecond: { usd: 0.0000133334, per: 1, unit: 'GB-second' },
    lambdaRequest: { usd: 0.2, per: 1_000_000, unit: 'request' },
    dynamodbRead: { usd: 0.125, per: 1_000_000, unit: 'RRU' },
    dynamodbWrite: { usd: 0.625, per: 1_000_000, unit: 'WRU' },
    schedulerInvocation: { usd: 1, per: 1_000_000, unit: 'invocation' },
    sesEmail: { usd: 0.1, per: 1000, unit: 'email' },
  },
  assumptions: {
    schedulerInvocationsPerYear: 365,
    cycleAdvance: { baseMs: 50, perNoticeMs: 2, perItemReadMs: 1, note: '' },
    deliver: { baseMs: 200, perEmailMs: 75, note: '' },
    dispatch: { perInvocationMs: 500, note: '' },
    reconcile: { perYear: 35_040, perInvocationMs: 300, readUnitsPerInvocation: 10, note: '' },
    dynamodb: { readUnitsPerItem: 1, writeUnitsPerItem: 1, note: '' },
    alternative: {
      lambdaMemoryMb: 256,
      lambdaMsPerInvocation: 100,
      readsPerInvocation: 1,
      writesPerEmail: 2,
      writesPerSubmission: 1,
      note: '',
    },
  },
  excluded: [],
};
const memory: LambdaMemory = { cycleAdvanceMb: 1024, dispatchMb: 256, deliverMb: 512, reconcileMb: 256 };

/**
 * 100 cycleAdvance + 50 deliver invocations, 365 dispatches and 365 (daily) reconciler runs; 2,000 notices carried
 * by 1,000 emails; 100 submissions.
 */
const usage: Usage = {
  stateTransitions: 1000,
  invocations: 880,
  reconciles: 365,
  dynamodb: { reads: 2000, writes: 3000 },
  emails: {
    total: 1000,
    notices: { cycle: 1800, case: 200 },
    deliveryInvocations: 50,
    maxPerAddressDay: { count: 2 },
  },
  submissions: { onTime: 90, late: 10 },
  alternative: { executions: 500, stateTransitions: 4000, invocations: 1500, emails: 1200 },
};

describe('bench cost model', () => {
  it('prices a quantity per its unit', () => {
    expect(priceOf(prices.prices.sesEmail, 2500)).toBeCloseTo(0.25, 12);
    expect(priceOf(prices.prices.lambdaGbSecond, 3)).toBeCloseTo(0.0000400002, 12);
  });

  it('computes our yearly bill by hand', () => {
    const bill = ourBill(usage, prices, memory);
    // Step Functions: 1,000 × $0.025 / 1,000.
    expect(bill.stepFunctions).toBeCloseTo(0.025, 12);
    // cycleAdvance: 100 × 50 ms + 2,000 notices × 2 ms + 2,000 reads × 1 ms = 11 s at 1 GB = 11 GB-s;
    // deliver: 50 × 200 ms + 1,000 emails × 75 ms = 85 s at 0.5 GB = 42.5 GB-s;
    // dispatch: 365 × 500 ms at 0.25 GB = 45.625 GB-s; reconcile: 35,040 × 300 ms at 0.25 GB = 2,628 GB-s.
    expect(bill.quantities.lambdaGbSeconds).toBeCloseTo(2727.125, 9);
    // Requests: 100 + 50 + 365 + 35,040 (the reconciler at its production schedule, not the simulated 365).
    expect(bill.quantities.lambdaRequests).toBe(35_555);
    expect(bill.lambda).toBeCloseTo(0.036361848475 + 0.007111, 12);
    // Reads: the 2,000 measured plus 10 for each of the 34,675 reconciler runs the simulator did not make.
    expect(bill.quantities.readUnits).toBe(348_750);
    expect(bill.dynamodb).toBeCloseTo(0.04359375 + 0.001875, 12);
    expect(bill.scheduler).toBeCloseTo(0.035405, 12);
    expect(bill.ses).toBeCloseTo(0.1, 12);
    expect(bill.total).toBeCloseTo(0.249346598475, 12);
  });

  it('bills a run from before the outbox (emails sent by cycleAdvance) without delivery invocations', () => {
    const old: Usage = { ...usage, invocations: 465, emails: { reminder: 800, escalation: 200 } };
    delete old.reconciles;
    const bill = ourBill(old, prices, memory);
    // 100 advances; the 1,000 emails count as notices; deliver only its per-email time.
    const advance = (100 * 50 + 1000 * 2 + 2000) / 1000;
    const deliver = ((1000 * 75) / 1000) * 0.5;
    expect(bill.quantities.lambdaGbSeconds).toBeCloseTo(advance + deliver + 45.625 + 2628, 9);
  });

  it('computes the floor and the per-unit alternative by hand', () => {
    expect(floorCost(usage, prices)).toBeCloseTo(0.1, 12);
    const alt = alternativeBill(usage, prices, memory);
    expect(alt.stepFunctions).toBeCloseTo(0.1, 12);
    // 1,500 × 100 ms at 0.25 GB = 37.5 GB-s, plus the same dispatch 45.625 GB-s; requests 1,500 + 365.
    expect(alt.quantities.lambdaGbSeconds).toBeCloseTo(83.125, 9);
    expect(alt.lambda).toBeCloseTo(0.001108338875 + 0.000373, 12);
    // 1,500 reads; 1,200 emails × 2 + 100 submissions = 2,500 writes.
    expect(alt.quantities.readUnits).toBe(1500);
    expect(alt.quantities.writeUnits).toBe(2500);
    expect(alt.dynamodb).toBeCloseTo(0.0001875 + 0.0015625, 12);
    expect(alt.ses).toBeCloseTo(0.12, 12);
    expect(alt.total).toBeCloseTo(0.223596338875, 12);
  });

  it('gives the ratios', () => {
    const { ratios } = costSummary(usage, prices, memory);
    expect(ratios.costToFloor).toBeCloseTo(2.49346598475, 10);
    expect(ratios.costToAlternative).toBeCloseTo(0.249346598475 / 0.223596338875, 10);
    expect(ratios.transitionsToAlternative).toBe(0.25);
    expect(ratios.emailsToAlternative).toBeCloseTo(1000 / 1200, 12);
  });

  it('never counts more dispatches than invocations', () => {
    const tiny: Usage = { ...usage, invocations: 10, reconciles: 0 };
    const bill = ourBill(tiny, prices, memory);
    // All 10 are dispatches: no cycleAdvance or deliver invocations; the reconciler at its production schedule.
    expect(bill.quantities.lambdaRequests).toBe(10 + 35_040);
  });
});

describe('bench targets', () => {
  const roster = (
    name: string,
    units: number,
    wallSeconds: number,
    peakRssMb: number,
    u: Usage,
  ): MeasuredRoster => ({
    roster: name,
    units,
    wallSeconds,
    peakRssMb,
    usage: u,
    cost: costSummary(u, prices, memory),
  });

  it('marks county targets NOT RUN without county, and growth only with city', () => {
    const results = evaluateTargets([roster('small', 19, 60, 500, usage)]);
    expect(results.every((r) => r.status === 'NOT RUN')).toBe(true);
    expect(results.some((r) => r.roster === 'small')).toBe(false);
  });

  it('passes and misses with the margin', () => {
    const county = roster('county', 1000, 240, 1100, usage);
    const city = roster('city', 10_000, 3000, 4000, { ...usage, invocations: 4650 });
    const results = evaluateTargets([county, city]);
    const find = (target: string, r: string) =>
      results.find((x) => x.target.startsWith(target) && x.roster === r);
    // 1 email per unit against 0.6 × 143.5.
    expect(find('emails per unit', 'county')).toMatchObject({ status: 'PASS', value: 1 });
    expect(find('emails per unit', 'county')?.limit).toBeCloseTo(0.6 * (226_008 / 1_575), 10);
    expect(find('most emails to one address', 'county')).toMatchObject({
      status: 'PASS',
      value: 2,
      limit: 3,
    });
    expect(find('yearly bill', 'county')).toMatchObject({ status: 'PASS', limit: 23.73 });
    // SES is $0.10 of $0.2493: 59.9 % of the bill is not SES, against 10 %.
    expect(find('share of the bill not SES', 'county')?.status).toBe('MISS');
    expect(find('share of the bill not SES', 'county')?.value).toBeCloseTo(1 - 0.1 / 0.249346598475, 10);
    expect(find('our emails', 'county')?.status).toBe('PASS');
    expect(find('our transitions', 'county')?.status).toBe('MISS');
    expect(find('wall time, seconds', 'county')).toMatchObject({ status: 'PASS', value: 240 });
    expect(find('peak memory', 'county')?.status).toBe('MISS');
    // 3000 s / 240 s = 12.5× against 12× for exactly 10× units.
    expect(find('wall time growth', 'city')).toMatchObject({ status: 'MISS', limit: 12, value: 12.5 });
    expect(find('yearly cost growth', 'city')?.status).toBe('PASS');
  });
});

describe('bench/prices.json', () => {
  it('lists every price the model uses, positive, with region and date', () => {
    const table = JSON.parse(
      readFileSync(new URL('../../bench/prices.json', import.meta.url), 'utf8'),
    ) as PriceTable;
    expect(table.region).toBe('us-east-1');
    expect(table.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const name of Object.keys(prices.prices) as PriceName[]) {
      expect(table.prices[name].usd).toBeGreaterThan(0);
      expect(table.prices[name].per).toBeGreaterThan(0);
    }
    expect(costSummary(usage, table, memory).ours.total).toBeGreaterThan(0);
  });
});

describe('bench report', () => {
  const machine = { cores: 2, cpu: 'test', memoryGiB: 8, node: 'v20', platform: 'linux x64' };
  const run = (roster: string, report: Partial<SimulateReport>): BenchRun => ({
    roster,
    command: [],
    measuredAt: '2026-11-29T00:00:00Z',
    childWallSeconds: 100,
    loadAverage: { start: 0, end: 0 },
    machine,
    report: {
      from: '2023-01-01',
      to: '2023-12-31',
      units: 1000,
      executions: 10,
      wallSeconds: 99,
      peakRssMb: 100,
      ...usage,
      ...report,
    } as SimulateReport,
  });

  it('estimates index writes of an older run per submission from a run that measured them, and bills them', () => {
    const county = run('county', {
      dynamodb: { reads: 2000, writes: 3000, readUnits: 1000, writeUnits: 3200, indexWriteUnits: 200 },
    });
    const city = run('city', {
      dynamodb: {
        reads: 20000,
        writes: 30000,
        readUnits: 10000,
        writeUnits: 30000,
      } as SimulateReport['dynamodb'],
      submissions: { onTime: 900, late: 100 },
    });
    const [c, k] = evaluate([county, city], prices, memory);
    expect(c?.indexWrites).toEqual({ units: 200 });
    // County: 100 submissions and 100 other index writes; city: its 1,000 submissions plus those 100.
    expect(k?.indexWrites).toEqual({ units: 1100, estimatedFrom: 'county' });
    expect(k?.cost.ours.quantities.writeUnits).toBe(31100);
    // Alone, nothing to estimate from.
    expect(evaluate([city], prices, memory)[0]?.indexWrites).toBeUndefined();
  });

  it('gives the least wall time from the CPU per email, item read and submission', () => {
    const work = (simulatorCpuMs: number, emulatorCpuMs: number) => ({
      items: 1,
      perSecond: 1,
      simulatorCpuMs,
      emulatorCpuMs,
    });
    const cost: RequestCost = {
      measuredAt: '',
      concurrency: 8,
      email: work(2, 1),
      unitRead: work(0.1, 0.05),
      submissionWrite: work(0.2, 0.2),
    };
    // 1,000 emails, 2,000 reads, 100 submissions: simulator 2 + 0.2 + 0.02 s, emulators 1 + 0.1 + 0.02 s.
    const floor = wallTimeFloor(usage, cost, 2);
    expect(floor.simulatorCpuSeconds).toBeCloseTo(2.22, 10);
    expect(floor.emulatorCpuSeconds).toBeCloseTo(1.12, 10);
    // One process's JavaScript runs on one core: the simulator's 2.22 s bound it, not (2.22 + 1.12) / 2.
    expect(floor.leastWallSeconds).toBeCloseTo(2.22, 10);
    expect(wallTimeFloor(usage, cost, 1).leastWallSeconds).toBeCloseTo(3.34, 10);
  });
});
