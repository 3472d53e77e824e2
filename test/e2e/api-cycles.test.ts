import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cycleItem, signLink } from '../../functions/core/links.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import type { Runtime } from '../../local/runtime.ts';
import { advance, startTestRuntime } from '../support/runtime.ts';
import { call, exampleRoster, expectErrorShape, fields, type Reply } from '../support/http.ts';

/**
 * Duties, cycles, submissions (by an administrator and through unit links) and the overdue ledger, through the
 * local HTTP server on a virtual clock: Monday 6 February 2023, the weekly risk pre-judgment due at 18:00.
 */
const WEEKLY = 'risk-prejudgment-weekly';
const SUBMIT = `/cycles/${WEEKLY}/2023-W06/submissions`;
const catalog = loadCatalog();
let rt: Runtime;

beforeAll(async () => {
  const { units, leaders } = exampleRoster();
  rt = await startTestRuntime({ clock: '2023-02-06T09:00:00+08:00', units, leaders });
});
afterAll(async () => {
  await rt.close();
});

const secret = () => process.env.SAFEDUTY_LINK_SECRET as string;
const inAnHour = () => Math.floor(rt.clock.nowMs() / 1000) + 3600;
const link = (unit: string, item = cycleItem(WEEKLY, '2023-W06'), e = inAnHour()) =>
  signLink({ u: unit, i: item, e }, secret());

function expectStatus(r: Reply, status: number, field?: string) {
  expect(r.status, r.text).toBe(status);
  expectErrorShape(r);
  if (field) expect(fields(r)).toContain(field);
}

async function unitState(unitId: string): Promise<string | undefined> {
  const r = await call(rt, 'GET', `/cycles/${WEEKLY}/2023-W06`);
  return (r.json.units as { unitId: string; state: string }[]).find((u) => u.unitId === unitId)?.state;
}

const cycleAuditCount = async () =>
  (await call(rt, 'GET', `/audit?subject=cycle:${WEEKLY}:2023-W06`)).json.count as number;

describe('duties', () => {
  it("lists the catalog with each duty's current period, and reads one", async () => {
    const all = await call(rt, 'GET', '/duties');
    expect(all.status).toBe(200);
    expect(all.json.count).toBe(catalog.duties.length);
    const one = await call(rt, 'GET', `/duties/${WEEKLY}`);
    expect(one.json).toMatchObject({
      id: WEEKLY,
      titleZh: '基层单位安全风险隐患周预判',
      currentPeriodKey: '2023-W06',
    });
    expect((await call(rt, 'GET', '/duties/monthly-safety-meeting')).json.currentPeriodKey).toBe('2023-02');
  });

  it('answers 404 for unknown duties, 400 for malformed ids and unknown parameters, 401 without a token', async () => {
    expectStatus(await call(rt, 'GET', '/duties/no-such-duty'), 404, 'id');
    expectStatus(await call(rt, 'GET', '/duties/Not_A_Duty'), 400, 'id');
    expectStatus(await call(rt, 'GET', '/duties?all=1'), 400, 'all');
    expectStatus(await call(rt, 'GET', '/duties', { auth: false }), 401);
    expectStatus(await call(rt, 'DELETE', '/duties/risk-prejudgment-weekly'), 405);
  });
});

