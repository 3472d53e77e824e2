// kill -9 of the whole `npm start` process at random moments while emails go out, restarted on the same data
// folder with the clock a few minutes on (as a crashed host comes back): nothing owed is lost, no cycle is left in
// error, and duplicates stay inside the documented at-least-once window (one batch per crash).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../functions/delivery/model.ts';
import { savedClock, startRuntime } from '../../local/runtime.ts';
import { tempDir } from '../support/runtime.ts';

const TOKEN = 'test-admin-token-0123456789';
const FROM = '2023-02-06T08:00:00+08:00';
/** The default send rate locally is 14/s, so a batch (the emails one crash can leave unrecorded) is 14. */
const WINDOW_PER_CRASH = 14;
/** Six in `npm test`; `npm run test:long` runs a longer walk with more (SAFEDUTY_KILLS). */
const KILLS = Number(process.env.SAFEDUTY_KILLS ?? 6);
/** Two weeks in `npm test` (its time budget on two cores); the whole month with the long run's kills. */
const UNTIL = KILLS > 6 ? '2023-02-28T23:59:00+08:00' : '2023-02-19T23:59:00+08:00';

async function waitFor(url: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
  children = [];
});

async function get(api: string, path: string, token = TOKEN): Promise<unknown> {
  const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status, path).toBe(200);
  return res.json();
}

/** Every delivery record of the walk, through the API as an administrator reads it. */
async function deliveries(api: string, token = TOKEN, recipient?: string): Promise<DeliveryRecord[]> {
  const out: DeliveryRecord[] = [];
  let next: string | null = null;
  const who = recipient ? `&recipient=${encodeURIComponent(recipient)}` : '';
  do {
    const page = (await get(
      api,
      `/deliveries?from=2023-02-06&to=2023-03-01&limit=200${who}${next ? `&cursor=${next}` : ''}`,
      token,
    )) as { deliveries: DeliveryRecord[]; next: string | null };
    out.push(...page.deliveries);
    next = page.next;
  } while (next);
  return out;
}

/**
 * The records as written: each recipient's history, read from the table itself. The listing by day reads an index,
 * and the emulator (dynalite) writes an item's index entries before the item: a kill between the two leaves an index
 * entry for a record that was never written, which DynamoDB never shows. Such an email is unrecorded, inside the
 * at-least-once window, and is sent again.
 */
async function recordsAsWritten(api: string): Promise<{ records: DeliveryRecord[]; orphans: number }> {
  const listed = await deliveries(api);
  const addresses = [...new Set(listed.map((r) => r.address.toLowerCase()))];
  const records = (await Promise.all(addresses.map((a) => deliveries(api, TOKEN, a)))).flat();
  return { records, orphans: listed.length - records.length };
}

function sentNoticeIds(records: DeliveryRecord[]): string[] {
  return records
    .filter((r) => r.status === 'sent')
    .flatMap((r) => r.carried.map((c) => `${r.address}|${c.id}`));
}

/** Lines in the gateway's mail log: every email SES accepted, a torn last line included. */
function mailLogLines(data: string): number {
  const file = join(data, 'mail', 'sent.jsonl');
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim()).length;
}

