import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { runCli } from '../support/cli.ts';
import { call, exampleRoster, expectErrorShape } from '../support/http.ts';
import { startTestRuntime, tempDir } from '../support/runtime.ts';

/** One entry at a time: partial changes through the API and the CLI, and the roster exported for Excel. */
let rt: Runtime;
const dir = tempDir('safeduty-roster-edit-');

beforeAll(async () => {
  rt = await startTestRuntime({ clock: '2023-02-06T09:00:00+08:00', units: [] });
  const r = await call(rt, 'POST', '/units/import', { body: exampleRoster() });
  expect(r.status, r.text).toBe(200);
});
afterAll(async () => {
  await rt.close();
  dir.remove();
});

const run = (...args: string[]) => runCli(rt, ...args);

describe('PATCH /units/{id} and /leaders/{id}', () => {
  it("changes one contact's email and keeps everything else, audited once", async () => {
    const { joinedAt: _joined, ...before } = (await call(rt, 'GET', '/units/town-001')).json;
    const r = await call(rt, 'PATCH', '/units/town-001', {
      body: { contact: { email: 'qingshan.new@example.gov.cn' } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({
      ...before,
      contact: { ...(before.contact as object), email: 'qingshan.new@example.gov.cn' },
    });
    const audit = await call(rt, 'GET', '/audit?subject=unit:town-001');
    const last = (audit.json.entries as { action: string; details: { changed: string[] } }[]).at(-1);
    expect(last).toMatchObject({ action: 'unit-updated', details: { changed: ['contact'] } });
    const again = await call(rt, 'PATCH', '/units/town-001', {
      body: { contact: { email: 'qingshan.new@example.gov.cn' } },
    });
    expect(again.status).toBe(200);
    expect((await call(rt, 'GET', '/audit?subject=unit:town-001')).json.count).toBe(audit.json.count);
  });

  it('removes an optional field with null, and checks the result as a whole unit would be', async () => {
    const r = await call(rt, 'PATCH', '/units/ent-0001', { body: { contact: { phone: '0355-7654321' } } });
    expect(r.status, r.text).toBe(200);
    const cleared = await call(rt, 'PATCH', '/units/ent-0001', { body: { contact: { phone: null } } });
    expect((cleared.json.contact as Record<string, unknown>).phone).toBeUndefined();

    const bad = await call(rt, 'PATCH', '/units/ent-0001', {
      body: { contact: { email: 'not-an-address' }, parentId: 'town-999', colour: 'red' },
    });
    expect(bad.status).toBe(400);
    expectErrorShape(bad);
    const noParent = await call(rt, 'PATCH', '/units/ent-0001', { body: { parentId: 'town-999' } });
    expect(noParent.status).toBe(400);
    expect(noParent.json.issues).toEqual([{ field: 'parentId', problem: '单位不存在：town-999' }]);
    const missingName = await call(rt, 'PATCH', '/units/ent-0001', { body: { name: '' } });
    expect(missingName.status).toBe(400);
    expect(missingName.json.issues?.[0]?.field).toBe('name');
    expect((await call(rt, 'PATCH', '/units/nobody', { body: { name: '某' } })).status).toBe(404);
  });

  it("changes a leader's email and keeps the name", async () => {
    const r = await call(rt, 'PATCH', '/leaders/leader-executive', {
      body: { holder: { email: 'wang.new@example.gov.cn' } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      id: 'leader-executive',
      holder: { name: expect.any(String), email: 'wang.new@example.gov.cn' },
    });
    const bad = await call(rt, 'PATCH', '/leaders/leader-executive', { body: { holder: { email: 'x' } } });
    expect(bad.status).toBe(400);
    expect(bad.json.issues?.[0]?.field).toBe('holder.email');
  });
});

describe('safeduty units show|add|edit|deactivate|export and leaders list|show|edit', () => {
  it('adds a unit, refuses to add it twice, shows it, edits one field and deactivates it', async () => {
    const add = await run(
      'units',
      'add',
      'ent-0901',
      '--name',
      '青山水泥有限公司',
      '--kind',
      '企业',
      '--parent',
      'town-001',
      '--contact-name',
      '韩冬',
      '--contact-email',
      'ent-0901.contact@example.gov.cn',
      '--principal-name',
      '冯涛',
      '--principal-email',
      'ent-0901.principal@example.gov.cn',
    );
    expect(add.code, add.err).toBe(0);
    expect(add.out).toContain('青山水泥有限公司（ent-0901）  企业');
    const twice = await run(
      'units',
      'add',
      'ent-0901',
      '--name',
      '某',
      '--kind',
      '企业',
      '--contact-name',
      '甲',
      '--contact-email',
      'a@example.gov.cn',
      '--principal-name',
      '乙',
      '--principal-email',
      'b@example.gov.cn',
    );
    expect(twice.code).toBe(2);
    expect(twice.err).toContain('单位 ent-0901 已存在；修改请用 safeduty units edit ent-0901');
    const incomplete = await run('units', 'add', 'ent-0902', '--name', '某');
    expect(incomplete.code).toBe(2);
    expect(incomplete.err).toContain(
      '新增单位还缺少：--kind、--contact-name、--contact-email、--principal-name、--principal-email',
    );

    const edit = await run(
      'units',
      'edit',
      'ent-0901',
      '--contact-email',
      'handong@example.gov.cn',
      '--contact-phone',
      '13800000000',
    );
    expect(edit.code, edit.err).toBe(0);
    expect(edit.out).toContain('联络员：韩冬 <handong@example.gov.cn> 电话 13800000000');
    const badEdit = await run('units', 'edit', 'ent-0901', '--contact-email', 'handong');
    expect(badEdit.code).toBe(2);
    expect(badEdit.err).toContain('contact.email');
    expect((await run('units', 'edit', 'ent-0901')).err).toContain('没有要修改的内容');

    const show = await run('units', 'show', 'ent-0901');
    expect(show.out.split('\n')).toEqual([
      '青山水泥有限公司（ent-0901）  企业',
      '  上级单位：town-001',
      '  联络员：韩冬 <handong@example.gov.cn> 电话 13800000000',
      '  主要负责人：冯涛 <ent-0901.principal@example.gov.cn>',
    ]);
    const off = await run('units', 'deactivate', 'ent-0901');
    expect(off.out).toContain('已停用 青山水泥有限公司（ent-0901）');
    const on = await run('units', 'edit', 'ent-0901', '--activate');
    expect(on.out).not.toContain('[已停用]');
    expect((await run('units', 'show', 'nobody')).code).toBe(2);
  });

  it('exports the roster as CSV and Excel, headed in Chinese, and the import reads it back unchanged', async () => {
    const csv = await run('units', 'export');
    expect(csv.code, csv.err).toBe(0);
    expect(csv.out.startsWith('\uFEFF单位编号,单位名称,单位类型,上级单位')).toBe(true);
    expect(csv.out).toContain('town-001,青山镇,镇（经开区）,,dept-emergency');
    const file = join(dir.path, 'roster.xlsx');
    const x = await run('units', 'export', '--xlsx', '--out', file);
    expect(x.code, x.err).toBe(0);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(readFileSync(file) as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.getCell('A1').text).toBe('单位编号');
    const rows: string[] = [];
    sheet.eachRow((r) => rows.push(String(r.getCell(1).text)));
    expect(rows).toContain('ent-0901');
    const back = await run('units', 'import', file, '--dry-run');
    expect(back.code, back.err).toBe(0);
    expect(back.out).toMatch(/^预览（未写入任何数据）：单位 新增 0、更新 0、未变 \d+；/);
    expect((await run('units', 'export', '--xlsx')).err).toContain('加 --out 名册.xlsx');
    // A phone written +86… is guarded against formulas in the CSV, and read back as written.
    expect((await run('units', 'edit', 'town-002', '--contact-phone', '+86 138 0000 0000')).code).toBe(0);
    const exported = join(dir.path, 'roster.csv');
    expect((await run('units', 'export', '--out', exported)).code).toBe(0);
    expect(readFileSync(exported, 'utf8')).toContain("'+86 138 0000 0000");
    const csvBack = await run('units', 'import', exported, '--dry-run');
    expect(csvBack.code, csvBack.err).toBe(0);
    expect(csvBack.out).toMatch(/单位 新增 0、更新 0、未变 \d+/);
  });

  it('leaves what a file has no column for as it is: attributes and phones survive an import without them', async () => {
    expect((await run('units', 'edit', 'ent-0001', '--attributes', '燃气、县属监管企业')).code).toBe(0);
    const before = (await call(rt, 'GET', '/units/ent-0001')).json;
    const csv = join(dir.path, 'short.csv');
    writeFileSync(
      csv,
      '单位编号,单位名称,单位类型,上级单位,联络人,联络人邮箱,主要负责人,主要负责人邮箱\r\n' +
        `ent-0001,${String(before.name)},企业,town-001,新联络人,ent-0001.new@example.gov.cn,` +
        `${(before.principal as { name: string }).name},${(before.principal as { email: string }).email}\r\n`,
    );
    const r = await run('units', 'import', csv, '--yes');
    expect(r.code, r.err).toBe(0);
    const after = (await call(rt, 'GET', '/units/ent-0001')).json;
    expect(after).toMatchObject({
      attributes: ['燃气', '县属监管企业'],
      supervisingDepartmentId: before.supervisingDepartmentId,
      contact: { name: '新联络人', email: 'ent-0001.new@example.gov.cn' },
    });
    const bad = await run('units', 'edit', 'ent-0001', '--attributes', '燃气;液化气');
    expect(bad.code).toBe(0); // two attributes, split as written
    const one = await call(rt, 'PATCH', '/units/ent-0001', { body: { attributes: ['燃气,液化气'] } });
    expect(one.status).toBe(400);
  });

  it('lists, shows and edits leaders', async () => {
    const list = await run('leaders', 'list');
    expect(list.out).toMatch(/^共 4 位县领导：/);
    const edit = await run('leaders', 'edit', 'leader-urban', '--email', 'urban.new@example.gov.cn');
    expect(edit.code, edit.err).toBe(0);
    expect(edit.out).toContain('<urban.new@example.gov.cn>');
    const show = await run('leaders', 'show', 'leader-urban');
    expect(show.out).toContain('（leader-urban）');
    expect((await run('leaders', 'edit', 'leader-urban')).err).toContain('没有要修改的内容');
    expect((await run('leaders', 'fire', 'leader-urban')).err).toContain('用法');
  });
});
