/** Renders bench/results.md and the stdout summary from measured runs. Pure: strings in, strings out. */
import type { SimulateReport } from '../local/simulate.ts';
import type { RequestCost, WorkCost } from './request-cost.ts';
import {
  costSummary,
  emailsOf,
  evaluateTargets,
  priceOf,
  type CostSummary,
  type LambdaMemory,
  type MeasuredRoster,
  type PriceTable,
  type TargetResult,
  type Usage,
} from './cost.ts';

/** The machine a run was measured on. */
export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
}

/** One roster's run, as saved in bench/out/<roster>.json. */
export interface BenchRun {
  roster: string;
  command: string[];
  measuredAt: string;
  /** Wall time of the whole child process (start-up, synth, emulators, the simulated year, shutdown). */
  childWallSeconds: number;
  /** 1-minute load average when the child started and when it ended: this machine is shared. */
  loadAverage: { start: number; end: number };
  machine: Machine;
  report: SimulateReport;
}

export interface Evaluated {
  run: BenchRun;
  cost: CostSummary;
  measured: MeasuredRoster;
  /** Write units of global secondary indexes, included in the write units billed. */
  indexWrites: { units: number; estimatedFrom?: string } | undefined;
}

const submissionsOf = (r: Pick<SimulateReport, 'submissions'>) => r.submissions.onTime + r.submissions.late;
/** The delivery figures of a run (runs from before the outbox have none). */
const emailDetails = (r: SimulateReport): Partial<SimulateReport['emails']> | undefined =>
  'total' in r.emails ? r.emails : undefined;
const indexWriteUnitsOf = (r: SimulateReport): number | undefined =>
  (r.dynamodb as { indexWriteUnits?: number }).indexWriteUnits;

/**
 * Runs saved before the emulator counted index writes lack them, so they are estimated from a run that measured
 * them (the largest): every submission is exactly one write to GSI1 (a submission item is well under 1 KB), and
 * the rest (cycle records in both indexes, the seeded roster) is taken as the reference run's rest, measured.
 */
function indexWrites(run: BenchRun, runs: readonly BenchRun[]): Evaluated['indexWrites'] {
  const measured = indexWriteUnitsOf(run.report);
  if (measured !== undefined) return { units: measured };
  const ref = runs
    .filter((r) => indexWriteUnitsOf(r.report) !== undefined)
    .sort((a, b) => b.report.units - a.report.units)[0];
  if (!ref) return undefined;
  const rest = Math.max(0, (indexWriteUnitsOf(ref.report) ?? 0) - submissionsOf(ref.report));
  return { units: submissionsOf(run.report) + rest, estimatedFrom: ref.roster };
}

