import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { OVERDUE_CSV_HEADER } from '../../functions/core/overdue-ledger.ts';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Runtime } from '../../local/runtime.ts';
import { advance, startTestRuntime, tempDir } from '../support/runtime.ts';

/** The admin CLI against a running local system: messages in Chinese, exit 0 / 2 (bad input, 4xx) / 1. */
let rt: Runtime;
const dir = tempDir('safeduty-cli-');
const savedToken = process.env.SAFEDUTY_ADMIN_TOKEN;

beforeAll(async () => {
  rt = await startTestRuntime({ clock: '2023-02-06T09:00:00+08:00', units: [] });
});
afterAll(async () => {
  await rt.close();
  dir.remove();
});
afterEach(() => {
  if (savedToken === undefined) delete process.env.SAFEDUTY_ADMIN_TOKEN;
  else process.env.SAFEDUTY_ADMIN_TOKEN = savedToken;
});

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const withToken = () => {
  process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
};

describe('safeduty units', () => {
  it('imports the example JSON roster with the token from the environment', async () => {
    withToken();
    const r = await run('units', 'import', 'examples/roster.json', '--api', rt.apiUrl);
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out.split('\n')[0]).toBe(
      '名册已导入：单位 新增 11、更新 0、未变 0；县领导 新增 4、更新 0、未变 0。',
    );
    expect(r.out).toContain('  新增 单位 town-001 青山镇');
  });

  it('imports the example CSV with the token from the data folder', async () => {
    delete process.env.SAFEDUTY_ADMIN_TOKEN;
    writeFileSync(join(dir.path, 'admin-token'), `${rt.adminToken}\n`);
    const r = await run('units', 'import', 'examples/roster.csv', '--api', rt.apiUrl, '--data', dir.path);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('单位 新增 0、更新 0、未变 11');
  });

  it("exits 2 with the API's Chinese message and each problem for a bad roster, writing nothing", async () => {
    withToken();
    const bad = join(dir.path, 'bad.csv');
    writeFileSync(
      bad,
      'id,name,kind,contactName,contactEmail,principalName,principalEmail\r\n' +
        'town-009,石桥镇,town,甲,a@example.gov.cn,乙,b@example.gov.cn\r\n' +
        'town-010,柳林镇,village,甲,not-an-address,乙,b@example.gov.cn\r\n',
    );
    const r = await run('units', 'import', bad, '--api', rt.apiUrl);
    expect(r.code).toBe(2);
    expect(r.err).toContain('请求被拒绝（HTTP 400）：名册校验未通过：共 2 处问题，未写入任何数据');
    expect(r.err).toContain('  - 第 3 行 contactEmail：不是有效的邮箱地址');
    expect(r.err).toContain(
      '第 3 行 kind：应为单位类型：乡镇、县直部门、企业、班组场点、县级议事机构、县领导',
    );
    const list = await run('units', 'list', '--api', rt.apiUrl, '--kind', 'town', '--json');
    expect((JSON.parse(list.out) as { count: number }).count).toBe(2);
  });

  it('exits 2 for a missing or malformed file and for unknown options, before calling the API', async () => {
    withToken();
    expect((await run('units', 'import', join(dir.path, 'none.csv'), '--api', rt.apiUrl)).err).toMatch(
      /无法读取名册文件/,
    );
    const broken = join(dir.path, 'broken.json');
    writeFileSync(broken, '{"units": [');
    const r = await run('units', 'import', broken, '--api', rt.apiUrl);
    expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/名册文件不是有效的 JSON/) });
    expect((await run('units', 'import', '--api', rt.apiUrl)).code).toBe(2);
    expect((await run('units', 'import', 'examples/roster.json', '--colour', 'red')).code).toBe(2);
    expect((await run('units', 'frobnicate')).code).toBe(2);
    expect((await run('units', 'list', '--kind', 'village', '--api', rt.apiUrl)).code).toBe(2);
    expect((await run('units', 'list', '--api', 'ftp://x')).code).toBe(2);
  });

  it('lists units, by kind and with the deactivated ones', async () => {
    withToken();
    const r = await run('units', 'list', '--api', rt.apiUrl, '--kind', 'town');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      '共 2 个单位：',
      '  town-001  青山镇  （镇（经开区））',
      '  town-002  河东镇  （镇（经开区））',
    ]);
    expect((await run('units', 'list', '--api', rt.apiUrl)).out).toMatch(/^共 11 个单位：/);
  });
});

