import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, type StoredEmail } from '../support/runtime.ts';

const TOKEN = 'test-admin-token-0123456789';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children = [];
});

async function startCli(data: string, clock: string) {
  const [port, sesPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      'bin/safeduty.js',
      'start',
      '--data',
      data,
      '--port',
      String(port),
      '--ses-port',
      String(sesPort),
      '--clock',
      clock,
      '--speed',
      '0',
    ],
    { env: { ...process.env, SAFEDUTY_ADMIN_TOKEN: TOKEN }, stdio: 'ignore' },
  );
  children.push(child);
  const api = `http://127.0.0.1:${port}`;
  const ses = `http://127.0.0.1:${sesPort}`;
  await waitFor(`${api}/health`);
  const advance = async (iso: string) => {
    const res = await fetch(`${api}/_local/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceTo: iso }),
    });
    expect(res.status).toBe(200);
  };
  const emails = async () =>
    ((await (await fetch(`${ses}/store`)).json()) as { emails: StoredEmail[] }).emails;
  return { child, api, advance, emails };
}

describe('npm start survives SIGKILL', () => {
  it('resumes open cycles from the data folder: nothing repeated, nothing lost', async () => {
    const data = tempDir();
    try {
      let rt = await startCli(data.path, '2023-02-06T00:00:00+08:00');
      await rt.advance('2023-02-06T09:00:00+08:00');
      const submitted = await fetch(`${rt.api}/cycles/risk-prejudgment-weekly/2023-W06/submissions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ unitId: 'ent-00001', note: '已完成' }),
      });
      expect(submitted.status).toBe(201);
      await rt.advance('2023-02-07T09:00:00+08:00');
      const before = await rt.emails();
      expect(before.length).toBeGreaterThan(0);

      rt.child.kill('SIGKILL');
      await new Promise((r) => rt.child.once('exit', r));

      rt = await startCli(data.path, '2023-02-07T09:00:00+08:00');
      await rt.advance('2023-02-08T09:30:00+08:00');
      const after = await rt.emails();
      const sent = new Set(before.map((e) => `${e.destination.to.join()}|${e.subject}`));
      const repeated = after.filter((e) => sent.has(`${e.destination.to.join()}|${e.subject}`));
      expect(repeated.map((e) => e.subject)).toEqual([]);
      // Wednesday's level-2 escalations of the weekly cycle did go out after the restart.
      expect(
        after.some(
          (e) => e.subject.includes('基层单位安全风险隐患周预判') && e.subject.includes('第2级督办'),
        ),
      ).toBe(true);

      const cycle = await fetch(`${rt.api}/cycles/risk-prejudgment-weekly/2023-W06`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const body = (await cycle.json()) as { units: { unitId: string; state: string }[] };
      expect(body.units.find((u) => u.unitId === 'ent-00001')?.state).toBe('submitted');
    } finally {
      data.remove();
    }
  }, 120_000);
});
