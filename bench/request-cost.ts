/**
 * What one unit of the simulated year's work costs in CPU on this machine, measured through the product's own code
 * against the same emulators the simulator uses: one email through the notification path (its notice recorded in
 * the outbox, then delivered by a delivery run: composed, sent, recorded, the notice removed), one unit read by a
 * roster sweep, one submission written. The benchmark multiplies these by a run's
 * counts to give the least CPU, and so the least wall time on this machine's cores, that the run could take.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outboxStore } from '../functions/adapters/outbox-store.ts';
import { activeRoster, putSubmissions } from '../functions/adapters/store.ts';
import { toShanghaiIso } from '../workflows/calendar.ts';
import type { Submission } from '../functions/core/model.ts';
import type { Notice } from '../functions/notices/model.ts';
import { loadCatalog } from '../workflows/catalog/index.ts';
import { invoke } from '../local/handlers.ts';
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
  /** Emails in flight at once (a delivery batch at the account's send rate). */
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

export async function measureRequestCost(options: { emails?: number } = {}) {
  const emails = options.emails ?? 3000;
  // A send rate high enough that pacing never waits: the cost of the work, not of the rate.
  const rate = 25;
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
    mail: 'count',
    clockStart: new Date('2023-01-03T09:00:00+08:00'),
    faults: { ses: { maxSendRate: 10_000 } },
  });
  try {
    const pid = rt.emulatorPid;
    if (pid === undefined) throw new Error('the emulators did not start in their own process');
    const duty = loadCatalog().require('risk-prejudgment-weekly');
    const enterprises = roster.units.filter((u) => u.kind === 'enterprise');

    // Warm up first (JIT, connections, the emulators' caches), as a year-long run is warm nearly all the time.
    let runs = 0;
    const sendEmails = async (count: number, stage: string) => {
      const at = toShanghaiIso(rt.clock.now());
      const notices: Notice[] = Array.from({ length: count }, (_, i) => {
        const unit = enterprises[i % enterprises.length]!;
        return {
          recipient: { address: unit.contact.email, name: unit.contact.name },
          at,
          urgency: 'routine',
          subject: 'CYCLE#risk-prejudgment-weekly#2023-W01',
          stage: `${stage}${Math.floor(i / enterprises.length)}`,
          part: 0,
          body: {
            type: 'cycle-reminder',
            dutyId: duty.id,
            periodKey: '2023-W01',
            titleZh: duty.titleZh,
            deadline: '2023-01-06T18:00:00+08:00',
            reminder: { n: 1, of: 2 },
            units: [{ id: unit.id, name: unit.name }],
            linkExpires: '2023-02-07T23:59:59+08:00',
          },
          recordedAt: at,
        };
      });
      await outboxStore.record(notices);
      for (let status = ''; status !== 'closed';) {
        const r = (await invoke('deliver', {
          action: 'advance',
          moment: at,
          executionName: `bench-${++runs}`,
        })) as { status: string };
        status = r.status;
      }
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
      concurrency: rate,
      email,
      unitRead,
      submissionWrite,
    } satisfies RequestCost;
  } finally {
    await rt.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
