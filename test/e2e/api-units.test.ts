import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';
import {
  call,
  exampleRoster,
  exampleRosterCsv,
  expectErrorShape,
  fields,
  type Reply,
} from '../support/http.ts';

/**
 * Units, leaders, roster import, audit and idempotency through the local HTTP server: every route's happy path
 * and its bad inputs, with the status, the error body, and a read-back showing nothing was written.
 */
let rt: Runtime;
const roster = exampleRoster();

beforeAll(async () => {
  // An empty county: the tests import the example roster themselves.
  rt = await startTestRuntime({ clock: '2023-02-06T09:00:00+08:00', units: [], scheduler: false });
});
afterAll(async () => {
  await rt.close();
});

const town = (over: Record<string, unknown> = {}) => ({
  name: '石桥镇',
  kind: 'town',
  supervisingDepartmentId: 'dept-emergency',
  leaderInChargeId: 'leader-executive',
  contact: { name: '冯娜', email: 'town-003.contact@example.gov.cn' },
  principal: { name: '曹刚', email: 'town-003.principal@example.gov.cn' },
  ...over,
});

function expect400(r: Reply, field: string) {
  expect(r.status, r.text).toBe(400);
  expectErrorShape(r);
  // Bad period keys and dates keep the calendar's own codes (invalid-period, invalid-date).
  expect(r.json.error).toMatch(/^invalid-(request|period|date)$/);
  expect(fields(r)).toContain(field);
}

async function auditCount(subject: string): Promise<number> {
  const r = await call(rt, 'GET', `/audit?subject=${encodeURIComponent(subject)}`);
  expect(r.status).toBe(200);
  return r.json.count as number;
}