describe('safeduty submit', () => {
  it('records a submission, and a repeat reports the first one', async () => {
    withToken();
    const r = await run(
      'submit',
      'risk-prejudgment-weekly',
      '2023-W06',
      'town-001',
      '--note',
      '已完成',
      '--api',
      rt.apiUrl,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(
      '已记录：town-001 完成 risk-prejudgment-weekly（2023-W06），时间 2023-02-06T09:00:00+08:00。',
    );
    const again = await run('submit', 'risk-prejudgment-weekly', '2023-W06', 'town-001', '--api', rt.apiUrl);
    expect(again.out).toMatch(/^此前已记录：town-001 于 2023-02-06T09:00:00\+08:00/);
  });

  it("exits 2 on bad input, printing the API's message and problems", async () => {
    withToken();
    const period = await run('submit', 'risk-prejudgment-weekly', '2023-W60', 'town-001', '--api', rt.apiUrl);
    expect(period.code).toBe(2);
    expect(period.err).toMatch(/^请求被拒绝（HTTP 400）：周期编号无效/);
    expect(period.err).toMatch(/ {2}- periodKey：/);
    const unit = await run('submit', 'risk-prejudgment-weekly', '2023-W06', 'town-404', '--api', rt.apiUrl);
    expect(unit).toMatchObject({ code: 2, err: expect.stringMatching(/HTTP 404/) });
    const duty = await run('submit', 'no-such-duty', '2023-W06', 'town-001', '--api', rt.apiUrl);
    expect(duty.code).toBe(2);
    expect((await run('submit', 'risk-prejudgment-weekly', '2023-W06')).code).toBe(2);
  });
});

describe('safeduty overdue', () => {
  it('prints the ledger, or CSV with the byte order mark for Excel', async () => {
    withToken();
    await advance(rt, '2023-02-08T10:00:00+08:00');
    const r = await run('overdue', '--api', rt.apiUrl);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^截至 2023-02-08T10:00:00\+08:00，逾期未完成 \d+ 项：/);
    expect(r.out).toContain(
      '河东建筑工程有限公司（ent-0002，河东镇）  基层单位安全风险隐患周预判（2023年第6周（2月6日至2月12日））  逾期 2 个工作日，已第 2 级督办',
    );
    expect(r.out).not.toContain('青山镇（town-001）  基层单位安全风险隐患周预判');
    const csv = await run('overdue', '--csv', '--api', rt.apiUrl);
    expect(csv.code).toBe(0);
    expect(csv.out.startsWith('\uFEFF单位编号,单位名称,所在乡镇,主管部门,')).toBe(true);
    expect(csv.out).toContain(
      'ent-0002,河东建筑工程有限公司,河东镇,县住房和城乡建设局,周期职责,基层单位安全风险隐患周预判（2023年第6周（2月6日至2月12日））,cycle:risk-prejudgment-weekly:2023-W06,2023年2月6日 18:00,2,第2级',
    );
    expect((await run('overdue', '--csv', '--json')).code).toBe(2);
  });

  it('filters the ledger by town, duty, period and level, and saves it as Excel', async () => {
    withToken();
    const all = JSON.parse((await run('overdue', '--json', '--api', rt.apiUrl)).out) as {
      items: { unitId: string; townId?: string; dutyId?: string; escalationLevel: number }[];
    };
    const town = await run('overdue', '--town', 'town-002', '--json', '--api', rt.apiUrl);
    const inTown = (JSON.parse(town.out) as typeof all).items;
    expect(inTown.length).toBeGreaterThan(0);
    expect(inTown).toEqual(all.items.filter((i) => i.townId === 'town-002'));
    const filtered = await run(
      'overdue',
      '--duty',
      'risk-prejudgment-weekly',
      '--period',
      '2023-W06',
      '--level',
      '2',
      '--json',
      '--api',
      rt.apiUrl,
    );
    const items = (JSON.parse(filtered.out) as typeof all).items;
    expect(items.map((i) => i.unitId)).toContain('ent-0002');
    expect(items.every((i) => i.dutyId === 'risk-prejudgment-weekly' && i.escalationLevel === 2)).toBe(true);
    const none = await run('overdue', '--town', 'town-009', '--api', rt.apiUrl);
    expect(none.out).toMatch(/没有逾期未完成的事项/);
    const bad = await run('overdue', '--level', '七', '--api', rt.apiUrl);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('level');

    const file = join(dir.path, 'overdue.xlsx');
    const x = await run('overdue', '--xlsx', '--out', file, '--town', 'town-002', '--api', rt.apiUrl);
    expect(x.code, x.err).toBe(0);
    expect(x.out).toBe(`逾期清单已导出到 ${file}`);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(readFileSync(file) as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.getRow(1).values).toEqual([undefined, ...OVERDUE_CSV_HEADER]);
    expect(sheet.rowCount).toBe(inTown.length + 1);
    expect(sheet.getCell('C2').text).toBe('河东镇');
    expect(sheet.getCell('H2').text).toMatch(/^2023年2月\d+日 18:00$/);
    expect((await run('overdue', '--xlsx')).err).toContain('加 --out 逾期清单.xlsx');
  });
});