async function startCli(data: string, clock: string, logFile: string) {
  const faults = join(data, '..', `${data.split('/').pop() ?? 'x'}-faults.json`);
  // Sends take a little real time, as over a network, so a kill lands while a batch is in flight.
  writeFileSync(faults, JSON.stringify({ ses: { latencyMs: 80 } }));
  const from = existsSync(logFile) ? statSync(logFile).size : 0;
  const log = openSync(logFile, 'a');
  // Ports chosen by the process itself (0), read from what it prints: a port found free here and handed over could
  // be taken by one of the process's own emulators or connections before it listens (a restart in a hundred).
  const child = spawn(
    process.execPath,
    [
      'bin/safeduty.js',
      'start',
      ...['--data', data, '--port', '0', '--ses-port', '0'],
      ...['--clock', clock, '--speed', '0', '--faults', faults],
    ],
    // Its own process group: the kill takes the whole of it, as a host crash does.
    { env: { ...process.env, SAFEDUTY_ADMIN_TOKEN: TOKEN }, stdio: ['ignore', log, log], detached: true },
  );
  children.push(child);
  const printed = () => readFileSync(logFile).subarray(from).toString('utf8');
  const fail = (why: string) => {
    // Say why: the process's own last words, and whether it is still running.
    const tail = printed().split('\n').slice(-40).join('\n');
    return new Error(
      `${why} (exit ${String(child.exitCode ?? child.signalCode ?? 'none: still running')}); its output ends:\n${tail}`,
    );
  };
  let api: string | undefined;
  const until = Date.now() + 60_000;
  while (!(api = /HTTP 接口：\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(printed())?.[1])) {
    if (child.exitCode !== null || Date.now() > until) throw fail('safeduty start did not print its address');
    await sleep(100);
  }
  try {
    await waitFor(`${api}/health`);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const advance = () =>
    fetch(`${api}/_local/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ advanceTo: UNTIL }),
    });
  const exited = new Promise((r) => child.once('exit', r));
  const kill = async () => {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
    await exited;
  };
  return { api, advance, kill };
}

describe('kill -9 while emails are being sent', () => {
  it('restarts with nothing lost, no cycle in error, duplicates only inside the at-least-once window', async () => {
    const base = tempDir('safeduty-base-');
    const crash = tempDir('safeduty-kill-');
    try {
      // The same walk without crashes: what everyone is owed.
      const rt = await startRuntime({
        dataDir: base.path,
        port: 0,
        sesPort: 0,
        speed: 0,
        clockStart: new Date(FROM),
        scheduler: true,
        log: () => undefined,
      });
      let expected: string[];
      try {
        await rt.advanceTo(new Date(UNTIL));
        expected = sentNoticeIds(await deliveries(rt.apiUrl, rt.adminToken));
      } finally {
        await rt.close();
      }
      expect(expected.length).toBeGreaterThan(300);
      const baselineEmails = mailLogLines(base.path);

      // Kill points: the mail log reaching these counts, spread over the walk.
      const data = join(crash.path, 'data');
      const logFile = join(crash.path, 'cli.log');
      const points = Array.from(
        { length: KILLS },
        (_, i) => Math.round(((i + 0.2 + Math.random() * 0.6) / KILLS) * (baselineEmails - 40)) + 20,
      );
      let clock = FROM;
      let kills = 0;
      for (const point of points) {
        const cli = await startCli(data, clock, logFile);
        const walk = cli.advance().catch(() => undefined);
        let done = false;
        void walk.then(() => (done = true));
        while (!done && mailLogLines(data) < point) await sleep(2);
        if (done) {
          await cli.kill();
          break;
        }
        await cli.kill();
        kills++;
        // Back 0–10 minutes later than the clock the process had reached.
        clock = new Date(
          (savedClock(data) ?? Date.parse(FROM)) + Math.floor(Math.random() * 10 * 60_000),
        ).toISOString();
      }
      expect(kills).toBeGreaterThanOrEqual(Math.min(5, KILLS));

      const cli = await startCli(data, clock, logFile);
      expect((await cli.advance()).status).toBe(200);
      const { records, orphans } = await recordsAsWritten(cli.api);
      const got = new Set(sentNoticeIds(records));
      const lost = expected.filter((id) => !got.has(id));
      expect(lost).toEqual([]);
      // No notice carried by two recorded emails: a recorded send is never repeated.
      const carried = sentNoticeIds(records);
      const twice = carried.filter((id, i) => carried.indexOf(id) !== i);
      const carriers = records
        .filter((r) => r.status === 'sent' && r.carried.some((c) => twice.includes(`${r.address}|${c.id}`)))
        .map((r) => `${r.address} ${r.moment} ${r.run} pass ${r.pass} ${r.invocation ?? ''} at ${r.sentAt}`);
      if (carriers.length > 0 && process.env.SAFEDUTY_KILL_LOG)
        writeFileSync(
          process.env.SAFEDUTY_KILL_LOG,
          readFileSync(logFile, 'utf8') + readFileSync(join(data, 'safeduty.log'), 'utf8'),
        );
      expect(carriers, `notices carried twice: ${twice.join(', ')}`).toEqual([]);

      // Emails SES accepted that no record accounts for: sent in a batch a kill cut short, and sent again.
      const emails = mailLogLines(data);
      const duplicates = emails - records.filter((r) => r.status === 'sent').length;
      expect(duplicates).toBeGreaterThanOrEqual(0);
      expect(duplicates).toBeLessThanOrEqual(kills * WINDOW_PER_CRASH);

      const open = (await get(cli.api, '/cycles?status=open')) as {
        cycles: { dutyId: string; periodKey: string; lastError?: unknown }[];
      };
      expect(open.cycles.filter((c) => c.lastError)).toEqual([]);
      // At least one kill landed inside a claim: the restart found emails in flight.
      // The functions' log records go to the data folder's run log (the terminal shows only Chinese messages).
      const inFlight =
        readFileSync(join(data, 'safeduty.log'), 'utf8').split('a crashed delivery left emails in flight')
          .length - 1;
      expect(inFlight).toBeGreaterThanOrEqual(1);
      console.log(
        `kill -9 walk: ${kills} kills at ${points.slice(0, kills).join(', ')} emails; ` +
          `${expected.length} notices owed, ${lost.length} lost; ${emails} emails (${baselineEmails} without ` +
          `crashes), ${duplicates} duplicates; ${inFlight} restarts took over a claim with emails in flight; ` +
          `${orphans} index entries without their record (the emulator's, see recordsAsWritten)`,
      );
      await cli.kill();
    } finally {
      base.remove();
      crash.remove();
    }
  }, 600_000);
});
