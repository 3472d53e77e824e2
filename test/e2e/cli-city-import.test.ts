// A city's roster through the CLI: 16,000 rows are over the API's 1 MiB body limit, so the CLI checks the whole file
// with the API's own rules, then sends it in batches with progress; a bad row anywhere writes nothing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Runtime } from '../../local/runtime.ts';
import { startTestRuntime, tempDir } from '../support/runtime.ts';

const ROWS = 16_000;
let rt: Runtime;
const dir = tempDir('safeduty-city-import-');

beforeAll(async () => {
  rt = await startTestRuntime({ clock: '2023-02-06T09:00:00+08:00', units: [], scheduler: false });
  process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
});
afterAll(async () => {
  delete process.env.SAFEDUTY_ADMIN_TOKEN;
  await rt.close();
  dir.remove();
});

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** Towns and departments after the enterprises that name them: the CLI must order the batches itself. */
function cityCsv(badRow?: number): string {
  const person = (id: string, role: string) => `${id}${role},${id}.${role}@example.gov.cn`;
  const rows: string[] = [];
  for (let i = 0; i < ROWS - 150; i++) {
    const id = `ent-${String(i).padStart(5, '0')}`;
    const email = i === badRow ? 'a..b@example.gov.cn' : `${id}.contact@example.gov.cn`;
    rows.push(
      `${id},${id}有限公司,enterprise,town-${String(i % 130).padStart(3, '0')},dept-${String(i % 20).padStart(2, '0')},,联络员,${email},${person(id, 'principal')}`,
    );
  }
  for (let i = 0; i < 130; i++) {
    const id = `town-${String(i).padStart(3, '0')}`;
    rows.push(`${id},${id}镇,town,,dept-00,,${person(id, 'contact')},${person(id, 'principal')}`);
  }
  for (let i = 0; i < 20; i++) {
    const id = `dept-${String(i).padStart(2, '0')}`;
    rows.push(`${id},${id}局,county-department,,,,${person(id, 'contact')},${person(id, 'principal')}`);
  }
  return `id,name,kind,parent,supervisingDepartment,leaderInCharge,contactName,contactEmail,principalName,principalEmail\r\n${rows.join('\r\n')}\r\n`;
}

describe('safeduty units import of a city roster', () => {
  it('refuses a 16,000-row file with one bad row, naming it, and writes nothing', async () => {
    const file = join(dir.path, 'city-bad.csv');
    writeFileSync(file, cityCsv(12_345));
    const r = await run('units', 'import', file, '--api', rt.apiUrl);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('名册有 1 处问题，未写入任何数据');
    expect(r.err.join('\n')).toContain('第 12347 行 contactEmail');
    const listed = await fetch(`${rt.apiUrl}/units?limit=1`, {
      headers: { authorization: `Bearer ${rt.adminToken}` },
    });
    expect(((await listed.json()) as { total: number }).total).toBe(0);
  });

  it('imports 16,000 rows in batches under the body limit, with progress, and pages them back', async () => {
    const file = join(dir.path, 'city.csv');
    const csv = cityCsv();
    writeFileSync(file, csv);
    expect(Buffer.byteLength(csv)).toBeGreaterThan(1024 * 1024);
    const r = await run('units', 'import', file, '--api', rt.apiUrl);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out).toContainEqual(
      expect.stringMatching(/^名册已导入（\d+ 批）：单位 新增 16000、更新 0、未变 0；县领导 新增 0/),
    );
    expect(r.out.filter((l) => /^第 \d+\/\d+ 批已导入/.test(l)).length).toBeGreaterThan(1);
    const first = await fetch(`${rt.apiUrl}/units`, {
      headers: { authorization: `Bearer ${rt.adminToken}` },
    });
    const text = await first.text();
    const page = JSON.parse(text) as { total: number; count: number; next: string | null };
    expect(page).toMatchObject({ total: ROWS, count: 200, next: expect.any(String) });
    console.log(
      `city import: ${r.out.filter((l) => l.startsWith('第 ')).length} batches; GET /units first page ${(text.length / 1024).toFixed(0)} KB`,
    );
    const list = await run('units', 'list', '--api', rt.apiUrl);
    expect(list.out[0]).toBe(`共 ${ROWS} 个单位：`);
  }, 300_000);
});
