import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS_ZH } from '../../functions/core/roster-import.ts';
import { XLSX_TYPE } from '../../functions/http/schemas.ts';
import type { Runtime } from '../../local/runtime.ts';
import { runCli } from '../support/cli.ts';
import { call, exampleRoster } from '../support/http.ts';
import { startTestRuntime, tempDir } from '../support/runtime.ts';

/**
 * Roster files as county offices keep them: CSV saved by a Chinese Excel (GBK), Excel workbooks, files with
 * several mistakes at once, and imports that would replace people already on the roster.
 */
let rt: Runtime;
const dir = tempDir('safeduty-roster-files-');
const { leaders } = exampleRoster();

beforeAll(async () => {
  rt = await startTestRuntime({ clock: '2023-02-06T09:00:00+08:00', units: [] });
  const r = await call(rt, 'POST', '/units/import', {
    body: { leaders, units: exampleRoster().units.slice(0, 1) },
  });
  expect(r.status, r.text).toBe(200);
});
afterAll(async () => {
  await rt.close();
  dir.remove();
});

const HEADER = Object.values(CSV_COLUMNS_ZH).slice(0, 11);
const row = (
  id: string,
  name: string,
  kind: string,
  parent = '',
  extra: Partial<Record<string, string>> = {},
) => [
  id,
  name,
  kind,
  parent,
  extra.dept ?? '',
  extra.leader ?? '',
  extra.contactName ?? '张卫东',
  extra.contactEmail ?? `${id}.contact@example.gov.cn`,
  '',
  extra.principalName ?? '李秀英',
  `${id}.principal@example.gov.cn`,
];
const csvOf = (rows: string[][]) => [HEADER, ...rows].map((r) => r.join(',')).join('\r\n') + '\r\n';

const run = (...args: string[]) => runCli(rt, ...args);
const unit = async (id: string) => (await call(rt, 'GET', `/units/${id}`)).json as Record<string, unknown>;

describe('CSV as Chinese Excel saves it', () => {
  it('reads GBK bytes, detected or declared, with the names intact', async () => {
    const text = csvOf([
      row('town-101', '宁山镇', '乡镇'),
      row('ent-101', '宁山煤业有限公司', '企业', 'town-101'),
    ]);
    const gbk = iconv.encode(text, 'gbk');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(gbk)).toThrow();
    const r = await call(rt, 'POST', '/units/import', { body: gbk, headers: { 'content-type': 'text/csv' } });
    expect(r.status, r.text).toBe(200);
    expect(await unit('ent-101')).toMatchObject({
      name: '宁山煤业有限公司',
      kind: 'enterprise',
      parentId: 'town-101',
    });
    expect(await unit('town-101')).toMatchObject({ name: '宁山镇', contact: { name: '张卫东' } });

    const declared = iconv.encode(csvOf([row('town-102', '柳林乡', '乡镇')]), 'gb18030');
    const d = await call(rt, 'POST', '/units/import', {
      body: declared,
      headers: { 'content-type': 'text/csv; charset=GBK' },
    });
    expect(d.status, d.text).toBe(200);
    expect((await unit('town-102')).name).toBe('柳林乡');
  });

  it('reads UTF-8 with and without a byte order mark alike', async () => {
    const text = csvOf([row('town-103', '城北街道', '乡镇')]);
    for (const body of [Buffer.from(`\uFEFF${text}`), Buffer.from(text)]) {
      const r = await call(rt, 'POST', '/units/import', { body, headers: { 'content-type': 'text/csv' } });
      expect(r.status, r.text).toBe(200);
      expect((await unit('town-103')).name).toBe('城北街道');
    }
  });

  it('imports a GBK file from the CLI, and --encoding gbk says so when detection is not wanted', async () => {
    const file = join(dir.path, 'gbk.csv');
    writeFileSync(file, iconv.encode(csvOf([row('town-104', '东关镇', '乡镇')]), 'gbk'));
    const r = await run('units', 'import', file, '--encoding', 'gbk');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('新增 单位 town-104 东关镇');
    const bad = await run('units', 'import', file, '--encoding', 'latin1');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--encoding 应为 utf-8 或 gbk');
  });
});