describe('cycles', () => {
  it('lists cycles by duty, period and status', async () => {
    const weekly = await call(rt, 'GET', `/cycles?duty=${WEEKLY}`);
    expect(weekly.status).toBe(200);
    expect(weekly.json.cycles).toEqual([
      expect.objectContaining({
        dutyId: WEEKLY,
        periodKey: '2023-W06',
        status: 'open',
        titleZh: '基层单位安全风险隐患周预判',
      }),
    ]);
    const byPeriod = await call(rt, 'GET', '/cycles?period=2023-02');
    expect((byPeriod.json.cycles as { dutyId: string }[]).map((c) => c.dutyId)).toEqual(
      expect.arrayContaining(['monthly-safety-meeting', 'risk-prejudgment-monthly']),
    );
    const open = await call(rt, 'GET', '/cycles?status=open');
    expect(open.json.count).toBeGreaterThan(5);
    expect((await call(rt, 'GET', `/cycles?duty=${WEEKLY}&period=2023-W06&status=closed`)).json.count).toBe(
      0,
    );
    expect((await call(rt, 'GET', `/cycles?duty=${WEEKLY}&period=2023-W07`)).json.count).toBe(0);
  });

  it('rejects bad filters: unknown duty 404, bad period keys 400, bad status 400', async () => {
    expectStatus(await call(rt, 'GET', '/cycles?duty=no-such-duty'), 404, 'dutyId');
    expectStatus(await call(rt, 'GET', '/cycles?period=2023-W60'), 400, 'periodKey');
    expectStatus(await call(rt, 'GET', '/cycles?period=yesterday'), 400);
    expectStatus(await call(rt, 'GET', `/cycles?duty=${WEEKLY}&period=2023-02`), 400, 'periodKey');
    expectStatus(await call(rt, 'GET', '/cycles?status=pending'), 400, 'status');
    expectStatus(await call(rt, 'GET', '/cycles?dutyId=x'), 400, 'dutyId');
    expectStatus(await call(rt, 'GET', '/cycles', { auth: 'guess' }), 401);
  });

  it('shows one cycle with every responsible unit; unknown ones are 404 and bad keys 400', async () => {
    const r = await call(rt, 'GET', `/cycles/${WEEKLY}/2023-W06`);
    expect(r.status).toBe(200);
    expect(
      (r.json.units as { unitId: string; state: string }[]).map((u) => `${u.unitId}:${u.state}`),
    ).toEqual(['ent-0001:missing', 'ent-0002:missing', 'town-001:missing', 'town-002:missing']);
    expectStatus(await call(rt, 'GET', `/cycles/${WEEKLY}/2023-W07`), 404, 'periodKey');
    expectStatus(await call(rt, 'GET', '/cycles/no-such-duty/2023-W06'), 404, 'dutyId');
    expectStatus(await call(rt, 'GET', `/cycles/${WEEKLY}/2023-13`), 400, 'periodKey');
    expectStatus(await call(rt, 'GET', `/cycles/${WEEKLY}/2023-W06?x=1`), 400, 'x');
    expectStatus(await call(rt, 'GET', `/cycles/${WEEKLY}/2023-W06`, { auth: false }), 401);
  });
});

