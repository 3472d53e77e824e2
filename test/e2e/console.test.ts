import { mkdirSync, readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { launchBrowser } from '../support/browser.ts';
import { call, exampleRoster } from '../support/http.ts';
import { advance, startTestRuntime } from '../support/runtime.ts';

/**
 * The administrators' console in a real Chromium, as a county 安委办 administrator uses it: sign in, read the
 * overview and check it against the API, filter and export the overdue ledger, edit a leader, import a roster with
 * a preview, open a case and act on it. Screenshots of the main screens go to docs/screenshots/.
 */
let rt: Runtime;
let browser: Browser;
let page: Page;
const SHOTS = new URL('../../docs/screenshots/', import.meta.url);
const shot = (name: string) =>
  page.screenshot({ path: new URL(`console-${name}.png`, SHOTS).pathname, fullPage: true });

beforeAll(async () => {
  rt = await startTestRuntime({ clock: '2023-02-06T09:00:00+08:00', ...exampleRoster() });
  // A unit reports with its minutes, so the cycle page has something to show.
  const submitted = await call(rt, 'POST', '/cycles/risk-prejudgment-weekly/2023-W06/submissions', {
    body: {
      unitId: 'town-001',
      note: '镇安委会已完成本周风险研判',
      evidence: {
        minutes: '一、研判了汛前地质灾害风险；二、部署了节后复工检查。',
        attendees: ['陈晓燕', '吴志宏'],
      },
    },
  });
  expect(submitted.status, submitted.text).toBe(201);
  await advance(rt, '2023-02-08T10:00:00+08:00');
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchBrowser();
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  page = await context.newPage();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await rt?.close();
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

describe('the console', () => {
  it('is where the API sends a browser, and signs in with the admin token', async () => {
    const res = await page.goto(`${rt.apiUrl}/`);
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(`${rt.apiUrl}/console`);
    await page.getByLabel('管理员令牌').fill('wrong-token');
    await page.getByRole('button', { name: '登录' }).click();
    await expect(page.getByText('令牌不正确，请重新输入').waitFor()).resolves.toBeUndefined();
    await page.getByLabel('管理员令牌').fill(rt.adminToken);
    await page.getByRole('button', { name: '登录' }).click();
    await page.locator('#card-overdue').waitFor();
    expect(page.url()).toBe(`${rt.apiUrl}/console#/overview`);
  });

  it('shows the overview, with the same figures as the API', async () => {
    const o = (await call(rt, 'GET', '/overview')).json as unknown as {
      dueThisWeek: unknown[];
      overdue: { total: number };
      duties: { dutyId: string; responsible: number; onTime: number; missing: number }[];
      towns: { id: string; name: string; responsible: number }[];
    };
    const overdue = (await call(rt, 'GET', '/overdue?limit=1')).json as { total: number };
    expect(o.overdue.total).toBe(overdue.total);
    expect(await text('#card-overdue .n')).toBe(String(overdue.total));
    expect(await text('#card-week .n')).toBe(String(o.dueThisWeek.length));
    const weekly = o.duties.find((d) => d.dutyId === 'risk-prejudgment-weekly')!;
    const cycle = (await call(rt, 'GET', '/cycles/risk-prejudgment-weekly/2023-W06')).json as {
      counts: { submitted: number; late: number; missing: number };
    };
    expect(weekly).toMatchObject({ onTime: cycle.counts.submitted, missing: cycle.counts.missing });
    const cells = await page.locator('#duties tr[data-duty="risk-prejudgment-weekly"] td').allTextContents();
    expect(cells.slice(4, 8)).toEqual([
      String(weekly.responsible),
      String(weekly.onTime),
      String(cycle.counts.late),
      String(weekly.missing),
    ]);
    expect(await page.locator('#towns tbody tr').count()).toBe(o.towns.length);
    expect(await page.locator('#trend g[data-week]').count()).toBe(8);
    await shot('overview');
  });

  it('shows what a unit submitted in its cycle', async () => {
    await page.goto(`${rt.apiUrl}/console#/cycles/risk-prejudgment-weekly/2023-W06`);
    const row = page.locator('#cycle-units tr[data-unit="town-001"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('镇安委会已完成本周风险研判');
    expect(await row.textContent()).toContain('参会人员：陈晓燕、吴志宏');
    expect(await row.textContent()).toContain('按时完成');
    await shot('cycle');
  });

  it('filters the overdue ledger and exports it as CSV and Excel', async () => {
    await page.getByRole('link', { name: '逾期清单' }).click();
    await page.locator('#overdue').waitFor();
    await page.getByLabel('乡镇').selectOption('town-002');
    await page.getByRole('button', { name: '筛选' }).click();
    await page.waitForURL(/#\/overdue\?town=town-002$/);
    await page.locator('#overdue-count').waitFor();
    const api = (await call(rt, 'GET', '/overdue?town=town-002')).json as {
      total: number;
      items: { unitName: string }[];
    };
    expect(api.total).toBeGreaterThan(0);
    await expect(text('#overdue-count')).resolves.toBe(`共 ${api.total} 条`);
    expect(await page.locator('#overdue tbody tr').count()).toBe(api.total);
    await shot('overdue');

    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: '导出 CSV' }).click(),
    ]);
    expect(csv.suggestedFilename()).toMatch(/^逾期清单-2023-02-08\.csv$/);
    const csvText = readFileSync((await csv.path())!, 'utf8');
    expect(csvText.startsWith('\uFEFF单位编号,单位名称,所在乡镇,主管部门,')).toBe(true);
    expect(csvText.trim().split('\r\n')).toHaveLength(api.total + 1);

    const [xlsx] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: '导出 Excel' }).click(),
    ]);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(readFileSync((await xlsx.path())!) as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.getCell('C1').text).toBe('所在乡镇');
    expect(sheet.getCell('C2').text).toBe('河东镇');
    expect(sheet.getCell('H2').text).toMatch(/^2023年2月\d+日 \d\d:\d\d$/);
  });

  it("edits a leader's email, and a wrong one is refused in Chinese", async () => {
    await page.getByRole('link', { name: '名册' }).click();
    await page.locator('#leaders').waitFor();
    await page.locator('#leaders tr[data-href="#/roster/leader/leader-urban"]').click();
    await page.locator('#leader-form').waitFor();
    await page.getByLabel('邮箱').fill('not-an-address');
    await page.getByRole('button', { name: '保存' }).click();
    await page.locator('.notice.error').waitFor();
    expect(await text('.notice.error')).toContain('邮箱');
    await page.getByLabel('邮箱').fill('urban.leader@example.gov.cn');
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText('已保存。').waitFor();
    const leader = (await call(rt, 'GET', '/leaders/leader-urban')).json as {
      holder: { email: string; name: string };
    };
    expect(leader.holder.email).toBe('urban.leader@example.gov.cn');
    expect(leader.holder.name).toBe(
      exampleRoster().leaders.find((l) => l.id === 'leader-urban')!.holder.name,
    );
  });

  it('previews an import with mistakes in two rows, then imports the corrected file', async () => {
    const header = '单位编号,单位名称,单位类型,上级单位,联络人,联络人邮箱,主要负责人,主要负责人邮箱';
    const bad = [
      header,
      'ent-0301,青山新材料有限公司,企业,town-009,许鹏,ent-0301@example.gov.cn,何兵,ent-0301.p@example.gov.cn',
      'ent-0302,青山机械厂,企业,town-001,唐莉,not-an-address,高峰,ent-0302.p@example.gov.cn',
    ].join('\r\n');
    await page.goto(`${rt.apiUrl}/console#/roster/import`);
    await page.locator('#import-form').waitFor();
    await page.setInputFiles('input[type=file]', {
      name: '名册.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(bad),
    });
    await page.getByRole('button', { name: '预览' }).click();
    await page.locator('.notice.error').waitFor();
    const problems = await page.locator('.notice.error li').allTextContents();
    expect(problems).toEqual([
      expect.stringMatching(/^第 2 行 上级单位：单位不存在：town-009$/),
      expect.stringMatching(/^第 3 行 联络人邮箱：/),
    ]);
    await shot('import-problems');
    expect((await call(rt, 'GET', '/units/ent-0302')).status).toBe(404);

    const good = bad.replace('town-009', 'town-001').replace('not-an-address', 'ent-0302@example.gov.cn');
    await page.setInputFiles('input[type=file]', {
      name: '名册.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(good),
    });
    await page.getByRole('button', { name: '预览' }).click();
    await page.locator('#import-preview').waitFor();
    expect(await text('#import-preview')).toContain('单位 新增 2、更新 0、未变 0');
    await page.getByRole('button', { name: '确认导入' }).click();
    await page.locator('#import-done').waitFor();
    expect((await call(rt, 'GET', '/units/ent-0302')).json).toMatchObject({
      name: '青山机械厂',
      parentId: 'town-001',
    });
  });

  it('opens a case, refusing an incomplete form, and acts on it as the county side', async () => {
    await page.goto(`${rt.apiUrl}/console#/cases/new?type=major-hazard-rectification`);
    await page.locator('#case-form').waitFor();
    await page.getByRole('button', { name: '立案' }).click();
    await page.locator('.notice.error').waitFor();
    const refusal = await text('.notice.error');
    expect(refusal).not.toMatch(/[A-Za-z]{4,}/);
    expect(refusal).toContain('案件名称：不能为空');
    expect(refusal).toContain('责任单位：不能为空');
    expect(refusal).toContain('整改期限：应为日期，格式如 2023-06-30');
    await page.getByLabel('案件名称').fill('液氨储罐区安全阀失效');
    await page.getByLabel('责任单位').selectOption('ent-0001');
    await page.getByLabel('监管部门').selectOption('dept-emergency');
    await page.getByLabel('整改期限').fill('2023-06-30');
    await page.getByLabel('隐患内容').fill('液氨储罐区2号储罐安全阀校验过期');
    await page.getByLabel(/^隐患部位/).fill('液氨储罐区');
    await page.getByLabel(/^隐患等级/).fill('重大事故隐患');
    await page.getByRole('button', { name: '立案' }).click();
    await page.locator('#case-stage').waitFor();
    expect(await text('#case-stage')).toBe('待报送整改方案');
    const caseId = page.url().split('#/cases/')[1]!;

    const plan = page.locator('form[data-event="plan-submitted"]');
    await plan.getByLabel('责任').fill('总经理负责，安全科具体落实');
    await plan.getByLabel('措施').fill('更换安全阀并重新校验');
    await plan.getByLabel('资金').fill('专项资金12万元');
    await plan.getByLabel('时限').fill('2023年6月20日前完成');
    await plan.getByLabel('预案').fill('修订液氨泄漏专项应急预案');
    await plan.getByRole('button', { name: '报送“五到位”整改方案' }).click();
    await page.getByText('已办理：报送“五到位”整改方案').waitFor();
    const detail = (await call(rt, 'GET', `/cases/${caseId}`)).json as {
      stage: string;
      history: { event: string }[];
    };
    expect(detail.stage).toBe('rectifying');
    expect(detail.history.map((h) => h.event)).toContain('plan-submitted');
    expect(await text('#case-history')).toContain('报送“五到位”整改方案');
    await shot('case');

    await page.goto(`${rt.apiUrl}/console#/cases?type=major-hazard-rectification`);
    await page.locator('#case-board').waitFor();
    expect(await page.locator('.column[data-stage="rectifying"] .case').count()).toBe(1);
    await shot('cases');
  });

  it('starts an ad-hoc duty from a template, with its own form, refusing a past deadline, and extends it', async () => {
    await page.goto(`${rt.apiUrl}/console#/adhoc`);
    await page.locator('#template-pick').waitFor();
    await page.getByLabel('从模板开始').selectOption('五一节前检查');
    await page.waitForURL(/template=/);
    await page.locator('#adhoc-form').waitFor();
    expect(await page.getByLabel('名称', { exact: true }).inputValue()).toContain('五一');
    await page.getByLabel('截止日期').fill('2023-02-01');
    await page.getByLabel('第1项名称').fill('检查情况');
    await page.getByLabel('第2项名称').fill('发现隐患数');
    await page.locator('select[name="field.1.type"]').selectOption('number');
    await page.getByLabel('附件名称（选填）').fill('现场照片');
    await page.getByRole('button', { name: '发起' }).click();
    await page.locator('.notice.error').waitFor();
    expect(await text('.notice.error')).toContain('截止时间：截止时间 2023-02-01');
    const due = (
      (await call(rt, 'GET', '/adhoc-templates?year=2023')).json.templates as {
        nameZh: string;
        request: { deadline: { date: string } };
      }[]
    ).find((t) => t.nameZh === '五一节前检查')!.request.deadline.date;
    await page.getByLabel('截止日期').fill(due);
    await page.getByRole('button', { name: '发起' }).click();
    await page.locator('#adhoc-created').waitFor();
    expect(await text('#adhoc-created')).toMatch(/^已发起：.*五一.*（编号 adhoc-[\w-]+），责任单位 \d+ 个/);
    const id = /编号 (adhoc-[\w-]+)/.exec(await text('#adhoc-created'))![1]!;
    const duty = (await call(rt, 'GET', `/duties/${id}`)).json as {
      form: { fields: { labelZh: string; type: string }[] };
    };
    expect(duty.form.fields.map((f) => [f.labelZh, f.type])).toEqual([
      ['检查情况', 'textarea'],
      ['发现隐患数', 'number'],
    ]);
    await shot('adhoc');

    await page.goto(`${rt.apiUrl}/console#/adhoc/${id}`);
    const extend = page.locator('form[data-change="extend"]');
    await extend.waitFor();
    await extend.getByLabel('新的截止日期').fill('2023-05-10');
    await extend.getByLabel('原因').fill('部分乡镇任务较重');
    await extend.getByRole('button', { name: '延期' }).click();
    await page.getByText('已延期').waitFor();
    const after = (await call(rt, 'GET', '/adhoc-duties')).json.duties as {
      id: string;
      deadlineAt: string;
    }[];
    expect(after.find((d) => d.id === id)?.deadlineAt).toBe('2023-05-10T18:00:00+08:00');
  });

  it('lists the deliveries, the audit trail, and the mail a recipient got', async () => {
    await page.goto(`${rt.apiUrl}/console#/records?subject=leader:leader-urban`);
    await page.locator('#audit').waitFor();
    expect(await text('#audit')).toContain('修改县领导');
    expect(await text('#audit')).toContain('修改了：任职人');
    expect(await page.locator('#deliveries tbody tr').count()).toBeGreaterThan(0);
    await page.goto(`${rt.apiUrl}/console#/mail?to=ent-0002.contact@example.com`);
    await page.locator('#mails').waitFor();
    const mails = await page.locator('#mails .mail').count();
    expect(mails).toBeGreaterThan(0);
    expect(await page.locator('#mails .mail .meta').first().textContent()).toMatch(
      /发送时间：2023年2月\d+日 \d\d:\d\d/,
    );
    await shot('mail');
  });
});