describe('Excel workbooks', () => {
  async function workbook(rows: (string | number)[][]): Promise<Buffer> {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('名册');
    sheet.addRow(HEADER);
    for (const r of rows) sheet.addRow(r);
    return Buffer.from(await book.xlsx.writeBuffer());
  }

  it('imports the first worksheet, with a hyperlinked email and a numeric phone', async () => {
    const bytes = await workbook([
      row('town-105', '西岭镇', '乡镇'),
      row('ent-105', '西岭建材厂', '企业', 'town-105'),
    ]);
    // Excel turns a typed address into a hyperlink and a phone into a number.
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(bytes as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    sheet.getCell('H3').value = {
      text: 'ent-105.contact@example.gov.cn',
      hyperlink: 'mailto:ent-105.contact@example.gov.cn',
    };
    sheet.getCell('I3').value = 13912345678;
    const edited = Buffer.from(await book.xlsx.writeBuffer());
    const r = await call(rt, 'POST', '/units/import', {
      body: edited,
      headers: { 'content-type': XLSX_TYPE },
    });
    expect(r.status, r.text).toBe(200);
    expect(await unit('ent-105')).toMatchObject({
      name: '西岭建材厂',
      contact: { email: 'ent-105.contact@example.gov.cn', phone: '13912345678' },
    });
  });

  it('names the worksheet row of each problem, and imports from the CLI by extension', async () => {
    const bytes = await workbook([row('town-106', '南台乡', '乡镇'), row('ent-106', '', '工厂')]);
    const r = await call(rt, 'POST', '/units/import', {
      body: bytes,
      headers: { 'content-type': XLSX_TYPE },
    });
    expect(r.status).toBe(400);
    expect(r.json.issues).toEqual([
      { row: 3, field: '单位名称', problem: expect.any(String) },
      { row: 3, field: '单位类型', problem: expect.stringContaining('应为单位类型') },
    ]);
    const file = join(dir.path, 'roster.xlsx');
    writeFileSync(file, await workbook([row('town-106', '南台乡', '乡镇')]));
    const cli = await run('units', 'import', file);
    expect(cli.code, cli.err).toBe(0);
    expect((await unit('town-106')).name).toBe('南台乡');
    const garbage = join(dir.path, 'broken.xlsx');
    writeFileSync(garbage, 'not a workbook');
    const g = await run('units', 'import', garbage);
    expect(g.code).toBe(2);
    expect(g.err).toContain('不是有效的 Excel 工作簿');
    writeFileSync(join(dir.path, 'old.xls'), 'x');
    expect((await run('units', 'import', join(dir.path, 'old.xls'))).err).toContain('另存为” .xlsx 或 CSV');
  });
});

describe('one pass, a preview, and no silent overwrite', () => {
  it('lists field and reference problems of every row at once, and writes nothing', async () => {
    const text = csvOf([
      row('town-201', '北关镇', '乡镇'),
      row('ent-201', '北关化工', '企业', 'town-999'), // a reference to nothing
      row('ent-202', '北关纸业', '企业', 'town-201', { contactEmail: 'not-an-address' }), // a field
      row('site-203', '北关纸业一车间', '班组场点', 'ent-202'), // names a row that has its own problem
    ]);
    const r = await call(rt, 'POST', '/units/import', {
      body: text,
      headers: { 'content-type': 'text/csv' },
    });
    expect(r.status).toBe(400);
    expect(r.json.issues!.map((i) => [i.row, i.field])).toEqual([
      [3, '上级单位'],
      [4, '联络人邮箱'],
    ]);
    expect((await call(rt, 'GET', '/units/town-201')).status).toBe(404);
  });

  it('a dry run says what would change, with the people replaced, and writes nothing', async () => {
    const before = (await call(rt, 'GET', '/audit?subject=unit:town-101')).json.count;
    const text = csvOf([
      row('town-101', '宁山镇', '乡镇', '', {
        contactName: '赵红梅',
        contactEmail: 'zhao.hongmei@example.gov.cn',
      }),
      row('town-301', '新设镇', '乡镇'),
    ]);
    const r = await call(rt, 'POST', '/units/import?dryRun=true', {
      body: text,
      headers: { 'content-type': 'text/csv' },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      dryRun: true,
      units: { created: 1, updated: 1, unchanged: 0 },
      contactsReplaced: 1,
      changes: [
        {
          kind: 'unit',
          id: 'town-101',
          action: 'updated',
          fields: ['contact'],
          contacts: [
            {
              position: 'contact',
              before: { name: '张卫东', email: 'town-101.contact@example.gov.cn' },
              after: { name: '赵红梅', email: 'zhao.hongmei@example.gov.cn' },
            },
          ],
        },
        { kind: 'unit', id: 'town-301', action: 'created' },
      ],
    });
    expect((await call(rt, 'GET', '/units/town-301')).status).toBe(404);
    expect((await call(rt, 'GET', '/audit?subject=unit:town-101')).json.count).toBe(before);
  });

  it('the CLI shows who would be replaced and waits for --yes', async () => {
    const file = join(dir.path, 'replace.csv');
    writeFileSync(
      file,
      csvOf([
        row('town-101', '宁山镇', '乡镇', '', { principalName: '周国平' }),
        row('town-302', '又一镇', '乡镇'),
      ]),
    );
    const refused = await run('units', 'import', file);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('预览（未写入任何数据）：单位 新增 1、更新 1、未变 0');
    expect(refused.out).toContain(
      '主要负责人：李秀英 <town-101.principal@example.gov.cn> → 周国平 <town-101.principal@example.gov.cn>',
    );
    expect(refused.err).toContain('导入将替换 1 个已有单位或县领导的联系人（见上），未写入任何数据');
    expect((await call(rt, 'GET', '/units/town-302')).status).toBe(404);

    const preview = await run('units', 'import', file, '--dry-run');
    expect(preview.code).toBe(0);
    expect(preview.out).toContain('将更新 单位 town-101 宁山镇：主要负责人');

    const done = await run('units', 'import', file, '--yes');
    expect(done.code, done.err).toBe(0);
    expect(done.out).toContain('名册已导入：单位 新增 1、更新 1、未变 0');
    expect(await unit('town-101')).toMatchObject({ principal: { name: '周国平' } });
    expect(readFileSync(file, 'utf8')).toContain('周国平');
  });
});
