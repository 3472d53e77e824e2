// 安委办's annual assessment of the demo county (the roster `npm start` loads), February 2023 as of 2 March: some
// units report on time, some late, most not at all; an enterprise's hidden-danger case runs past its term; one
// contact's mail bounces. The workbook is read back and checked cell by cell against what the cycles' own pages and
// the cases say, by a path that shares no code with the assessment.
import ExcelJS from 'exceljs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { generateRoster, ROSTER_SIZES } from '../../local/roster.ts';
import type { Runtime } from '../../local/runtime.ts';
import { UNIT_KIND_ZH } from '../../workflows/catalog/schema.ts';
import { launchBrowser } from '../support/browser.ts';
import { openMajorHazard } from '../support/case-county.ts';
import { api, startTestRuntime } from '../support/runtime.ts';

const roster = generateRoster(ROSTER_SIZES.small, 2023);
const bouncing = roster.units.find((u) => u.id === 'ent-00003')!.contact.email.toLowerCase();
const AS_OF = '2023-03-02T12:00:00+08:00';

let rt: Runtime;
let caseId: string;
let workbook: ExcelJS.Workbook;
let asOf: string;

interface CycleRow {
  dutyId: string;
  periodKey: string;
  deadline: string;
  status: string;
  trackedSince?: string;
}

/** Every row of a sheet below its header, as text. */
function rows(name: string): string[][] {
  const ws = workbook.getWorksheet(name);
  if (!ws) throw new Error(`no sheet ${name}`);
  const out: string[][] = [];
  ws.eachRow((row, n) => {
    if (n === 1) return;
    const values = (row.values as unknown[]).slice(1);
    out.push(values.map((v) => (v === null || v === undefined ? '' : String(v))));
  });
  return out;
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.SAFEDUTY_ADMIN_TOKEN;
  process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
  try {
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.SAFEDUTY_ADMIN_TOKEN;
    else process.env.SAFEDUTY_ADMIN_TOKEN = saved;
  }
}