describe('safeduty deliveries', () => {
  it('lists the emails sent, newest first, and explains mistakes in Chinese', async () => {
    withToken();
    // The roster was imported on Monday 09:00; by Wednesday 10:00 reminders and escalations have gone out.
    const r = await run('deliveries', '--from', '2023-02-06', '--to', '2023-02-08', '--api', rt.apiUrl);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^2023-02-06 至 2023-02-08 的邮件记录（新的在前，\d+ 封）：$/);
    expect(lines[1]).toMatch(/^ {2}2023-02-0\d \d\d:\d\d {2}已发送 {2}.+ <.+@.+>$/);
    expect(lines[2]).toMatch(/^ {6}【(提醒|督办|逾期)】/);
    const times = lines.filter((l) => /^ {2}\d{4}/.test(l)).map((l) => l.slice(2, 18));
    expect(times).toEqual([...times].sort().reverse());

    const json = await run(
      'deliveries',
      '--from',
      '2023-02-06',
      '--to',
      '2023-02-08',
      '--all',
      '--json',
      '--api',
      rt.apiUrl,
    );
    const all = JSON.parse(json.out) as { deliveries: { status: string; address: string }[]; next: null };
    expect(all.deliveries.length).toBeGreaterThan(0);
    expect(all.next).toBeNull();
    const one = all.deliveries[0]?.address ?? '';
    const mine = await run(
      'deliveries',
      '--from',
      '2023-02-06',
      '--recipient',
      one,
      '--json',
      '--api',
      rt.apiUrl,
    );
    const m = JSON.parse(mine.out) as { deliveries: { address: string }[] };
    expect(m.deliveries.every((d) => d.address === one)).toBe(true);
    expect((await run('deliveries', '--status', 'failed', '--api', rt.apiUrl)).out).toMatch(
      /没有符合条件的邮件记录/,
    );

    expect(await run('deliveries', '--status', 'lost', '--api', rt.apiUrl)).toMatchObject({
      code: 2,
      err: expect.stringContaining(
        '--status 应为 sent（已发送）、failed（被拒收）或 suppressed（未发送）之一：lost',
      ),
    });
    expect((await run('deliveries', '--from', '6/2/2023', '--api', rt.apiUrl)).err).toContain(
      '--from 应为日期，例如 2023-02-06：6/2/2023',
    );
    expect((await run('deliveries', '--limit', '1000', '--api', rt.apiUrl)).code).toBe(2);
    // The API's own checks come back as its Chinese message with the field.
    const far = await run('deliveries', '--from', '2023-01-01', '--to', '2023-12-31', '--api', rt.apiUrl);
    expect(far.code).toBe(2);
    expect(far.err).toContain('查询时间跨度不能超过 92 天');
    expect(far.err).toContain('from：');
  });
});

describe('credentials and failures', () => {
  it('exits 2 without a token or with a rejected one, and 1 when the API is unreachable or fails', async () => {
    delete process.env.SAFEDUTY_ADMIN_TOKEN;
    const none = await run('overdue', '--api', rt.apiUrl, '--data', join(dir.path, 'empty'));
    expect(none).toMatchObject({ code: 2, err: expect.stringMatching(/未找到管理员令牌/) });
    process.env.SAFEDUTY_ADMIN_TOKEN = 'not-the-token';
    const wrong = await run('overdue', '--api', rt.apiUrl);
    expect(wrong).toMatchObject({ code: 2, err: '请求被拒绝（HTTP 401）：管理员令牌缺失或无效' });

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = await run('overdue', '--api', `http://127.0.0.1:${port}`);
    expect(down).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^无法连接 http:\/\/127\.0\.0\.1:\d+/),
    });

    const failing = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal', message: '服务器内部错误，请稍后重试', issues: [] }));
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    const broken = await run('units', 'list', '--api', url);
    await new Promise<void>((r) => failing.close(() => r()));
    expect(broken).toEqual({ code: 1, out: '', err: '服务器出错（HTTP 500）：服务器内部错误，请稍后重试' });
  });
});