describe('POST /units/import', () => {
  it('rejects a JSON roster with any bad row, listing every problem, and writes nothing', async () => {
    const bad = structuredClone(roster) as unknown as {
      units: Record<string, unknown>[];
      leaders: unknown[];
    };
    (bad.units[4] as { contact: { email: string } }).contact.email = 'not-an-address';
    bad.units[5]!.supervisingDepartmentId = 'dept-nowhere';
    bad.units[6]!.kind = 'village';
    bad.units[7]!.surprise = true;
    bad.units.push({ ...bad.units[0], name: 'again' });
    const r = await call(rt, 'POST', '/units/import', { body: bad });
    expect400(r, 'units[4].contact.email');
    expect(fields(r)).toEqual(
      expect.arrayContaining(['units[4].contact.email', 'units[6].kind', 'units[7].surprise']),
    );
    expect(r.json.message).toMatch(/未写入任何数据/);
    // Field errors come first; references are checked once every row parses.
    const refs = structuredClone(roster) as unknown as { units: Record<string, unknown>[] };
    refs.units[5]!.supervisingDepartmentId = 'dept-nowhere';
    refs.units[6]!.parentId = 'site-0001';
    refs.units[7]!.leaderInChargeId = 'leader-nobody';
    refs.units.push({ ...refs.units[0] });
    const r2 = await call(rt, 'POST', '/units/import', { body: refs });
    expect(r2.status).toBe(400);
    expectErrorShape(r2);
    expect(r2.json.issues).toEqual(
      expect.arrayContaining([
        { field: 'units[5].supervisingDepartmentId', problem: '单位不存在：dept-nowhere' },
        { field: 'units[6].parentId', problem: '上级单位应为乡镇或企业，site-0001 是班组场点' },
        { field: 'units[7].leaderInChargeId', problem: '县领导不存在：leader-nobody' },
        { field: 'units[11].id', problem: expect.stringMatching(/编号 county-safety-office 重复/) },
      ]),
    );
    const list = await call(rt, 'GET', '/units?includeInactive=true');
    expect(list.json.count).toBe(0);
    expect((await call(rt, 'GET', '/leaders')).json.count).toBe(0);
  });

  it('rejects a CSV roster with any bad row, naming row, column and problem, and writes nothing', async () => {
    const lines = exampleRosterCsv().trimEnd().split('\r\n');
    lines[3] = lines[3]!.replace('dept-industry.contact@example.gov.cn', 'dept-industry.contact@@bad');
    lines[5] = lines[5]!.replace(',town,', ',hamlet,');
    lines[7] = lines[7]!.replace(
      'ent-0001,青山煤业有限公司,enterprise,town-001',
      'ent-0001,青山煤业有限公司,enterprise,town-404',
    );
    lines.push('site-0002,短行,site');
    const r = await call(rt, 'POST', '/units/import', {
      body: lines.join('\r\n'),
      headers: { 'content-type': 'text/csv' },
    });
    expect(r.status, r.text).toBe(400);
    expectErrorShape(r);
    expect(r.json.issues).toEqual(
      expect.arrayContaining([
        { row: 4, field: 'contactEmail', problem: '不是有效的邮箱地址' },
        {
          row: 6,
          field: 'kind',
          problem: '应为单位类型：乡镇、县直部门、企业、班组场点、县级议事机构、县领导',
        },
        { row: 13, field: '(row)', problem: '本行有 3 列，表头有 13 列' },
      ]),
    );
    // A file whose rows parse but whose references do not resolve: named by row and column.
    const refs = exampleRosterCsv().replace(
      'ent-0001,青山煤业有限公司,enterprise,town-001',
      'ent-0001,青山煤业有限公司,enterprise,town-404',
    );
    const r2 = await call(rt, 'POST', '/units/import', {
      body: refs,
      headers: { 'content-type': 'text/csv' },
    });
    expect(r2.status).toBe(400);
    // Leaders are not in a CSV: every leaderInCharge is unknown in an empty table, and the parent too.
    expect(r2.json.issues).toEqual(
      expect.arrayContaining([
        { row: 8, field: 'parent', problem: '单位不存在：town-404' },
        { row: 2, field: 'leaderInCharge', problem: '县领导不存在：leader-executive' },
      ]),
    );
    const header = await call(rt, 'POST', '/units/import', {
      body: 'id,name,kind,colour\r\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(header.status).toBe(400);
    expect(header.json.issues).toEqual(
      expect.arrayContaining([
        { row: 1, field: 'colour', problem: expect.stringMatching(/不认识的列/) },
        { row: 1, field: 'contactEmail', problem: '缺少必需的列' },
      ]),
    );
    const quote = await call(rt, 'POST', '/units/import', {
      body: 'id,name\r\n"unclosed,x\r\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(quote.status).toBe(400);
    expect((await call(rt, 'GET', '/units?includeInactive=true')).json.count).toBe(0);
  });

  it('rejects empty rosters, wrong types and other media types', async () => {
    expect400(await call(rt, 'POST', '/units/import', { body: {} }), '(body)');
    expect400(await call(rt, 'POST', '/units/import', { body: { units: 'all of them' } }), 'units');
    expect400(await call(rt, 'POST', '/units/import', { body: [] }), '(body)');
    const xml = await call(rt, 'POST', '/units/import', {
      body: '<units/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(xml.status).toBe(415);
    expectErrorShape(xml);
  });

  it('imports the example JSON roster, then the example CSV finds every unit unchanged', async () => {
    const r = await call(rt, 'POST', '/units/import', { body: JSON.parse(JSON.stringify({ ...roster })) });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      units: { created: roster.units.length, updated: 0, unchanged: 0 },
      leaders: { created: roster.leaders.length, updated: 0, unchanged: 0 },
    });
    const csv = await call(rt, 'POST', '/units/import', {
      body: `\uFEFF${exampleRosterCsv()}`,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
    });
    expect(csv.status, csv.text).toBe(200);
    expect(csv.json).toMatchObject({
      changes: [],
      units: { created: 0, updated: 0, unchanged: roster.units.length },
      leaders: { created: 0, updated: 0, unchanged: 0 },
    });
    expect(await auditCount('unit:ent-0001')).toBe(1);
    const audit = await call(rt, 'GET', '/audit?subject=unit:ent-0001');
    expect(audit.json.entries).toEqual([
      {
        subject: 'unit:ent-0001',
        at: '2023-02-06T09:00:00+08:00',
        actor: 'admin:local-admin',
        action: 'unit-created',
        route: '/units/import',
        details: { import: 'json' },
      },
    ]);
  });

  it('answers 401 without the admin token and writes nothing', async () => {
    for (const auth of [false, 'wrong-token'] as const) {
      const r = await call(rt, 'POST', '/units/import', {
        body: { units: [{ ...roster.units[0], name: 'x' }] },
        auth,
      });
      expect(r.status).toBe(401);
      expectErrorShape(r);
    }
    expect((await call(rt, 'GET', '/units/county-safety-office')).json.name).toBe(roster.units[0]!.name);
  });
});

describe('units', () => {
  it('pages every listing: limit, cursor, a stable order, the same items as one page', async () => {
    const whole = (await call(rt, 'GET', '/units')).json as { units: { id: string }[]; total: number };
    expect(whole.total).toBe(roster.units.length);
    const ids: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const r = await call(rt, 'GET', `/units?limit=5${next ? `&cursor=${next}` : ''}`);
      expect(r.status).toBe(200);
      const page = r.json as { count: number; next: string | null; units: { id: string }[] };
      expect(page.count).toBe(page.units.length);
      expect(page.count).toBeLessThanOrEqual(5);
      ids.push(...page.units.map((u) => u.id));
      next = page.next;
      pages++;
    } while (next);
    expect(pages).toBe(Math.ceil(roster.units.length / 5));
    expect(ids).toEqual(whole.units.map((u) => u.id));
    const leaders = await call(rt, 'GET', '/leaders?limit=2');
    expect(leaders.json).toMatchObject({ count: 2, next: expect.any(String) });
    expect400(await call(rt, 'GET', '/units?limit=0'), 'limit');
    expect400(await call(rt, 'GET', '/units?limit=1001'), 'limit');
    expect400(await call(rt, 'GET', '/units?limit=ten'), 'limit');
    const bad = await call(rt, 'GET', '/units?cursor=not-a-cursor');
    expect400(bad, 'cursor');
    expect(bad.json.message).toBe('翻页参数 cursor 无效，请从第一页重新查询');
    for (const path of ['/cycles?limit=1', '/cases?limit=1', '/overdue?limit=1'])
      expect((await call(rt, 'GET', path)).json).toMatchObject({ next: null });
  });

  it('lists units, filtered by kind, with or without the deactivated ones', async () => {
    const all = await call(rt, 'GET', '/units');
    expect(all.status).toBe(200);
    expect((all.json.units as { id: string }[]).map((u) => u.id)).toEqual(
      roster.units.map((u) => u.id).sort(),
    );
    const towns = await call(rt, 'GET', '/units?kind=town');
    expect((towns.json.units as { id: string }[]).map((u) => u.id)).toEqual(['town-001', 'town-002']);
    expect400(await call(rt, 'GET', '/units?kind=village'), 'kind');
    expect400(await call(rt, 'GET', '/units?includeInactive=yes'), 'includeInactive');
    expect400(await call(rt, 'GET', '/units?colour=red'), 'colour');
    expect((await call(rt, 'GET', '/units', { auth: false })).status).toBe(401);
  });

  it('reads one unit; unknown ids are 404 and malformed ids 400', async () => {
    const r = await call(rt, 'GET', '/units/town-001');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: 'town-001', name: '青山镇', active: true });
    const missing = await call(rt, 'GET', '/units/town-999');
    expect(missing.status).toBe(404);
    expectErrorShape(missing);
    expect400(await call(rt, 'GET', '/units/Town_001'), 'id');
    expect400(await call(rt, 'GET', '/units/%E0%A4%A'), '(path)');
    expect((await call(rt, 'GET', '/units/town-001', { auth: 'nope' })).status).toBe(401);
  });

  it('creates a unit with PUT (201), replaces it (200), and audits each change once', async () => {
    const created = await call(rt, 'PUT', '/units/town-003', { body: town() });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ id: 'town-003', active: true });
    const same = await call(rt, 'PUT', '/units/town-003', { body: town({ id: 'town-003' }) });
    expect(same.status).toBe(200);
    expect(await auditCount('unit:town-003')).toBe(1);
    const changed = await call(rt, 'PUT', '/units/town-003', {
      body: town({ contact: { name: '新联络员', email: 'new.contact@example.gov.cn' } }),
    });
    expect(changed.status).toBe(200);
    expect((await call(rt, 'GET', '/units/town-003')).json.contact).toEqual({
      name: '新联络员',
      email: 'new.contact@example.gov.cn',
    });
    const audit = await call(rt, 'GET', '/audit?subject=unit:town-003');
    expect(
      (audit.json.entries as { action: string; route: string; details?: unknown }[]).map((e) => e.action),
    ).toEqual(['unit-created', 'unit-updated']);
    expect((audit.json.entries as { details?: unknown }[])[1]?.details).toEqual({ changed: ['contact'] });
  });

  it('rejects bad unit bodies with 400 naming each field, and writes nothing', async () => {
    const before = (await call(rt, 'GET', '/units/town-003')).json;
    const cases: [unknown, string][] = [
      [town({ contact: { name: '甲', email: 'not-an-address' } }), 'contact.email'],
      [town({ principal: { name: '乙', email: 'a@b' } }), 'principal.email'],
      [town({ kind: 'village' }), 'kind'],
      [town({ name: 42 }), 'name'],
      [town({ name: '   ' }), 'name'],
      [town({ active: 'yes' }), 'active'],
      [town({ colour: 'red' }), 'colour'],
      [town({ contact: { name: '甲', email: 'a@example.gov.cn', phone: '1' } }), 'contact.phone'],
      [{ name: '石桥镇', kind: 'town' }, 'contact'],
      [town({ id: 'town-004' }), 'id'],
      [town({ supervisingDepartmentId: 'dept-nowhere' }), 'supervisingDepartmentId'],
      [town({ supervisingDepartmentId: 'town-001' }), 'supervisingDepartmentId'],
      [town({ supervisingDepartmentId: 'town-003' }), 'supervisingDepartmentId'],
      [town({ leaderInChargeId: 'leader-nobody' }), 'leaderInChargeId'],
      [town({ kind: 'site', parentId: 'dept-emergency' }), 'parentId'],
      [town({ kind: 'enterprise', parentId: 'ent-0002' }), 'parentId'],
      [town({ parentId: 'town-003' }), 'parentId'],
      [[], '(body)'],
      ['"a string"', '(body)'],
      // Found by attack: header injection, controls, direction overrides, invisible-only names, lax addresses.
      [town({ name: '企业\r\nBcc: evil@example.com' }), 'name'],
      [town({ name: '石桥\u0000镇' }), 'name'],
      [town({ name: '\u202e镇桥石' }), 'name'],
      [town({ name: '\u200b\u200d' }), 'name'],
      [town({ contact: { name: '冯\u2066娜', email: 'a@example.gov.cn' } }), 'contact.name'],
      [town({ contact: { name: '冯娜', email: 'a@-example.com' } }), 'contact.email'],
      [town({ contact: { name: '冯娜', email: '.a@example.com' } }), 'contact.email'],
      [town({ principal: { name: '曹刚', email: 'a..b@example.com' } }), 'principal.email'],
    ];
    for (const [body, field] of cases) {
      const r = await call(rt, 'PUT', '/units/town-003', {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect400(r, field);
    }
    const malformed = await call(rt, 'PUT', '/units/town-003', {
      body: '{"name": "石桥镇",',
      headers: { 'content-type': 'application/json' },
    });
    expect400(malformed, '(body)');
    expect(malformed.json.message).toBe('请求体不是有效的 JSON');
    expect((await call(rt, 'GET', '/units/town-003')).json).toEqual(before);
    expect(await auditCount('unit:town-003')).toBe(2);
    // A failed create leaves no unit behind.
    expect400(await call(rt, 'PUT', '/units/town-004', { body: town({ kind: 'village' }) }), 'kind');
    expect((await call(rt, 'GET', '/units/town-004')).status).toBe(404);
    expect(await auditCount('unit:town-004')).toBe(0);
  });

  it('answers 413 over 1 MiB and 401/405 where due, writing nothing', async () => {
    const huge = JSON.stringify(town({ name: 'x'.repeat(1024 * 1024) }));
    for (const body of [huge, huge.slice(0, 1024 * 1024 + 1)]) {
      const r = await call(rt, 'PUT', '/units/town-004', {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(413);
      expectErrorShape(r);
    }
    expect((await call(rt, 'PUT', '/units/town-004', { body: town(), auth: false })).status).toBe(401);
    const post = await call(rt, 'POST', '/units/town-004', { body: town() });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET', 'PATCH', 'PUT']);
    expectErrorShape(post);
    expect((await call(rt, 'GET', '/units/town-004')).status).toBe(404);
  });

  it('deactivates with DELETE, keeps the record and its history, and can bring it back with PUT', async () => {
    const del = await call(rt, 'DELETE', '/units/town-003');
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ id: 'town-003', active: false });
    expect((await call(rt, 'DELETE', '/units/town-003')).status).toBe(200);
    const towns = await call(rt, 'GET', '/units?kind=town');
    expect((towns.json.units as { id: string }[]).map((u) => u.id)).not.toContain('town-003');
    const withInactive = await call(rt, 'GET', '/units?kind=town&includeInactive=true');
    expect((withInactive.json.units as { id: string }[]).map((u) => u.id)).toContain('town-003');
    expect((await call(rt, 'GET', '/units/town-003')).json.active).toBe(false);
    const audit = await call(rt, 'GET', '/audit?subject=unit:town-003');
    expect((audit.json.entries as { action: string }[]).map((e) => e.action)).toEqual([
      'unit-created',
      'unit-updated',
      'unit-deactivated',
    ]);
    // A unit that references an inactive department is refused.
    await call(rt, 'DELETE', '/units/dept-housing');
    expect400(
      await call(rt, 'PUT', '/units/town-005', { body: town({ supervisingDepartmentId: 'dept-housing' }) }),
      'supervisingDepartmentId',
    );
    expect(
      (await call(rt, 'PUT', '/units/dept-housing', { body: { ...roster.units[3], active: true } })).status,
    ).toBe(200);

    const missing = await call(rt, 'DELETE', '/units/town-999');
    expect(missing.status).toBe(404);
    expectErrorShape(missing);
    const office = await call(rt, 'DELETE', '/units/county-safety-office');
    expect(office.status).toBe(409);
    expectErrorShape(office);
    expect((await call(rt, 'GET', '/units/county-safety-office')).json.active).toBe(true);
    expect((await call(rt, 'DELETE', '/units/town-001', { auth: false })).status).toBe(401);
    expect((await call(rt, 'GET', '/units/town-001')).json.active).toBe(true);
  });
});

describe('leaders', () => {
  const leader = {
    titleZh: '副县长（分管农业）',
    holder: { name: '赵红梅', email: 'leader-agri@example.gov.cn' },
  };

  it('creates, reads, lists and replaces leaders; audits each change', async () => {
    expect((await call(rt, 'PUT', '/leaders/leader-agri', { body: leader })).status).toBe(201);
    expect((await call(rt, 'GET', '/leaders/leader-agri')).json).toEqual({ id: 'leader-agri', ...leader });
    const list = await call(rt, 'GET', '/leaders');
    expect((list.json.leaders as { id: string }[]).map((l) => l.id)).toEqual([
      'leader-agri',
      'leader-executive',
      'leader-industry',
      'leader-magistrate',
      'leader-urban',
    ]);
    const moved = { ...leader, holder: { name: '新任县领导', email: 'leader-agri-new@example.gov.cn' } };
    expect((await call(rt, 'PUT', '/leaders/leader-agri', { body: moved })).status).toBe(200);
    const audit = await call(rt, 'GET', '/audit?subject=leader:leader-agri');
    expect((audit.json.entries as { action: string }[]).map((e) => e.action)).toEqual([
      'leader-created',
      'leader-updated',
    ]);
  });

  it('rejects bad leader bodies and unknown ids, writing nothing', async () => {
    for (const [body, field] of [
      [{ ...leader, holder: { name: '甲', email: 'nope' } }, 'holder.email'],
      [{ ...leader, rank: 3 }, 'rank'],
      [{ holder: leader.holder }, 'titleZh'],
      [{ ...leader, id: 'leader-other' }, 'id'],
      [{ ...leader, titleZh: '副县长\n（分管农业）' }, 'titleZh'],
      [{ ...leader, holder: { name: '\u200b', email: 'leader-agri@example.gov.cn' } }, 'holder.name'],
    ] as const) {
      expect400(await call(rt, 'PUT', '/leaders/leader-new', { body }), field);
    }
    expect((await call(rt, 'GET', '/leaders/leader-new')).status).toBe(404);
    expect(await auditCount('leader:leader-new')).toBe(0);
    expect((await call(rt, 'PUT', '/leaders/leader-new', { body: leader, auth: false })).status).toBe(401);
  });
});

describe('audit', () => {
  it('rejects bad subjects and dates; unknown duties are 404 and bad periods 400', async () => {
    for (const q of [
      '',
      'subject=',
      'subject=town-001',
      'subject=unit:',
      'subject=unit:A_B',
      'subject=cycle:x',
      'subject=thing:1',
    ]) {
      const r = await call(rt, 'GET', `/audit?${q}`);
      expect(r.status, q).toBe(400);
      expectErrorShape(r);
    }
    expect((await call(rt, 'GET', '/audit?subject=cycle:no-such-duty:2023-W06')).status).toBe(404);
    expect400(await call(rt, 'GET', '/audit?subject=cycle:risk-prejudgment-weekly:2023-02'), 'periodKey');
    expect400(await call(rt, 'GET', '/audit?subject=unit:town-001&from=2023-02-30'), 'from');
    expect400(await call(rt, 'GET', '/audit?subject=unit:town-001&to=tomorrow'), 'to');
    expect400(await call(rt, 'GET', '/audit?subject=unit:town-001&from=2023-03-01&to=2023-02-01'), 'from');
    expect400(await call(rt, 'GET', '/audit?subject=unit:town-001&limit=0'), 'limit');
    expect400(await call(rt, 'GET', '/audit?subject=unit:town-001&cursor=junk'), 'cursor');
    // A cursor from another date range would resume outside this one.
    const outside = Buffer.from(JSON.stringify({ k: '2023-01-01T00:00:00+08:00#x' })).toString('base64url');
    expect400(
      await call(rt, 'GET', `/audit?subject=unit:town-001&from=2023-02-01&cursor=${outside}`),
      'cursor',
    );
    expect((await call(rt, 'GET', '/audit?subject=unit:town-001', { auth: false })).status).toBe(401);
  });

  it('narrows by Shanghai dates', async () => {
    expect(
      (await call(rt, 'GET', '/audit?subject=unit:town-003&from=2023-02-06&to=2023-02-06')).json.count,
    ).toBe(3);
    expect((await call(rt, 'GET', '/audit?subject=unit:town-003&from=2023-02-07')).json.count).toBe(0);
    expect((await call(rt, 'GET', '/audit?subject=unit:town-003&to=2023-02-05')).json.count).toBe(0);
  });

  it('pages in time order: the pages together are the whole history, each entry once', async () => {
    const whole = await call(rt, 'GET', '/audit?subject=unit:town-003');
    expect(whole.json.next).toBeNull();
    const all = whole.json.entries as unknown[];
    expect(all.length).toBeGreaterThanOrEqual(3);
    const paged: unknown[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const r = await call(rt, 'GET', `/audit?subject=unit:town-003&limit=2${next ? `&cursor=${next}` : ''}`);
      expect(r.status).toBe(200);
      expect((r.json.entries as unknown[]).length).toBeLessThanOrEqual(2);
      paged.push(...(r.json.entries as unknown[]));
      next = r.json.next as string | null;
      pages++;
    } while (next);
    expect(pages).toBe(Math.ceil(all.length / 2));
    expect(paged).toEqual(all);
  });
});

describe('Idempotency-Key', () => {
  it('returns the stored answer for a retry and records nothing twice', async () => {
    const body = town({ name: '柳林镇', contact: { name: '丙', email: 'town-006.contact@example.gov.cn' } });
    const headers = { 'idempotency-key': 'put-town-006-a' };
    const first = await call(rt, 'PUT', '/units/town-006', { body, headers });
    expect(first.status).toBe(201);
    // Someone changes the unit in between: the retry still gets the first answer, and does not write again.
    await call(rt, 'PUT', '/units/town-006', { body: { ...body, name: '柳林镇（改）' } });
    const retry = await call(rt, 'PUT', '/units/town-006', { body, headers });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json).toEqual(first.json);
    expect((await call(rt, 'GET', '/units/town-006')).json.name).toBe('柳林镇（改）');
    expect(await auditCount('unit:town-006')).toBe(2);
  });

  it('answers 422 for the same key with a different request, and 400 for a malformed key', async () => {
    const headers = { 'idempotency-key': 'leader-key-1' };
    const leader = { titleZh: '县长', holder: { name: '丁', email: 'leader-head@example.gov.cn' } };
    expect((await call(rt, 'PUT', '/leaders/leader-head', { body: leader, headers })).status).toBe(201);
    const other = await call(rt, 'PUT', '/leaders/leader-head', {
      body: { ...leader, titleZh: '代县长' },
      headers,
    });
    expect(other.status).toBe(422);
    expectErrorShape(other);
    expect(fields(other)).toEqual(['Idempotency-Key']);
    const elsewhere = await call(rt, 'DELETE', '/units/town-006', { headers });
    expect(elsewhere.status).toBe(422);
    expect((await call(rt, 'GET', '/leaders/leader-head')).json.titleZh).toBe('县长');
    expect((await call(rt, 'GET', '/units/town-006')).json.active).toBe(true);
    // Another caller's credentials make it another request, never a replay of someone's answer.
    expect(
      (await call(rt, 'PUT', '/leaders/leader-head', { body: leader, headers, auth: false })).status,
    ).toBe(422);
    const bad = await call(rt, 'PUT', '/leaders/leader-head', {
      body: leader,
      headers: { 'idempotency-key': 'x'.repeat(129) },
    });
    expect400(bad, 'Idempotency-Key');
  });

  it('releases the key of a failed request, so a corrected retry with the same key goes through', async () => {
    const headers = { 'idempotency-key': 'import-once' };
    const bad = await call(rt, 'POST', '/units/import', { body: { units: [{ id: 'x' }] }, headers });
    expect(bad.status).toBe(400);
    // A failure stored nothing: the same key with the (different) corrected request is accepted.
    const units = [{ ...town(), id: 'town-007', name: '南岭镇' }];
    const ok = await call(rt, 'POST', '/units/import', { body: { units }, headers });
    expect(ok.status).toBe(200);
    expect(ok.json.units).toEqual({ created: 1, updated: 0, unchanged: 0 });
    const again = await call(rt, 'POST', '/units/import', { body: { units }, headers });
    expect(again.json.units).toEqual({ created: 1, updated: 0, unchanged: 0 });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await auditCount('unit:town-007')).toBe(1);
    // GET requests ignore the header.
    expect(
      (await call(rt, 'GET', '/units/town-007', { headers })).headers.get('idempotent-replayed'),
    ).toBeNull();
  });
});