describe('submissions', () => {
  it('rejects bad requests with the right status and records nothing', async () => {
    const body = { unitId: 'town-001', note: '已完成' };
    const cases: [string, unknown, number, string?][] = [
      [SUBMIT, {}, 400, 'unitId'],
      [SUBMIT, { unitId: 7 }, 400, 'unitId'],
      [SUBMIT, { ...body, note: 5 }, 400, 'note'],
      [SUBMIT, { ...body, priority: 'high' }, 400, 'priority'],
      [SUBMIT, { ...body, evidence: { links: ['ftp://x'] } }, 400, 'evidence.links[0]'],
      [SUBMIT, { ...body, evidence: { photos: [] } }, 400, 'evidence.photos'],
      [SUBMIT, { ...body, evidence: { attendees: 'all' } }, 400, 'evidence.attendees'],
      [SUBMIT, { unitId: 'town-404' }, 404, 'unitId'],
      [SUBMIT, { unitId: 'dept-emergency' }, 422, 'unitId'],
      [`/cycles/no-such-duty/2023-W06/submissions`, body, 404, 'dutyId'],
      [`/cycles/${WEEKLY}/2023-W61/submissions`, body, 400, 'periodKey'],
      [`/cycles/${WEEKLY}/2023-02-06/submissions`, body, 400, 'periodKey'],
      [`/cycles/${WEEKLY}/2023-W07/submissions`, body, 404, 'periodKey'],
    ];
    for (const [path, b, status, field] of cases)
      expectStatus(await call(rt, 'POST', path, { body: b }), status, field);
    expectStatus(
      await call(rt, 'POST', SUBMIT, {
        body: '{"unitId": "town-001"',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      '(body)',
    );
    expectStatus(await call(rt, 'POST', SUBMIT, { body: { ...body, note: 'x'.repeat(1024 * 1024) } }), 413);
    expectStatus(await call(rt, 'POST', SUBMIT, { body, auth: false }), 401);
    expectStatus(await call(rt, 'POST', SUBMIT, { body, auth: 'wrong' }), 401);
    expectStatus(await call(rt, 'PUT', SUBMIT, { body }), 405);
    expect(await unitState('town-001')).toBe('missing');
    expect(await cycleAuditCount()).toBe(0);
  });

  it("refuses forged, expired and other units' or other cycles' links: 403, 410, 403", async () => {
    const body = { unitId: 'town-001' };
    const valid = link('town-001');
    const [payload = '', sig = ''] = valid.split('.');
    const forged = `${payload}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    const asOther = (token: string) =>
      call(rt, 'POST', SUBMIT, { body, auth: false, headers: { 'x-safeduty-link': token } });
    expectStatus(await asOther(forged), 403);
    expectStatus(await asOther('not-a-link'), 403);
    expectStatus(
      await asOther(
        signLink(
          { u: 'town-001', i: cycleItem(WEEKLY, '2023-W06'), e: inAnHour() },
          'another-secret-of-enough-length!!',
        ),
      ),
      403,
    );
    expectStatus(
      await asOther(link('town-001', cycleItem(WEEKLY, '2023-W06'), Math.floor(rt.clock.nowMs() / 1000) - 1)),
      410,
    );
    expectStatus(await asOther(link('town-002')), 403);
    expectStatus(await asOther(link('town-001', cycleItem(WEEKLY, '2023-W05'))), 403);
    expectStatus(await asOther(link('town-001', cycleItem('monthly-safety-meeting', '2023-02'))), 403);
    // A bad link is refused even with a valid admin token alongside: the link is what the request claims to be.
    expectStatus(await call(rt, 'POST', SUBMIT, { body, headers: { 'x-safeduty-link': forged } }), 403);
    expect(await unitState('town-001')).toBe('missing');
    expect(await cycleAuditCount()).toBe(0);
  });

  it('records a submission by an administrator (201), and a repeat returns the first one (200)', async () => {
    const r = await call(rt, 'POST', SUBMIT, {
      body: {
        unitId: 'town-001',
        note: '本周预判已完成',
        evidence: { minutes: '重点：节后复工', attendees: ['张伟'] },
      },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ unitId: 'town-001', late: false, recordedBy: 'admin:local-admin' });
    const again = await call(rt, 'POST', SUBMIT, { body: { unitId: 'town-001', note: '再交一次' } });
    expect(again.status).toBe(200);
    expect(again.json.note).toBe('本周预判已完成');
    expect(await unitState('town-001')).toBe('submitted');
    expect(await cycleAuditCount()).toBe(1);
  });

  it("records a submission through the unit's own link in the header", async () => {
    const send = (evidence: object) =>
      call(rt, 'POST', SUBMIT, {
        body: { unitId: 'ent-0001', note: '已完成', evidence },
        auth: false,
        headers: { 'x-safeduty-link': link('ent-0001') },
      });
    // Through a link the duty's form applies, as on the page.
    expectStatus(await send({}), 400, 'evidence.fields.risks');
    const r = await send({ fields: { risks: '节后复工', measures: '逐项检查', owner: '王工' } });
    expect(r.status, r.text).toBe(201);
    expect(r.json.recordedBy).toBe('unit-link:ent-0001');
    const audit = await call(rt, 'GET', `/audit?subject=cycle:${WEEKLY}:2023-W06`);
    expect(audit.json.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'unit-link:ent-0001',
          action: 'submission',
          route: '/cycles/{dutyId}/{periodKey}/submissions',
        }),
      ]),
    );
  });
});

describe('unit link pages', () => {
  it('shows the page for a valid link and refuses forged (403) and expired (410) ones', async () => {
    const page = await call(rt, 'GET', `/links/${link('town-002')}`, { auth: false });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('河东镇');
    expect(page.text).toContain('确认报送');
    expect(page.text).toContain('本周重点风险');
    expectStatus(await call(rt, 'GET', '/links/abc.def', { auth: false }), 403);
    expectStatus(await call(rt, 'GET', `/links/${link('town-002')}x`, { auth: false }), 403);
    expectStatus(
      await call(rt, 'GET', `/links/${link('town-002', cycleItem(WEEKLY, '2023-W06'), 1_600_000_000)}`, {
        auth: false,
      }),
      410,
    );
  });

  it('rejects bad bodies through a link and records nothing', async () => {
    const path = `/links/${link('town-002')}`;
    expectStatus(
      await call(rt, 'POST', path, { body: { note: '好', unitId: 'town-001' }, auth: false }),
      400,
      'unitId',
    );
    expectStatus(await call(rt, 'POST', path, { body: { note: ['a'] }, auth: false }), 400, 'note');
    expectStatus(
      await call(rt, 'POST', path, {
        body: '{"note":',
        auth: false,
        headers: { 'content-type': 'application/json' },
      }),
      400,
      '(body)',
    );
    expectStatus(await call(rt, 'POST', path, { body: { note: 'x'.repeat(1_100_000) }, auth: false }), 413);
    expectStatus(
      await call(rt, 'POST', path, { body: 'note', auth: false, headers: { 'content-type': 'text/plain' } }),
      415,
    );
    expectStatus(await call(rt, 'DELETE', path, { auth: false }), 405);
    expect(await unitState('town-002')).toBe('missing');
  });

  it('records through the link page form, and the repeat answers 200', async () => {
    const path = `/links/${link('town-002')}`;
    const r = await call(rt, 'POST', path, {
      body: new URLSearchParams({
        'f.risks': '节后复工',
        'f.measures': '逐企检查',
        'f.owner': '张伟',
        note: '已完成',
        attachments: '[]',
      }).toString(),
      auth: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.text).toContain('报送成功');
    expect(r.text).toContain('逐企检查');
    const json = await call(rt, 'POST', path, {
      body: { note: '再次', evidence: { fields: { risks: '再', measures: '再', owner: '再' } } },
      auth: false,
    });
    expect(json.status).toBe(200);
    expect(json.json).toMatchObject({
      unitId: 'town-002',
      note: '已完成',
      evidence: { fields: { risks: '节后复工', measures: '逐企检查', owner: '张伟' } },
    });
  });
});

describe('overdue ledger', () => {
  it('lists the units still missing after the deadline, with working days and escalation level', async () => {
    await advance(rt, '2023-02-08T10:00:00+08:00');
    const r = await call(rt, 'GET', '/overdue');
    expect(r.status).toBe(200);
    expect(r.json.asOf).toBe('2023-02-08T10:00:00+08:00');
    const weekly = (
      r.json.items as {
        item: string;
        unitId: string;
        workdaysOverdue: number;
        escalationLevel: number;
        titleZh: string;
        kind: string;
      }[]
    ).filter((i) => i.item === cycleItem(WEEKLY, '2023-W06'));
    // town-001, ent-0001 and town-002 submitted; ent-0002 did not.
    expect(weekly).toEqual([
      {
        kind: 'cycle',
        item: 'cycle:risk-prejudgment-weekly:2023-W06',
        titleZh: '基层单位安全风险隐患周预判（2023年第6周（2月6日至2月12日））',
        unitId: 'ent-0002',
        unitName: '河东建筑工程有限公司',
        deadline: '2023-02-06T18:00:00+08:00',
        workdaysOverdue: 2,
        escalationLevel: 2,
        dutyId: WEEKLY,
        periodKey: '2023-W06',
        townId: 'town-002',
        townName: '河东镇',
        departmentId: 'dept-housing',
        departmentName: '县住房和城乡建设局',
      },
    ]);
    const items = r.json.items as { workdaysOverdue: number }[];
    for (let i = 1; i < items.length; i++)
      expect(items[i - 1]!.workdaysOverdue).toBeGreaterThanOrEqual(items[i]!.workdaysOverdue);
  });

  it('exports CSV with a UTF-8 byte order mark for Excel', async () => {
    const json = await call(rt, 'GET', '/overdue');
    const r = await call(rt, 'GET', '/overdue?format=csv');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe(
      `attachment; filename="overdue-2023-02-08.csv"; filename*=UTF-8''${encodeURIComponent('逾期清单-2023-02-08.csv')}`,
    );
    expect([...r.bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = r.text.slice(1).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      '单位编号,单位名称,所在乡镇,主管部门,事项类型,事项,事项编号,截止时间,逾期工作日,督办级别',
    );
    expect(lines).toHaveLength((json.json.count as number) + 1);
    expect(lines).toContain(
      'ent-0002,河东建筑工程有限公司,河东镇,县住房和城乡建设局,周期职责,' +
        '基层单位安全风险隐患周预判（2023年第6周（2月6日至2月12日））,' +
        'cycle:risk-prejudgment-weekly:2023-W06,2023年2月6日 18:00,2,第2级',
    );
  });

  it('drops a unit once it submits, even late', async () => {
    const late = await call(rt, 'POST', SUBMIT, { body: { unitId: 'ent-0002', note: '补交' } });
    expect(late.json.late).toBe(true);
    const r = await call(rt, 'GET', '/overdue');
    expect(
      (r.json.items as { item: string }[]).filter((i) => i.item === cycleItem(WEEKLY, '2023-W06')),
    ).toEqual([]);
  });

  it('rejects unknown formats and parameters, and callers without a token', async () => {
    expectStatus(await call(rt, 'GET', '/overdue?format=pdf'), 400, 'format');
    expectStatus(await call(rt, 'GET', '/overdue?level=9'), 400, 'level');
    expectStatus(await call(rt, 'GET', '/overdue?since=2023-01-01'), 400, 'since');
    expectStatus(await call(rt, 'GET', '/overdue', { auth: false }), 401);
    expectStatus(await call(rt, 'GET', '/overdue?format=csv', { auth: 'nope' }), 401);
  });
});

describe('health and unknown routes', () => {
  it('answers /health without a token, 404 for unknown paths', async () => {
    expect((await call(rt, 'GET', '/health', { auth: false })).json).toEqual({ status: 'ok' });
    expectStatus(await call(rt, 'GET', '/nothing-here'), 404);
    expectStatus(await call(rt, 'POST', '/health', { body: {} }), 405);
  });
});
