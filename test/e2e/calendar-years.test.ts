import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { advance, api, sentMails, startTestRuntime, tinyCounty } from '../support/runtime.ts';

// A year without the State Council's holiday arrangement: 安委办 is told from November, cycles whose deadline falls
// in it are held instead of started on a Monday–Friday guess, dates that reach into it say so, and loading the
// arrangement starts what was held.

const EXAMPLE = JSON.parse(
  readFileSync(new URL('../../examples/holiday-arrangement-example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const OFFICE = 'office.contact@example.gov.cn';

let runtimes: Runtime[] = [];
async function start(clock: string): Promise<Runtime> {
  const { units, leaders } = tinyCounty(['ent-a']);
  // The walk spans three months: the reconciler every 6 hours instead of 15 minutes.
  const rt = await startTestRuntime({ clock, units, leaders, reconcileEveryMs: 6 * 3_600_000 });
  runtimes.push(rt);
  return rt;
}
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

const calendarMails = (rt: Runtime) =>
  sentMails(rt).filter((m) => m.to.includes(OFFICE) && m.text?.includes('系统尚未载入国务院办公厅公布的'));

describe('a year without the official holiday arrangement', () => {
  it(
    'is announced to 安委办 weekly from November, holds the 2027 cycles, and starts them once loaded',
    { timeout: 300_000 },
    async () => {
      const rt = await start('2026-10-30T08:00:00+08:00');
      await advance(rt, '2026-10-31T23:00:00+08:00');
      expect(calendarMails(rt)).toEqual([]);

      // November: one notice in the first week, one in the next, not one per dispatch.
      await advance(rt, '2026-11-13T20:00:00+08:00');
      const november = calendarMails(rt);
      expect(november.map((m) => new Date(m.at + 8 * 3_600_000).toISOString().slice(0, 10))).toEqual([
        '2026-11-02',
        '2026-11-09',
      ]);
      expect(november[0]?.text).toContain('系统尚未载入国务院办公厅公布的2027年节假日安排');
      expect(november[0]?.text).toContain('npx safeduty calendar load');
      expect((await api(rt, 'GET', '/calendar')).json).toMatchObject({ missing: [2027], heldCycles: 0 });

      // December's monthly meeting is due in 2026 but escalates into 2027: it runs, and says its dates are a guess.
      await advance(rt, '2027-01-05T20:00:00+08:00');
      const dec = await api(rt, 'GET', '/cycles/monthly-safety-meeting/2026-12');
      expect(dec.status).toBe(200);
      expect(dec.json.plan).toMatchObject({ verified: false });
      const escalated = sentMails(rt).filter((m) =>
        m.subject.includes('每月召开安全生产工作会议（2026年12月）您单位已逾期'),
      );
      expect(escalated.length).toBeGreaterThan(0);
      expect(escalated[0]?.text).toContain(
        '注意：2027 年的节假日安排尚未载入系统，涉及该年的日期暂按周一至周五推算（未核实）',
      );

      // January's is due in 2027: held, not started.
      expect((await api(rt, 'GET', '/cycles/monthly-safety-meeting/2027-01')).status).toBe(404);
      const status = (await api(rt, 'GET', '/calendar')).json as { missing: number[]; heldCycles: number };
      expect(status.missing).toEqual([2027]);
      expect(status.heldCycles).toBeGreaterThan(0);
      const held = calendarMails(rt).at(-1);
      expect(held?.text).toMatch(/因此暂未启动的工作共\d+项：/);
      expect(held?.text).toContain('每月召开安全生产工作会议（2027年1月）');
      // Nothing went out on New Year's Day, which the law fixes even without the year's arrangement.
      expect(
        sentMails(rt).filter((m) => new Date(m.at + 8 * 3_600_000).toISOString().startsWith('2027-01-01')),
      ).toEqual([]);

      // An administrator loads the arrangement: the held cycles start at once, on the loaded calendar.
      const refused = await api(rt, 'PUT', '/calendar/2027', { ...EXAMPLE, festivals: [] });
      expect(refused.status).toBe(400);
      const loaded = await api(rt, 'PUT', '/calendar/2027', EXAMPLE);
      expect(loaded.status, loaded.text).toBe(200);
      expect(loaded.json).toMatchObject({ year: 2027, daysOff: 33, workingWeekends: 4, stillHeld: 0 });
      expect(loaded.json.started).toBe(status.heldCycles);
      await advance(rt, '2027-01-05T20:05:00+08:00');
      const jan = await api(rt, 'GET', '/cycles/monthly-safety-meeting/2027-01');
      expect(jan.status).toBe(200);
      expect(jan.json.plan).toMatchObject({ verified: true, warnings: [] });
      expect((await api(rt, 'GET', '/calendar')).json).toMatchObject({
        missing: [],
        heldCycles: 0,
        loaded: [
          expect.objectContaining({ year: 2027, daysOff: 33, loadedBy: expect.stringMatching(/^admin:/) }),
        ],
      });
      const audit = await api(rt, 'GET', '/audit?subject=calendar:2027');
      expect(audit.json.entries).toEqual([expect.objectContaining({ action: 'calendar-loaded' })]);

      // No more notices about 2027, and the reminders from now on carry no warning.
      const before = calendarMails(rt).length;
      const sentBefore = sentMails(rt).length;
      await advance(rt, '2027-01-20T20:00:00+08:00');
      expect(calendarMails(rt)).toHaveLength(before);
      const later = sentMails(rt).slice(sentBefore);
      expect(later.length).toBeGreaterThan(0);
      expect(later.filter((m) => m.text?.includes('未核实'))).toEqual([]);
    },
  );
});
