/**
 * What one unit of the simulated year's work costs in CPU on this machine, measured through the product's own code
 * against the same emulators the simulator uses: one email through the notification ledger (claim, SES send,
 * settle), one unit read by a roster sweep, one submission written. The benchmark multiplies these by a run's
 * counts to give the least CPU, and so the least wall time on this machine's cores, that the run could take.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activeRoster, putSubmissions } from '../functions/adapters/store.ts';
import { mapLimit } from '../functions/core/concurrency.ts';
import { reminderEmail } from '../functions/core/messages.ts';
import type { Submission } from '../functions/core/model.ts';
import { notifyOnce } from '../functions/core/notify.ts';
import { loadCatalog } from '../workflows/catalog/index.ts';
import { generateRoster, ROSTER_SIZES } from '../local/roster.ts';
import { startRuntime } from '../local/runtime.ts';

/** CPU and throughput of one kind of work item. */
export interface WorkCost {
  items: number;
  perSecond: number;
  /** Milliseconds of CPU per item in the simulator's process (SDK clients, handlers) and in the emulators'. */
  simulatorCpuMs: number;
  emulatorCpuMs: number;
}

export interface RequestCost {
  measuredAt: string;
  /** In flight at once, as a sweep sends (functions/core/cycle.ts). */
  concurrency: number;
  email: WorkCost;
  unitRead: WorkCost;
  submissionWrite: WorkCost;
}

/** CPU time of a process in ms from /proc (user + system), or undefined off Linux. */
function processCpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

async function measure(items: number, emulatorPid: number, work: () => Promise<void>): Promise<WorkCost> {
  const emulatorStart = processCpuMs(emulatorPid) ?? 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const emulatorMs = (processCpuMs(emulatorPid) ?? emulatorStart) - emulatorStart;
  return {
    items,
    perSecond: items / (wallMs / 1000),
    simulatorCpuMs: (cpu.user + cpu.system) / 1000 / items,
    emulatorCpuMs: emulatorMs / items,
  };
}

export async function measureRequestCost(options: { emails?: number; concurrency?: number } = {}) {
  const emails = options.emails ?? 3000;
  const concurrency = options.concurrency ?? 8;
  const scratch = mkdtempSync(join(tmpdir(), 'safeduty-cost-'));
  const roster = generateRoster(ROSTER_SIZES.county, 1);
  const rt = await startRuntime({
    dataDir: scratch,
    port: 0,
    sesPort: 0,
    speed: 0,
    seed: roster,
    scheduler: false,
    emulators: 'child',
  });
  try {
    const pid = rt.emulatorPid;
    if (pid === undefined) throw new Error('the emulators did not start in their own process');
    const duty = loadCatalog().require('risk-prejudgment-weekly');
    const enterprises = roster.units.filter((u) => u.kind === 'enterprise');

    // Warm up first (JIT, connections, the emulators' caches), as a year-long run is warm nearly all the time.
    const sendEmails = async (count: number, stage: string) => {
      await mapLimit(
        Array.from({ length: count }, (_, i) => i),
        concurrency,
        async (i) => {
          const unit = enterprises[i % enterprises.length]!;
          await notifyOnce(
            {
              subject: 'CYCLE#bench#2023-W01',
              stageId: `${stage}${Math.floor(i / enterprises.length)}`,
              kind: 'other',
              recipientKey: `${unit.id}/${unit.contact.email}`,
            },
            reminderEmail({
              duty,
              periodKey: '2023-W01',
              periodStart: '2023-01-02',
              periodEnd: '2023-01-08',
              deadline: '2023-01-06T18:00:00+08:00',
              unitName: unit.name,
              personName: unit.contact.name,
              link: `http://127.0.0.1:8080/links/${'x'.repeat(180)}`,
              linkExpires: '2023-02-07T23:59:59+08:00',
              to: unit.contact.email,
            }),
          );
        },
      );
      await fetch(`${rt.sesUrl}/clear-store`, { method: 'POST' });
    };
    await sendEmails(1000, 'warm');
    const email = await measure(emails, pid, () => sendEmails(emails, 'r'));

    const sweeps = 3;
    await activeRoster(['enterprise']);
    const unitRead = await measure(sweeps * enterprises.length, pid, async () => {
      for (let i = 0; i < sweeps; i++) await activeRoster(['enterprise']);
    });

    const submissions: Submission[] = enterprises.map((u) => ({
      dutyId: 'bench',
      periodKey: '2023-W01',
      unitId: u.id,
      submittedAt: '2023-01-03T10:00:00+08:00',
      late: false,
      note: '',
      evidence: {},
      recordedBy: 'simulator',
    }));
    const submissionWrite = await measure(submissions.length, pid, () => putSubmissions(submissions));

    return {
      measuredAt: new Date().toISOString(),
      concurrency,
      email,
      unitRead,
      submissionWrite,
    } satisfies RequestCost;
  } finally {
    await rt.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
