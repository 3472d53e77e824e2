/**
 * `npm run bench`: simulates 2023 for each reference roster in its own child process, turns the counts into a
 * yearly AWS bill (bench/prices.json, bench/cost.ts), and writes bench/results.md and bench/chart.svg.
 *
 *   npm run bench                          small and county
 *   npm run bench -- --all                 small, county and city
 *   npm run bench -- --rosters small       only the rosters named (comma-separated)
 *   npm run bench -- --reuse               rebuild results.md and the chart from bench/out/<roster>.json
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { handlers } from '../functions/registry.ts';
import type { SimulateReport } from '../local/simulate.ts';
import { renderChart } from './chart.ts';
import { measureRequestCost, type RequestCost } from './request-cost.ts';
import type { LambdaMemory, PriceTable } from './cost.ts';
import { evaluate, renderResults, renderSummary, type BenchRun, type Machine } from './report.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'bench');
const OUT = join(BENCH, 'out');
const ROSTERS = ['small', 'county', 'city'] as const;
type RosterName = (typeof ROSTERS)[number];
const FROM = '2023-01-01';
const TO = '2023-12-31';
const SEED = 1;

class BenchError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

function parseRosters(value: string): RosterName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new BenchError('--rosters needs at least one of small, county, city');
  for (const n of names)
    if (!(ROSTERS as readonly string[]).includes(n))
      throw new BenchError(`unknown roster "${n}" (expected small, county or city)`);
  return [...new Set(names)] as RosterName[];
}

function machine(): Machine {
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Runs one roster's simulated year in a child process and saves the run to bench/out/<roster>.json. */
async function runRoster(roster: RosterName): Promise<BenchRun> {
  const args = ['bin/safeduty.js', 'simulate', '--from', FROM, '--to', TO, '--county', roster];
  args.push('--seed', String(SEED), '--json');
  const stderrPath = join(OUT, `${roster}.stderr.log`);
  const stderrFile = createWriteStream(stderrPath);
  const measuredAt = new Date().toISOString();
  const loadStart = loadavg()[0] ?? 0;
  const started = performance.now();
  process.stderr.write(`bench: ${roster}: node ${args.join(' ')}\n`);

  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = () => child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const ticker = setInterval(() => {
    const s = Math.round((performance.now() - started) / 1000);
    process.stderr.write(`bench: ${roster}: ${s} s…\n`);
  }, 30_000);
  let stdout = '';
  let stderrTail = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderrFile.write(chunk);
    stderrTail = (stderrTail + chunk).slice(-4000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const childWallSeconds = (performance.now() - started) / 1000;
  clearInterval(ticker);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  stderrFile.end();
  if (code !== 0) {
    throw new BenchError(
      `${roster}: the simulator exited with code ${code} after ${childWallSeconds.toFixed(1)} s ` +
        `(stderr in ${stderrPath}):\n${stderrTail}`,
      1,
    );
  }
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let report: SimulateReport;
  try {
    report = JSON.parse(line) as SimulateReport;
  } catch {
    throw new BenchError(`${roster}: the simulator's output is not JSON: ${line.slice(0, 200)}`);
  }
  const run: BenchRun = {
    roster,
    command: ['node', ...args],
    measuredAt,
    childWallSeconds,
    loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    machine: machine(),
    report,
  };
  writeFileSync(join(OUT, `${roster}.json`), `${JSON.stringify(run, null, 2)}\n`);
  process.stderr.write(`bench: ${roster}: done in ${childWallSeconds.toFixed(1)} s\n`);
  return run;
}

function loadRun(roster: RosterName): BenchRun {
  const path = join(OUT, `${roster}.json`);
  if (!existsSync(path))
    throw new BenchError(`no saved run for ${roster} (${path}); run without --reuse first`);
  return JSON.parse(readFileSync(path, 'utf8')) as BenchRun;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rosters: { type: 'string' },
      all: { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
    },
    strict: true,
  });
  mkdirSync(OUT, { recursive: true });
  let rosters: RosterName[];
  if (values.rosters !== undefined) rosters = parseRosters(values.rosters);
  else if (values.reuse) rosters = ROSTERS.filter((r) => existsSync(join(OUT, `${r}.json`)));
  else rosters = values.all ? [...ROSTERS] : ['small', 'county'];
  if (rosters.length === 0) throw new BenchError('no saved runs in bench/out/; run without --reuse first');

  const runs: BenchRun[] = [];
  for (const r of rosters) runs.push(values.reuse ? loadRun(r) : await runRoster(r));

  // What one email, one unit read and one submission cost in CPU here: the floor under the runs' wall times.
  const costPath = join(OUT, 'request-cost.json');
  let requestCost: RequestCost | undefined;
  if (values.reuse && existsSync(costPath))
    requestCost = JSON.parse(readFileSync(costPath, 'utf8')) as RequestCost;
  else {
    process.stderr.write('bench: measuring the CPU cost of one email, unit read and submission…\n');
    requestCost = await measureRequestCost();
    writeFileSync(costPath, `${JSON.stringify(requestCost, null, 2)}\n`);
  }

  const prices = JSON.parse(readFileSync(join(BENCH, 'prices.json'), 'utf8')) as PriceTable;
  const memory: LambdaMemory = {
    cycleAdvanceMb: handlers.cycleAdvance.memoryMb,
    dispatchMb: handlers.dispatch.memoryMb,
    deliverMb: handlers.deliver.memoryMb,
    reconcileMb: handlers.reconcile.memoryMb,
  };
  const evaluated = evaluate(runs, prices, memory);
  const renderedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  writeFileSync(
    join(BENCH, 'results.md'),
    renderResults({ evaluated, prices, memory, renderedAt, reused: values.reuse, requestCost }) +
      waveSection(),
  );
  writeFileSync(
    join(BENCH, 'chart.svg'),
    renderChart(
      evaluated.map((e) => ({
        roster: e.run.roster,
        units: e.run.report.units,
        ourCost: e.cost.ours.total,
        floor: e.cost.floor,
        alternativeCost: e.cost.alternative.total,
        wallSeconds: e.run.childWallSeconds,
      })),
      `safeduty, one simulated year (2023, seed ${SEED}); prices ${prices.region} as of ${prices.asOf}`,
    ),
  );
  console.log(renderSummary(evaluated));
  console.log('wrote bench/results.md and bench/chart.svg');
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof BenchError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`bench: ${(err as Error).message}`);
    process.exitCode = err instanceof BenchError ? err.exitCode : 2;
  } else throw err;
}

/** The city-size delivery wave's figures, from its own report (`npm run bench:wave` writes bench/wave.md). */
function waveSection(): string {
  const file = join(BENCH, 'wave.md');
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').split('\n');
  const generated = lines.find((l) => l.startsWith('Generated by')) ?? '';
  const figures = lines.filter((l) => l.startsWith('- '));
  return [
    '',
    '## City-size delivery wave (issue 12)',
    '',
    `From bench/wave.md. ${generated}`,
    '',
    ...figures,
    '',
  ].join('\n');
}
