// What a county official reads when something is wrong is Chinese: the API's error messages and the problems it
// names, and the CLI's. Every documented error path below is tried, and any English word in the answer fails the
// test — except what the request itself said (an id, a value) and the technical names an official types anyway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import { cycleItem, signLink } from '../../functions/core/links.ts';
import type { Runtime } from '../../local/runtime.ts';
import { exampleRoster } from '../support/http.ts';
import { startTestRuntime } from '../support/runtime.ts';

/** Words an official may meet in a Chinese message: formats, file types, the names of header fields and options. */
const ALLOWED = new Set([
  'YYYY',
  'MM',
  'DD',
  'HH',
  'JSON',
  'CSV',
  'XLSX',
  'JPG',
  'PNG',
  'HEIC',
  'HEIF',
  'WebP',
  'PDF',
  'MB',
  'UTF',
  'BOM',
  'ASCII',
  'MiB',
  'next',
  'to',
  'from',
  'CYCLE',
  'CASE',
  'DELIVERY',
  'Content-Type',
  'Idempotency-Key',
  'safeduty',
  'help',
  'true',
  'false',
  'application/json',
  'text/csv',
  'charset',
  'http',
  'https',
  'HTTP',
  'ISO',
  'json',
  'xlsx',
  'csv',
  'html',
]);

/** The English words of a text that neither the request gave nor the list allows. */
function englishIn(text: string, request: string): string[] {
  // Option names (--file) and file extensions (.json) are what the official types.
  return (text.match(/(?:--|\.)?[A-Za-z][A-Za-z0-9_/.-]*/g) ?? []).filter(
    (w) =>
      !w.startsWith('-') &&
      !w.startsWith('.') &&
      !ALLOWED.has(w) &&
      !/[0-9-]/.test(w) &&
      w.length >= 3 &&
      !request.includes(w),
  );
}

let rt: Runtime;
beforeAll(async () => {
  const { units, leaders } = exampleRoster();
  rt = await startTestRuntime({ clock: '2023-02-06T09:00:00+08:00', units, leaders });
}, 120_000);
afterAll(async () => {
  await rt.close();
});

interface Attempt {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  status: number;
}

const json = (v: unknown) => JSON.stringify(v);
const ATTEMPTS: Attempt[] = [
  { method: 'GET', path: '/nowhere', status: 404 },
  { method: 'PATCH', path: '/units', status: 405 },
  { method: 'GET', path: '/units?kind=village', status: 400 },
  { method: 'GET', path: '/units?limit=0', status: 400 },
  { method: 'GET', path: '/units/nobody', status: 404 },
  { method: 'PUT', path: '/units/town-001', body: json({}), status: 400 },
  { method: 'PUT', path: '/units/town-001', body: '{"name":', status: 400 },
  {
    method: 'PUT',
    path: '/units/town-001',
    body: json({ name: '古城镇', kind: 'town', contact: { name: '甲', email: 'bad' }, extra: 1 }),
    status: 400,
  },
  {
    method: 'POST',
    path: '/units/import',
    body: 'id,name,kind,contactName,contactEmail,principalName,principalEmail,colour\nx,,village,甲,bad,乙,b@example.gov.cn,red\n',
    headers: { 'content-type': 'text/csv' },
    status: 400,
  },
  { method: 'POST', path: '/units/import', body: json({ units: [{ id: 'Bad Id' }] }), status: 400 },
  {
    method: 'POST',
    path: '/units/import',
    body: 'x',
    headers: { 'content-type': 'text/plain' },
    status: 415,
  },
  { method: 'PUT', path: '/leaders/leader-x', body: json({ titleZh: '' }), status: 400 },
  { method: 'GET', path: '/cycles?duty=no-such-duty', status: 404 },
  { method: 'GET', path: '/cycles/risk-prejudgment-weekly/2023-13', status: 400 },
  {
    method: 'POST',
    path: '/cycles/risk-prejudgment-weekly/2023-W06/submissions',
    body: json({ unitId: 'nobody' }),
    status: 404,
  },
  {
    method: 'POST',
    path: '/cycles/risk-prejudgment-weekly/2023-W06/submissions',
    body: json({}),
    status: 400,
  },
  { method: 'POST', path: '/cycles/risk-prejudgment-weekly/2023-W06/submissions', body: '[]', status: 400 },
  { method: 'GET', path: '/overdue?limit=abc', status: 400 },
  { method: 'GET', path: '/deliveries?from=2023-13-01', status: 400 },
  { method: 'GET', path: '/deliveries?from=2023-03-01&to=2023-02-01', status: 400 },
  { method: 'GET', path: '/audit?from=2023-02-30', status: 400 },
  { method: 'POST', path: '/cases', body: json({}), status: 400 },
  { method: 'POST', path: '/cases', body: json({ type: 'no-such-type' }), status: 400 },
  { method: 'GET', path: '/cases/mh-20230306-aaaaaa', status: 404 },
  { method: 'POST', path: '/cases/mh-20230306-aaaaaa/events', body: json({ event: 'x' }), status: 404 },
  { method: 'POST', path: '/duties', body: json({}), status: 400 },
  {
    method: 'POST',
    path: '/duties',
    body: json({
      titleZh: '查',
      instructionZh: '请完成检查',
      responsible: { kinds: ['town'] },
      deadline: { date: '2023-03-01', time: '25:00' },
    }),
    status: 400,
  },
  { method: 'POST', path: '/adhoc-duties/adhoc-x/extend', body: json({}), status: 404 },
  { method: 'GET', path: '/adhoc-templates?year=27', status: 400 },
  { method: 'GET', path: '/assessment?year=23&format=pdf', status: 400 },
  { method: 'GET', path: '/assessment/nobody?year=2023', status: 404 },
  {
    method: 'POST',
    path: '/duties',
    body: json({}),
    headers: { 'idempotency-key': 'x'.repeat(200) },
    status: 400,
  },
];

