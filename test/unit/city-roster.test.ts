// A city's roster through a weekly cycle, reminders to closing: no item the cycle writes grows with the roster.
// 16,000 enterprises with ids of the longest allowed length (63 characters), nobody submitting.
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureDeliveryRun } from '../../functions/adapters/delivery-starter.ts';
import { outboxStore } from '../../functions/adapters/outbox-store.ts';
import { getCycle, listDefaulters, putLeaders, putUnits } from '../../functions/adapters/store.ts';
import { clock } from '../../functions/core/clock.ts';
import { advanceCycle, type AdvanceResult } from '../../functions/core/cycle.ts';
import type { UnitRecord } from '../../functions/core/model.ts';
import { handler as api } from '../../functions/handlers/api.ts';
import { localContext } from '../../functions/handlers/common.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { loadDeliveryPolicy } from '../../workflows/delivery/policy.ts';
import { FakeTable } from './support/fake-table.ts';

const TABLE = 'safeduty-city-test';
const table = new FakeTable(TABLE, 1000);
const sfn = mockClient(SFNClient);
const WEEKLY = loadCatalog().require('risk-prejudgment-weekly');
const UNITS = 16_000;

const id63 = (i: number) => `ent-${String(i).padStart(5, '0')}-`.padEnd(63, 'x');
const person = (who: string) => ({ name: `${who}联络员`, email: `${who}@example.gov.cn` });
const unit = (id: string, extra: Partial<UnitRecord>): UnitRecord => ({
  id,
  name: `${id}有限公司`,
  kind: 'enterprise',
  contact: person(`${id.slice(0, 10)}.contact`),
  principal: person(`${id.slice(0, 10)}.principal`),
  active: true,
  joinedAt: '2023-01-01T00:00:00+08:00',
  ...extra,
});

let now = 0;
let restore: () => void;
beforeEach(async () => {
  table.reset();
  sfn.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
  vi.stubEnv('TABLE_NAME', TABLE);
  vi.stubEnv('DELIVERY_STATE_MACHINE_ARN', 'arn:aws:states:ap-southeast-1:0:stateMachine:d');
  vi.stubEnv('SAFETY_OFFICE_UNIT_ID', 'county-safety-office');
  restore = clock.use(() => now);
  const dept = 'dept-'.padEnd(63, 'y');
  await putLeaders([{ id: 'leader-a', titleZh: '副县长', holder: person('leader-a') }]);
  await putUnits([
    { ...unit('county-safety-office', {}), kind: 'county-body' },
    { ...unit(dept, { leaderInChargeId: 'leader-a' }), kind: 'county-department' },
    ...Array.from({ length: UNITS }, (_, i) =>
      unit(id63(i), { supervisingDepartmentId: dept, leaderInChargeId: 'leader-a' }),
    ),
  ]);
});
afterEach(() => {
  restore();
  vi.unstubAllEnvs();
});
afterAll(() => {
  table.restore();
  sfn.restore();
});

describe('a city roster (16,000 units, 63-character ids)', () => {
  it('runs a weekly cycle through every escalation level to closing, no item over 400 KB', async () => {
    const ctx = {
      log: { warn: () => undefined },
      sink: { record: outboxStore.record, ensureDelivery: ensureDeliveryRun },
      remainingMs: () => 600_000,
      policy: loadDeliveryPolicy(),
    };
    let at = '2023-02-06T00:05:00+08:00';
    let result: AdvanceResult | undefined;
    for (let steps = 0; steps < 20; steps++) {
      now = Date.parse(at);
      result = await advanceCycle(WEEKLY, { dutyId: WEEKLY.id, periodKey: '2023-W06' }, ctx);
      if (result.status === 'closed') break;
      at = result.wakeAt;
    }
    expect(result).toMatchObject({ status: 'closed', defaulters: UNITS });
    const closed = await getCycle(WEEKLY.id, '2023-W06');
    expect(closed?.defaulterCount).toBe(UNITS);
    expect(await listDefaulters(closed!)).toHaveLength(UNITS);
    // The department's escalation lists 16,000 units: in parts, each its own item.
    const notices = [0, 1, 2, 3].flatMap((s) => table.partition(`OUTBOX#${s}`));
    expect(notices.length).toBeGreaterThan(UNITS);
    console.log(
      `city roster: ${UNITS} units, ${notices.length} notices in the outbox, largest item written ` +
        `${(table.largestItemBytes / 1024).toFixed(1)} KB (DynamoDB's limit: 400 KB)`,
    );
    expect(table.largestItemBytes).toBeLessThan(400 * 1024);

    // Every list route, at its largest page, stays far under Lambda's 6 MB response limit.
    vi.stubEnv('SAFEDUTY_ADMIN_TOKEN_LOCAL', 'city-admin');
    const get = async (path: string) => {
      const [rawPath = path, rawQueryString = ''] = path.split('?');
      const event = {
        version: '2.0',
        routeKey: '$default',
        rawPath,
        rawQueryString,
        headers: { authorization: 'Bearer city-admin' },
        queryStringParameters: rawQueryString
          ? Object.fromEntries(new URLSearchParams(rawQueryString))
          : undefined,
        isBase64Encoded: false,
        requestContext: { http: { method: 'GET', path: rawPath }, requestId: 'city', stage: '$default' },
      };
      const res = (await api(
        event as never,
        localContext('api', () => 29_000),
      )) as {
        statusCode: number;
        body: string;
      };
      expect(res.statusCode, path).toBe(200);
      return { bytes: Buffer.byteLength(res.body), json: JSON.parse(res.body) as Record<string, unknown> };
    };
    const sizes: string[] = [];
    for (const path of [
      '/units?limit=1000',
      '/cycles?limit=1000',
      `/cycles/${WEEKLY.id}/2023-W06?limit=1000`,
      '/overdue?limit=1000',
      `/audit?subject=unit:${id63(0)}&limit=1000`,
    ]) {
      const r = await get(path);
      sizes.push(`${path.split('?')[0]} ${(r.bytes / 1024).toFixed(0)} KB`);
      expect(r.bytes, path).toBeLessThan(1024 * 1024);
    }
    const cycle = await get(`/cycles/${WEEKLY.id}/2023-W06?state=missing&limit=1`);
    expect(cycle.json.total).toBe(UNITS);
    console.log(`city roster: largest pages — ${sizes.join(', ')} (Lambda's limit: 6 MB)`);
  }, 300_000);
});
