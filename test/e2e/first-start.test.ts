// A first start on today's real date, with an empty data folder: the county is reminded of what it can still do,
// and nobody is escalated for a period whose deadline passed before the deployment existed (the fair start).
import { afterAll, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../functions/delivery/model.ts';
import { generateRoster, ROSTER_SIZES } from '../../local/roster.ts';
import type { Runtime } from '../../local/runtime.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { planCycle } from '../../workflows/plan.ts';
import { api, startTestRuntime } from '../support/runtime.ts';

const catalog = loadCatalog();
let rt: Runtime | undefined;
afterAll(async () => {
  await rt?.close();
});

describe('a first start on today', () => {
  it('escalates nothing whose deadline passed before the start, and reminds only what can still be done', async () => {
    const start = Date.now();
    const roster = generateRoster(ROSTER_SIZES.small, 2023);
    rt = await startTestRuntime({
      clock: new Date(start).toISOString(),
      units: roster.units,
      leaders: roster.leaders,
    });
    // A week on: every routine moment, every escalation stage of the cycles open at the start.
    await rt.advanceTo(new Date(start + 7 * 24 * 3_600_000));
    const res = await api(rt, 'GET', '/deliveries?limit=200');
    expect(res.status).toBe(200);
    const records = res.json.deliveries as DeliveryRecord[];
    expect(records.length).toBeGreaterThan(0);

    const deadlineOf = (subject: string) => {
      const [, duty, period] = subject.split('#');
      return Date.parse(planCycle(catalog.require(duty ?? ''), period ?? '').deadline);
    };
    const escalations = records.flatMap((r) =>
      r.carried.filter((c) => c.kind === 'escalation').map((c) => ({ ...c, sentAt: r.sentAt })),
    );
    expect(escalations.length).toBeGreaterThan(0);
    const unfair = escalations.filter((c) => deadlineOf(c.subject) < start);
    expect(unfair.map((c) => `${c.subject} ${c.titleZh}`)).toEqual([]);
    const moot = records.flatMap((r) =>
      r.carried.filter((c) => c.kind === 'reminder' && deadlineOf(c.subject) <= Date.parse(r.sentAt)),
    );
    expect(moot).toEqual([]);
  }, 300_000);
});