export function evaluate(runs: readonly BenchRun[], prices: PriceTable, memory: LambdaMemory): Evaluated[] {
  return runs.map((run) => {
    const index = indexWrites(run, runs);
    const d = run.report.dynamodb;
    const usage: SimulateReport =
      index?.estimatedFrom && d.writeUnits !== undefined
        ? {
            ...run.report,
            dynamodb: { ...d, writeUnits: d.writeUnits + index.units, indexWriteUnits: index.units },
          }
        : run.report;
    const cost = costSummary(usage, prices, memory);
    return {
      run: { ...run, report: usage },
      cost,
      indexWrites: index,
      measured: {
        roster: run.roster,
        units: run.report.units,
        wallSeconds: run.childWallSeconds,
        peakRssMb: run.report.peakRssMb,
        usage,
        cost,
      },
    };
  });
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export function usd(n: number): string {
  if (n === 0) return '$0';
  if (n >= 100) return `$${n.toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
  if (n >= 1) return `$${n.toFixed(2)}`;
  if (n >= 0.01) return `$${n.toFixed(3)}`;
  return `$${n.toPrecision(2)}`;
}

/** A list price as written on the price page: every digit kept, at least two decimals ($0.20, $0.025, $1.00). */
export function listPrice(n: number): string {
  const [whole, fraction = ''] = String(n).split('.');
  return `$${whole}.${fraction.padEnd(2, '0')}`;
}

const times = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(n >= 10 ? 1 : 3)}×` : '∞');
const percent = (n: number): string =>
  Number.isFinite(n) ? `${(n * 100).toFixed(n < 0.001 ? 4 : 3)} %` : '∞';

function table(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const sep = header.map((_, i) => (align[i] === 'l' || (align.length === 0 && i === 0) ? ':--' : '--:'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function targetValue(t: TargetResult): string {
  if (t.value === undefined) return '—';
  if (t.target.includes('USD')) return usd(t.value);
  if (t.target.includes('share')) return `${(t.value * 100).toFixed(1)} %`;
  if (t.target.includes('per unit') || t.target.includes('in a day')) return t.value.toFixed(1);
  if (t.target.includes('transitions')) return percent(t.value);
  if (t.target.includes('seconds')) return `${t.value.toFixed(1)} s`;
  if (t.target.includes('MiB')) return `${int(t.value)} MiB`;
  return times(t.value);
}

function targetLimit(t: TargetResult): string {
  if (t.target.includes('USD')) return `< ${usd(t.limit)}`;
  if (t.target.includes('share')) return `≤ ${(t.limit * 100).toFixed(0)} %`;
  if (t.target.includes('per unit') || t.target.includes('in a day')) return `≤ ${t.limit.toFixed(1)}`;
  if (t.target.includes('transitions')) return `≤ ${percent(t.limit)}`;
  if (t.target.includes('seconds')) return `≤ ${t.limit} s`;
  if (t.target.includes('MiB')) return `≤ ${t.limit} MiB`;
  return `≤ ${times(t.limit)}`;
}

export function marginText(t: TargetResult): string {
  if (t.margin === undefined || t.status === 'NOT RUN') return 'not measured in this run';
  if (!Number.isFinite(t.margin)) return 'no limit can hold';
  if (t.margin >= 1) return `${(t.margin + 1).toFixed(1)}× the limit`;
  const pct = Math.abs(t.margin) * 100;
  const digits = pct < 1 ? 2 : 1;
  return t.status === 'PASS'
    ? `${pct.toFixed(digits)} % under the limit`
    : `${pct.toFixed(digits)} % over the limit`;
}

/**
 * What writing the units' submissions costs: one item each, plus its entry in the unit's history index (GSI1).
 * Part of our DynamoDB bill; any design has to store the submissions.
 */
function submissionWrites(e: Evaluated, prices: PriceTable): number {
  // The index entry is in the bill only where index writes were measured or estimated.
  const perSubmission = e.indexWrites === undefined ? 1 : 2;
  const units = submissionsOf(e.run.report) * prices.assumptions.dynamodb.writeUnitsPerItem * perSubmission;
  return priceOf(prices.prices.dynamodbWrite, units);
}

export interface RenderInput {
  evaluated: Evaluated[];
  prices: PriceTable;
  memory: LambdaMemory;
  /** When the results were rendered (the runs carry their own measurement time). */
  renderedAt: string;
  reused: boolean;
  /** The CPU cost of one email, unit read and submission here (bench/request-cost.ts), when measured. */
  requestCost?: RequestCost | undefined;
}

/**
 * The least CPU a run needs at the measured cost per email, per item read and per submission, and so the least
 * wall time: the simulator's process and the emulators' each run their JavaScript on one core, and together they
 * have the machine's cores.
 */
export function wallTimeFloor(
  report: Pick<Usage, 'emails' | 'dynamodb' | 'submissions'>,
  cost: RequestCost,
  cores: number,
): { simulatorCpuSeconds: number; emulatorCpuSeconds: number; leastWallSeconds: number } {
  const emails = emailsOf(report);
  const reads = report.dynamodb.reads;
  const submissions = submissionsOf(report);
  const cpu = (side: 'simulatorCpuMs' | 'emulatorCpuMs') =>
    (emails * cost.email[side] + reads * cost.unitRead[side] + submissions * cost.submissionWrite[side]) /
    1000;
  const simulatorCpuSeconds = cpu('simulatorCpuMs');
  const emulatorCpuSeconds = cpu('emulatorCpuMs');
  return {
    simulatorCpuSeconds,
    emulatorCpuSeconds,
    leastWallSeconds: Math.max(
      simulatorCpuSeconds,
      emulatorCpuSeconds,
      (simulatorCpuSeconds + emulatorCpuSeconds) / Math.max(1, cores),
    ),
  };
}

function renderWallTimeFloor(evaluated: readonly Evaluated[], cost: RequestCost): string[] {
  const cols = evaluated.map((e) => `\`${e.run.roster}\``);
  const floors = evaluated.map((e) => wallTimeFloor(e.run.report, cost, e.run.machine.cores));
  const row = (label: string, f: (e: Evaluated, i: number) => string): string[] => [
    label,
    ...evaluated.map((e, i) => f(e, i)),
  ];
  const ms = (w: WorkCost) =>
    `${w.simulatorCpuMs.toFixed(3)} ms in the simulator's process and ${w.emulatorCpuMs.toFixed(3)} ms in the emulators' ` +
    `(${int(w.perSecond)} a second)`;
  return [
    '## What limits wall time here',
    '',
    `Measured by \`bench/request-cost.ts\` on ${cost.measuredAt} through the product's own code against the same ` +
      `emulators, ${cost.concurrency} in flight as a sweep sends them:`,
    '',
    `- one email (its notice recorded, then composed, sent and recorded by a delivery run): ${ms(cost.email)};`,
    `- one unit read by a roster sweep: ${ms(cost.unitRead)};`,
    `- one submission written (batched): ${ms(cost.submissionWrite)}.`,
    '',
    "Multiplied by each run's emails, items read and submissions, that is the least CPU the year needs; each " +
      "process runs its JavaScript on one core, so the least wall time is the larger of the two processes' CPU, " +
      'or their sum over the cores if that is larger. Everything else (state machines, planning, restarts of the ' +
      'emulator process, start-up) comes on top.',
    '',
    table(
      ['', ...cols],
      [
        row("CPU in the simulator's process", (_, i) => `${floors[i]!.simulatorCpuSeconds.toFixed(0)} s`),
        row("CPU in the emulators' process", (_, i) => `${floors[i]!.emulatorCpuSeconds.toFixed(0)} s`),
        row(
          'least wall time',
          (e, i) => `${floors[i]!.leastWallSeconds.toFixed(0)} s on ${e.run.machine.cores} cores`,
        ),
        row('measured wall time', (e) => `${e.run.childWallSeconds.toFixed(0)} s`),
        row('measured / least', (e, i) => times(e.run.childWallSeconds / floors[i]!.leastWallSeconds)),
      ],
    ),
    '',
  ];
}

export function renderResults(input: RenderInput): string {
  const { evaluated, prices, memory } = input;
  const a = prices.assumptions;
  const machines = [...new Set(evaluated.map((e) => JSON.stringify(e.run.machine)))].map(
    (m) => JSON.parse(m) as Machine,
  );
  const targets = evaluateTargets(evaluated.map((e) => e.measured));
  const cols = evaluated.map((e) => `\`${e.run.roster}\``);
  const row = (label: string, f: (e: Evaluated) => string): string[] => [label, ...evaluated.map(f)];
  const out: string[] = [];

  out.push('# Benchmark results', '');
  out.push(
    `Generated by \`npm run bench\`${input.reused ? ' (`--reuse`: rebuilt from saved runs in `bench/out/`)' : ''} on ${input.renderedAt}. ` +
      'Each roster ran as its own child process: `' +
      (evaluated[0]?.run.command.map((a, i, all) => (all[i - 1] === '--county' ? '<roster>' : a)).join(' ') ??
        'node bin/safeduty.js simulate …') +
      '`. The simulator runs the real engine (synthesized state machines, the same handlers, dynalite, SES local) ' +
      'on a virtual clock; see `local/simulate.ts`. Issue 7 describes the benchmark, issue 11 the targets of the ' +
      'notification path. The city-size delivery wave is measured apart: `bench/wave.md` (`npm run bench:wave`).',
    '',
  );
  out.push('## Machine', '');
  for (const m of machines)
    out.push(`- ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.platform}`);
  out.push(
    ...evaluated.map(
      (e) =>
        `- \`${e.run.roster}\` measured ${e.run.measuredAt}; 1-minute load average ${e.run.loadAverage.start.toFixed(1)} at start, ${e.run.loadAverage.end.toFixed(1)} at end`,
    ),
    '',
    'The load average matters: on a shared machine other processes take CPU from the simulator and wall times grow with it.',
    '',
  );

  out.push('## Price table', '');
  out.push(
    `${prices.basis} Region: **${prices.region}**, as of **${prices.asOf}** (\`bench/prices.json\`).`,
    '',
  );
  out.push(
    table(
      ['Service', 'List price', 'Source'],
      Object.values(prices.prices).map((p) => [
        p.unit,
        `${listPrice(p.usd)} ${p.per === 1 ? 'each' : `per ${int(p.per)}`}`,
        p.source ? `<${p.source}>` : '',
      ]),
      ['l', 'r', 'l'],
    ),
    '',
  );
  out.push(prices.regionNote, '');
  out.push('Assumptions (the simulator counts events and items; these turn them into billed units):', '');
  out.push(
    `- **Lambda, cycleAdvance** (${memory.cycleAdvanceMb} MB, from \`functions/registry.ts\`): ${a.cycleAdvance.note}`,
    `- **Lambda, deliver** (${memory.deliverMb} MB): ${a.deliver.note}`,
    `- **Lambda, dispatch** (${memory.dispatchMb} MB): ${a.dispatch.note}`,
    `- **Lambda, reconcile** (${memory.reconcileMb} MB): ${a.reconcile.note}`,
    `- **EventBridge Scheduler**: ${int(a.schedulerInvocationsPerYear + a.reconcile.perYear)} invocations a year ` +
      `(the daily dispatch, and the reconciler every 15 minutes).`,
    `- **DynamoDB**: ${a.dynamodb.note}`,
    `- **SES**: one outbound email per recipient per delivery moment, carrying every notice owed to them then.`,
    `- **Per-unit alternative**: ${a.alternative.note}`,
    `- **Not in the bill**: ${prices.excluded.join('; ')}.`,
    '',
  );

  out.push('## Per roster (one simulated year, 2023)', '');
  out.push(
    table(
      ['', ...cols],
      [
        row('units', (e) => int(e.run.report.units)),
        row('wall time, child process', (e) => `${e.run.childWallSeconds.toFixed(1)} s`),
        row(
          'wall time inside simulate() (runtime start-up included)',
          (e) => `${e.run.report.wallSeconds.toFixed(1)} s`,
        ),
        row('peak memory (simulator + emulators)', (e) => `${int(e.run.report.peakRssMb)} MiB`),
        row('executions', (e) => int(e.run.report.executions)),
        row('state transitions', (e) => int(e.run.report.stateTransitions)),
        row('handler invocations', (e) => int(e.run.report.invocations)),
        row('DynamoDB items read', (e) => int(e.run.report.dynamodb.reads)),
        row('DynamoDB items written', (e) => int(e.run.report.dynamodb.writes)),
        row('DynamoDB read / write units', (e) => {
          const d = e.run.report.dynamodb as { readUnits?: number; writeUnits?: number };
          return d.readUnits === undefined
            ? 'not measured'
            : `${int(d.readUnits)} / ${int(d.writeUnits ?? 0)}`;
        }),
        row('— of which index writes', (e) =>
          e.indexWrites === undefined
            ? 'not measured'
            : e.indexWrites.estimatedFrom
              ? `≈ ${int(e.indexWrites.units)} (estimated, see below)`
              : int(e.indexWrites.units),
        ),
        row('emails', (e) => int(emailsOf(e.run.report))),
        row('emails per unit', (e) => (emailsOf(e.run.report) / Math.max(1, e.run.report.units)).toFixed(1)),
        row('notices they carried (cycles / cases)', (e) => {
          const n = emailDetails(e.run.report)?.notices;
          return n ? `${int(n.cycle)} / ${int(n.case)}` : 'not counted';
        }),
        row('most emails to one address in a day', (e) => {
          const m = emailDetails(e.run.report)?.maxPerAddressDay;
          return m ? `${m.count}${m.address ? ` (${m.address}, ${m.day})` : ''}` : 'not counted';
        }),
        row('delivery runs / deliver invocations', (e) => {
          const d = emailDetails(e.run.report);
          return d?.deliveryRuns !== undefined
            ? `${int(d.deliveryRuns)} / ${int(d.deliveryInvocations ?? 0)}`
            : 'not counted';
        }),
        row(
          'submissions: on time / late',
          (e) => `${int(e.run.report.submissions.onTime)} / ${int(e.run.report.submissions.late)}`,
        ),
        row('Lambda GB-seconds (estimated)', (e) => e.cost.ours.quantities.lambdaGbSeconds.toFixed(1)),
      ],
    ),
    '',
  );
  for (const e of evaluated.filter((x) => x.indexWrites?.estimatedFrom)) {
    const ref = evaluated.find((x) => x.run.roster === e.indexWrites?.estimatedFrom);
    const rest = ref ? (ref.indexWrites?.units ?? 0) - submissionsOf(ref.run.report) : 0;
    out.push(
      `Estimated index writes: \`${e.run.roster}\` was measured before the local DynamoDB counted the writes of ` +
        'global secondary indexes (`local/dynalite-capacity.ts`). Its index writes are estimated as one per ' +
        `submission (each is exactly one GSI1 write) plus the ${int(rest)} other index writes measured on ` +
        `\`${e.indexWrites?.estimatedFrom}\` (cycle records, the seeded roster), and added to its write units and bill.`,
      '',
    );
  }
  out.push('### Yearly cost', '');
  out.push(
    table(
      ['', ...cols],
      [
        row('Step Functions', (e) => usd(e.cost.ours.stepFunctions)),
        row('Lambda', (e) => usd(e.cost.ours.lambda)),
        row('DynamoDB', (e) => usd(e.cost.ours.dynamodb)),
        row("— of which units' submissions and their index entries", (e) => usd(submissionWrites(e, prices))),
        row('EventBridge Scheduler', (e) => usd(e.cost.ours.scheduler)),
        row('SES', (e) => usd(e.cost.ours.ses)),
        row('**our total**', (e) => `**${usd(e.cost.ours.total)}**`),
        row('per unit and year', (e) => usd(e.cost.ours.total / Math.max(1, e.run.report.units))),
        row('floor: our emails at the SES price', (e) => usd(e.cost.floor)),
        row('per-unit alternative, total', (e) => usd(e.cost.alternative.total)),
        row('— its Step Functions', (e) => usd(e.cost.alternative.stepFunctions)),
        row('— its Lambda', (e) => usd(e.cost.alternative.lambda)),
        row('— its DynamoDB', (e) => usd(e.cost.alternative.dynamodb)),
        row('— its SES', (e) => usd(e.cost.alternative.ses)),
      ],
    ),
    '',
  );
  out.push('### The per-unit alternative on the same events', '');
  out.push(
    table(
      ['', ...cols],
      [
        row(
          'executions (ours / alternative)',
          (e) => `${int(e.run.report.executions)} / ${int(e.run.report.alternative.executions)}`,
        ),
        row(
          'state transitions (ours / alternative)',
          (e) => `${int(e.run.report.stateTransitions)} / ${int(e.run.report.alternative.stateTransitions)}`,
        ),
        row(
          'invocations (ours / alternative)',
          (e) => `${int(e.run.report.invocations)} / ${int(e.run.report.alternative.invocations)}`,
        ),
        row(
          'emails (ours / alternative)',
          (e) => `${int(emailsOf(e.run.report))} / ${int(e.run.report.alternative.emails)}`,
        ),
      ],
    ),
    '',
  );
  out.push('## Ratios', '');
  out.push(
    table(
      ['', ...cols],
      [
        row('our cost / floor', (e) => times(e.cost.ratios.costToFloor)),
        row('our cost / alternative cost', (e) => times(e.cost.ratios.costToAlternative)),
        row('our state transitions / alternative', (e) => percent(e.cost.ratios.transitionsToAlternative)),
        row('our emails / alternative', (e) => times(e.cost.ratios.emailsToAlternative)),
      ],
    ),
    '',
  );

  out.push(
    'Above the floor (our bill minus our emails at the SES price), as shares of the floor:',
    '',
    ...evaluated.map((e) => {
      const f = e.cost.floor;
      const share = (v: number) => `${usd(v)} (${f > 0 ? ((v / f) * 100).toFixed(1) : '∞'} %)`;
      return (
        `- \`${e.run.roster}\`: Step Functions ${share(e.cost.ours.stepFunctions)}, DynamoDB ${share(e.cost.ours.dynamodb)} ` +
        `of which units' submissions ${share(submissionWrites(e, prices))}, Lambda ${share(e.cost.ours.lambda)}, ` +
        `Scheduler ${share(e.cost.ours.scheduler)}.`
      );
    }),
    '',
  );

  out.push('## Targets (issues 7 and 11)', '');
  out.push(
    table(
      ['Target', 'Roster', 'Measured', 'Limit', 'Status', 'By how much'],
      targets.map((t) => [
        t.target,
        `\`${t.roster}\``,
        targetValue(t),
        targetLimit(t),
        t.status === 'PASS' ? 'PASS' : t.status === 'MISS' ? '**MISS**' : 'NOT RUN',
        marginText(t),
      ]),
      ['l', 'l', 'r', 'r', 'l', 'l'],
    ),
    '',
  );
  out.push(
    "Wall time is the child process's (start-up included). Growth limits are 12× per 10× units, scaled by the " +
      'actual ratio of units between `city` and `county`. NOT RUN: the roster was not part of this run ' +
      '(`county` runs by default, `city` with `--all`; `--reuse` rebuilds from saved runs).',
    '',
  );
  const missed = targets.filter((t) => t.status === 'MISS');
  if (missed.length > 0) {
    out.push(
      'Missed: ' + missed.map((t) => `${t.target} (\`${t.roster}\`, ${marginText(t)})`).join('; ') + '.',
      '',
    );
  }

  if (input.requestCost) out.push(...renderWallTimeFloor(evaluated, input.requestCost));

  out.push('## Chart', '', '![Yearly cost and wall time against roster size](chart.svg)', '');
  out.push(
    `Sanity check of the price table: 1,000 emails cost ${usd(priceOf(prices.prices.sesEmail, 1000))}, ` +
      `1,000 state transitions ${usd(priceOf(prices.prices.stepFunctionsTransition, 1000))}.`,
    '',
  );
  return out.join('\n');
}

export function renderSummary(evaluated: readonly Evaluated[]): string {
  const lines = evaluated.map((e) => {
    const r = e.run.report;
    return (
      `${e.run.roster.padEnd(7)} ${int(r.units).padStart(6)} units  ${e.run.childWallSeconds.toFixed(1).padStart(7)} s  ` +
      `${int(r.peakRssMb).padStart(5)} MiB  ${int(r.stateTransitions).padStart(9)} transitions  ` +
      `${int(emailsOf(r)).padStart(8)} emails  ${usd(e.cost.ours.total).padStart(9)}/yr  ` +
      `floor ${usd(e.cost.floor)}  ×${e.cost.ratios.costToFloor.toFixed(3)}  ` +
      `alt ${usd(e.cost.alternative.total)}  transitions ${percent(e.cost.ratios.transitionsToAlternative)} of alt`
    );
  });
  const targets = evaluateTargets(evaluated.map((e) => e.measured));
  const counts = (s: string) => targets.filter((t) => t.status === s).length;
  lines.push(`targets: ${counts('PASS')} pass, ${counts('MISS')} miss, ${counts('NOT RUN')} not run`);
  for (const t of targets.filter((x) => x.status === 'MISS'))
    lines.push(`  MISS ${t.target} (${t.roster}): ${targetValue(t)}, ${marginText(t)}`);
  return lines.join('\n');
}