describe('no English reaches a county official', () => {
  it('on the documented error paths of the API', async () => {
    const found: string[] = [];
    for (const a of ATTEMPTS) {
      const res = await fetch(`${rt.apiUrl}${a.path}`, {
        method: a.method,
        headers: {
          authorization: `Bearer ${rt.adminToken}`,
          'content-type': 'application/json',
          ...a.headers,
        },
        ...(a.body !== undefined ? { body: a.body } : {}),
      });
      const body = (await res.json()) as { message: string; issues: { field: string; problem: string }[] };
      expect(res.status, `${a.method} ${a.path}: ${JSON.stringify(body)}`).toBe(a.status);
      expect(body.message, `${a.method} ${a.path}`).toMatch(/\p{Script=Han}/u);
      const request = `${a.path} ${a.body ?? ''} ${JSON.stringify(a.headers ?? {})}`;
      for (const text of [body.message, ...body.issues.map((i) => i.problem)]) {
        const words = englishIn(text, request);
        if (words.length > 0) found.push(`${a.method} ${a.path}: “${text}” (${words.join(', ')})`);
      }
    }
    expect(found).toEqual([]);
  });

  it('on the pages a unit opens: a forged or expired link, an incomplete report, a file it cannot take', async () => {
    const secret = process.env.SAFEDUTY_LINK_SECRET as string;
    const token = (e: number) =>
      signLink({ u: 'town-001', i: cycleItem('monthly-safety-meeting', '2023-02'), e }, secret);
    const valid = token(Math.floor(Date.parse('2023-03-31T00:00:00Z') / 1000));
    const pages: { what: string; res: Promise<Response> }[] = [
      {
        what: 'forged link',
        res: fetch(`${rt.apiUrl}/links/${valid}x`, { headers: { accept: 'text/html' } }),
      },
      {
        what: 'expired link',
        res: fetch(`${rt.apiUrl}/links/${token(1_600_000_000)}`, { headers: { accept: 'text/html' } }),
      },
      {
        what: 'empty report',
        res: fetch(`${rt.apiUrl}/links/${valid}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'note=&attachments=%5B%5D&f.colour=red',
        }),
      },
      {
        what: 'a report with broken file data',
        res: fetch(`${rt.apiUrl}/links/${valid}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'attachments=%5Bnot',
        }),
      },
    ];
    const found: string[] = [];
    for (const p of pages) {
      const res = await p.res;
      expect(res.status, p.what).toBeGreaterThanOrEqual(400);
      // What a person reads: the page's text, without its markup and styles.
      const text = (await res.text())
        .replace(/<style>[\s\S]*?<\/style>/g, ' ')
        .replace(/<[^>]+>/g, ' ')
        .replace(/&[a-z]+;/g, ' ');
      const words = englishIn(text, 'colour red');
      if (words.length > 0) found.push(`${p.what}: ${words.join(', ')}`);
    }
    const file = await fetch(`${rt.apiUrl}/links/${valid}/attachments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a.exe', contentType: 'application/x-msdownload', size: 10 }),
    });
    const refusal = (await file.json()) as { message: string };
    found.push(...englishIn(refusal.message, 'application/x-msdownload').map((w) => `upload: ${w}`));
    expect(found).toEqual([]);
  });

  it('in the CLI, for mistakes people make', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'safeduty-zh-'));
    const csv = join(dir, '名册.csv');
    writeFileSync(
      csv,
      'id,name,kind,contactName,contactEmail,principalName,principalEmail\nent-9,某公司,企业,甲,bad,乙,b@example.gov.cn\n',
    );
    const tries: string[][] = [
      ['units', 'import', csv],
      ['units', 'import', join(dir, '没有这个文件.csv')],
      ['units', 'list', '--kind', '村'],
      ['units', 'list', '--colour'],
      ['submit', 'risk-prejudgment-weekly', '2023-W06', 'nobody'],
      ['duties', 'create', '--title', '检查'],
      ['duties', 'extend', 'adhoc-x', '--deadline', '明天'],
      ['assessment'],
      ['assessment', '--year', '2023', '--unit', 'nobody'],
      ['cases', 'open', 'no-such-type'],
      ['plan', 'no-such-duty', '2023'],
      ['calendar', 'is-workday', '2023-02-30'],
    ];
    const saved = process.env.SAFEDUTY_ADMIN_TOKEN;
    process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
    const found: string[] = [];
    try {
      for (const args of tries) {
        const err: string[] = [];
        const code = await main(
          [...args, ...(args[0] === 'plan' || args[0] === 'calendar' ? [] : ['--api', rt.apiUrl])],
          {
            out: () => undefined,
            err: (l) => err.push(l),
          },
        );
        expect(code, args.join(' ')).not.toBe(0);
        const text = err.join('\n');
        expect(text, args.join(' ')).toMatch(/\p{Script=Han}/u);
        // A problem line names its field as the file or request does (`  - 第 3 行 contactEmail：…`); usage lines
        // name the commands to type. The rest is read.
        const read = text
          .split('\n')
          .filter((l) => !l.trimStart().startsWith('safeduty '))
          .map((l) => l.replace(/^\s+- (第 \d+ 行 )?[^：]*：/, ''))
          .join('\n');
        const words = englishIn(read, `${args.join(' ')} ${rt.apiUrl}`);
        if (words.length > 0) found.push(`${args.join(' ')}: (${words.join(', ')}) in “${text}”`);
      }
    } finally {
      if (saved === undefined) delete process.env.SAFEDUTY_ADMIN_TOKEN;
      else process.env.SAFEDUTY_ADMIN_TOKEN = saved;
    }
    expect(found).toEqual([]);
  });

  it('a port already taken at start-up is one Chinese sentence with the fix, and nothing is left running', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const option of ['--port', '--ses-port']) {
        const err: string[] = [];
        const out: string[] = [];
        const code = await main(
          ['start', option, String(port), '--data', mkdtempSync(join(tmpdir(), 'safeduty-port-'))],
          { out: (l) => out.push(l), err: (l) => err.push(l) },
        );
        expect(code, option).toBe(2);
        expect(err.at(-1)).toBe(
          `端口 ${port} 已被占用（也许已有一个 safeduty 在运行）：请先停止它，或用 --port（HTTP 接口）、--ses-port（邮件收件箱）换一个端口。`,
        );
      }
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('--help after any command or subcommand shows its usage, in Chinese', async () => {
    for (const [args, line] of [
      [['units', 'list', '--help'], '  safeduty units list'],
      [['duties', 'extend', '-h'], '  safeduty duties extend'],
      [['assessment', '--help'], '  safeduty assessment --year'],
      [['cases', 'types', '--help'], '  safeduty cases types'],
      [['cases', 'event', '--help'], '事件文件（JSON'],
      [['leaders', 'edit', '--help'], '  safeduty leaders edit'],
      [['start', '--help'], '--verbose'],
    ] as const) {
      const out: string[] = [];
      const code = await main([...args], { out: (l) => out.push(l), err: (l) => out.push(l) });
      expect(code, args.join(' ')).toBe(0);
      expect(out.join('\n'), args.join(' ')).toContain(line);
      expect(out.join('\n')).toMatch(/^用法：/);
    }
    const types: string[] = [];
    expect(
      await main(['cases', 'types', '--api', rt.apiUrl], {
        out: (l) => types.push(l),
        err: (l) => types.push(l),
      }),
    ).toBe(0);
    expect(types.join('\n')).toContain('重大事故隐患挂牌督办整改');
  });
});