/** For each open cycle, the first unit still missing reports: on time if the deadline is ahead, late if not. */
async function someReport(): Promise<void> {
  const open = (await api(rt, 'GET', '/cycles?status=open&limit=1000')).json.cycles as CycleRow[];
  for (const c of open) {
    const detail = await api(rt, 'GET', `/cycles/${c.dutyId}/${c.periodKey}?state=missing&limit=1`);
    const first = (detail.json.units as { unitId: string }[] | undefined)?.[0];
    if (!first) continue;
    const r = await api(rt, 'POST', `/cycles/${c.dutyId}/${c.periodKey}/submissions`, {
      unitId: first.unitId,
      note: '已完成',
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
  }
}

beforeAll(async () => {
  rt = await startTestRuntime({
    clock: '2023-02-01T08:00:00+08:00',
    units: roster.units,
    leaders: roster.leaders,
    reconcileEveryMs: 24 * 3_600_000,
    faults: { ses: { bounceAddresses: [bouncing] } },
  });
  const opened = await openMajorHazard(rt, {
    responsibleUnitId: 'ent-00001',
    supervisingUnitId: 'dept-emergency',
    term: { until: '2023-02-20' },
  });
  expect(opened.status, JSON.stringify(opened.json)).toBe(201);
  caseId = opened.caseId;
  await rt.advanceTo(new Date('2023-02-06T10:00:00+08:00'));
  await someReport();
  await rt.advanceTo(new Date('2023-02-15T19:00:00+08:00'));
  await someReport();
  await rt.advanceTo(new Date('2023-03-01T10:00:00+08:00'));
  await someReport();
  await rt.advanceTo(new Date(AS_OF));
  const res = await fetch(`${rt.apiUrl}/assessment?year=2023&format=xlsx`, {
    headers: { authorization: `Bearer ${rt.adminToken}` },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('spreadsheetml');
  expect(decodeURIComponent(res.headers.get('content-disposition') ?? '')).toContain(
    '2023年度安全生产工作考核.xlsx',
  );
  workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(await res.arrayBuffer());
  asOf = String((await api(rt, 'GET', '/assessment?year=2023&limit=1')).json.asOf);
}, 600_000);

afterAll(async () => {
  await rt?.close();
});

describe('the annual assessment of the demo county', () => {
  it('counts every period due by its instant, unit by unit and duty by duty, as the cycles record them', async () => {
    expect(asOf).toBe('2023-03-02T12:00:00+08:00');
    const cycles = (await api(rt, 'GET', '/cycles?limit=1000')).json.cycles as CycleRow[];
    const counted = cycles.filter(
      (c) =>
        c.deadline.startsWith('2023') &&
        Date.parse(c.deadline) <= Date.parse(asOf) &&
        c.status !== 'cancelled' &&
        !(c.trackedSince && Date.parse(c.trackedSince) > Date.parse(c.deadline)),
    );
    expect(counted.length).toBeGreaterThan(40);
    const titles = new Map(
      ((await api(rt, 'GET', '/duties')).json.duties as { id: string; titleZh: string }[]).map((d) => [
        d.id,
        d.titleZh,
      ]),
    );
    const names = new Map(roster.units.map((u) => [u.id, u.name]));
    // unit|duty → [owed, onTime, late, missed]
    const expected = new Map<string, [number, number, number, number]>();
    let late = 0;
    for (const c of counted) {
      const detail = await api(rt, 'GET', `/cycles/${c.dutyId}/${c.periodKey}?limit=1000`);
      for (const u of detail.json.units as { unitId: string; state: 'submitted' | 'late' | 'missing' }[]) {
        const key = `${u.unitId}|${c.dutyId}`;
        const e = expected.get(key) ?? [0, 0, 0, 0];
        e[0]++;
        e[u.state === 'submitted' ? 1 : u.state === 'late' ? 2 : 3]++;
        if (u.state === 'late') late++;
        expected.set(key, e);
      }
    }
    expect(late).toBeGreaterThan(0);
    const detailRows = rows('职责明细');
    expect(detailRows).toHaveLength(expected.size);
    for (const r of detailRows) {
      const [unitId, unitName, titleZh, owed, onTime, lateN, missed, rate] = r;
      const dutyId = [...titles].find(([, t]) => t === titleZh)?.[0] ?? '';
      const e = expected.get(`${unitId}|${dutyId}`);
      expect(e, `${unitId} ${titleZh}`).toBeDefined();
      expect([unitName, owed, onTime, lateN, missed].map(String), `${unitId} ${titleZh}`).toEqual([
        names.get(unitId ?? ''),
        ...e!.map(String),
      ]);
      expect(Number(rate)).toBeCloseTo(e![1] / e![0], 3);
    }
    // The summary: each unit's totals are the sum of its duties.
    for (const r of rows('汇总')) {
      const [unitId, , kindZh, , , owed, onTime, lateN, missed, rate] = r;
      const mine = [...expected].filter(([k]) => k.startsWith(`${unitId}|`)).map(([, v]) => v);
      const sum = (i: number) => mine.reduce((n, v) => n + v[i]!, 0);
      expect([owed, onTime, lateN, missed].map(Number), unitId).toEqual([sum(0), sum(1), sum(2), sum(3)]);
      if (sum(0) > 0) expect(Number(rate)).toBeCloseTo(sum(1) / sum(0), 3);
      else expect(rate).toBe('');
      expect(Object.values(UNIT_KIND_ZH)).toContain(kindZh);
    }
    expect(rows('汇总').map((r) => r[0])).toEqual(roster.units.map((u) => u.id).sort());
  });

  it('lists the case with its term, missed, and the contact mail cannot reach', async () => {
    const c = (await api(rt, 'GET', `/cases/${caseId}`)).json as {
      title: string;
      stageTitleZh: string;
      term: string;
      status: string;
    };
    expect(rows('案件')).toEqual([
      [
        caseId,
        '重大事故隐患挂牌督办整改',
        c.title,
        roster.units.find((u) => u.id === 'ent-00001')!.name,
        '2023年2月1日',
        '2023年2月20日',
        c.stageTitleZh,
        '办理中',
        '',
        '逾期',
      ],
    ]);
    const marked = (await api(rt, 'GET', '/units?undeliverable=true')).json.units as {
      id: string;
      name: string;
      undeliverable: { position: string; address: string }[];
    }[];
    expect(marked.map((u) => u.id)).toEqual(['ent-00003']);
    const sheet = rows('无法送达');
    expect(sheet.map((r) => r.slice(0, 4))).toEqual([['ent-00003', marked[0]!.name, '单位联络人', bouncing]]);
    const summary = rows('汇总').find((r) => r[0] === 'ent-00003')!;
    expect(summary[12]).toContain(bouncing);
    expect(
      rows('汇总')
        .find((r) => r[0] === 'ent-00001')
        ?.slice(10, 12),
    ).toEqual(['1', '1']);
  });

  it('gives one unit as figures and as a page to print, and refuses what it cannot answer, in Chinese', async () => {
    const one = await api(rt, 'GET', '/assessment/town-001?year=2023');
    expect(one.status).toBe(200);
    const totals = one.json.totals as { owed: number; onTime: number; late: number; missed: number };
    const row = rows('汇总').find((r) => r[0] === 'town-001')!;
    expect([totals.owed, totals.onTime, totals.late, totals.missed].map(String)).toEqual(row.slice(5, 9));
    const page = await fetch(`${rt.apiUrl}/assessment/town-001?year=2023&format=html`, {
      headers: { authorization: `Bearer ${rt.adminToken}` },
    });
    expect(page.headers.get('content-type')).toContain('text/html');
    const text = await page.text();
    expect(text).toContain(
      `${roster.units.find((u) => u.id === 'town-001')!.name} 2023年度安全生产工作考核情况`,
    );
    expect(text).toContain(`应报 <b>${totals.owed}</b> 期，按时完成 <b>${totals.onTime}</b> 期`);
    expect(text).toContain('@page{size:A4');

    const unknown = await api(rt, 'GET', '/assessment/nobody?year=2023');
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toBe('未知或已停用的单位：nobody');
    const badYear = await api(rt, 'GET', '/assessment?year=23');
    expect(badYear.status).toBe(400);
    expect(badYear.json.issues).toEqual([{ field: 'year', problem: '应为四位年份，如 2023' }]);
  });

  it("prints a unit's page on A4 in a real browser, in Chinese", async () => {
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({
        extraHTTPHeaders: { authorization: `Bearer ${rt.adminToken}` },
        viewport: { width: 1000, height: 1300 },
      });
      const page = await context.newPage();
      const res = await page.goto(`${rt.apiUrl}/assessment/ent-00001?year=2023&format=html`);
      expect(res?.status()).toBe(200);
      const name = roster.units.find((u) => u.id === 'ent-00001')!.name;
      await expect(page.locator('h1').textContent()).resolves.toBe(`${name} 2023年度安全生产工作考核情况`);
      // The case, with its term missed, in the second table.
      await expect(page.locator('h2').allTextContents()).resolves.toEqual([
        '一、各项职责完成情况',
        '二、案件及整改期限',
        '三、无法送达的联系人',
      ]);
      expect(await page.locator('table').nth(1).textContent()).toContain('逾期');
      const dir = mkdtempSync(join(tmpdir(), 'safeduty-page-'));
      await page.screenshot({ path: join(dir, 'assessment-page.png'), fullPage: true });
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      // One unit's year fits a few sheets of paper.
      const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
      expect(pages).toBeGreaterThanOrEqual(1);
      expect(pages).toBeLessThanOrEqual(3);
    } finally {
      await browser.close();
    }
  });

  it('exports from the CLI, and says what is missing when asked wrongly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'safeduty-assessment-'));
    const file = join(dir, '考核.xlsx');
    const saved = await cli('assessment', '--api', rt.apiUrl, '--year', '2023', '--xlsx', file);
    expect(saved.code, saved.err).toBe(0);
    expect(saved.out).toBe(`已导出 2023 年度考核工作簿：${file}`);
    const copy = new ExcelJS.Workbook();
    await copy.xlsx.readFile(file);
    expect(copy.worksheets.map((w) => w.name)).toEqual(['说明', '汇总', '职责明细', '案件', '无法送达']);
    expect(String(copy.getWorksheet('说明')?.getCell('B2').value)).toBe('2023年3月2日（星期四）12:00');
    const listed = await cli('assessment', '--api', rt.apiUrl, '--year', '2023');
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n')[0]).toBe(
      `2023 年度考核，共 ${roster.units.length} 个单位，统计截至 2023-03-02 12:00：`,
    );
    const noYear = await cli('assessment', '--api', rt.apiUrl);
    expect(noYear.code).toBe(2);
    expect(noYear.err).toContain('请用 --year 给出考核年度');
    const pageWithoutUnit = await cli('assessment', '--api', rt.apiUrl, '--year', '2023', '--html', 'x.html');
    expect(pageWithoutUnit.code).toBe(2);
    expect(pageWithoutUnit.err).toContain('请同时给出 --unit 单位ID');
  });
});
