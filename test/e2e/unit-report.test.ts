import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cycleItem, signLink } from '../../functions/core/links.ts';
import type { Runtime } from '../../local/runtime.ts';
import { launchBrowser } from '../support/browser.ts';
import { call, exampleRoster } from '../support/http.ts';
import { advance, startTestRuntime } from '../support/runtime.ts';

/**
 * A unit reports from the link in its email, on a phone: the duty's own form, a photo of the sign-in sheet
 * uploaded to storage, a confirmation of what was recorded; past the deadline, a banner says so.
 */
let rt: Runtime;
let browser: Browser;
let phone: BrowserContext;
const SHOTS = new URL('../../docs/screenshots/', import.meta.url);

/** A tiny valid JPEG: what a phone's camera would hand over, smaller. */
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/yQALCAABAAEBAREA/8wABgAQEAX/2gAIAQEAAD8A0s8g/9k=',
  'base64',
);

const linkFor = (unitId: string, dutyId: string, periodKey: string) =>
  `${rt.apiUrl}/links/${signLink(
    { u: unitId, i: cycleItem(dutyId, periodKey), e: Math.floor(rt.clock.nowMs() / 1000) + 30 * 86_400 },
    process.env.SAFEDUTY_LINK_SECRET as string,
  )}`;

beforeAll(async () => {
  // Monday 27 February 2023: the February safety meeting is due on Tuesday at 18:00.
  rt = await startTestRuntime({ clock: '2023-02-27T09:00:00+08:00', ...exampleRoster() });
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchBrowser();
  phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await rt?.close();
});

describe("a unit's report page", () => {
  it("asks for the duty's own fields: the meeting's minutes and sign-in sheet, the daily report's inspection", async () => {
    const meeting = await (await fetch(linkFor('town-001', 'monthly-safety-meeting', '2023-02'))).text();
    expect(meeting).toContain('会议纪要');
    expect(meeting).toContain('签到表、会议纪要扫描件或照片');
    const daily = await (await fetch(linkFor('site-0001', 'hazard-daily-report', '2023-02-27'))).text();
    expect(daily).toContain('排查人');
    expect(daily).toContain('无隐患时填 0（零报告）');
    expect(daily).not.toContain('会议纪要');
    expect(daily).not.toContain('参会人员');
  });

  it('refuses an empty report, naming what is missing, and records nothing', async () => {
    const link = linkFor('town-001', 'monthly-safety-meeting', '2023-02');
    const r = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'note=&attachments=%5B%5D',
    });
    expect(r.status).toBe(400);
    const page = await r.text();
    for (const missing of ['请填写“会议纪要”', '请填写“参会人员”', '请上传签到表、会议纪要扫描件或照片'])
      expect(page).toContain(missing);
    expect(page).toContain('返回填报页面');
    const cycle = await call(rt, 'GET', '/cycles/monthly-safety-meeting/2023-02?state=submitted');
    expect(cycle.json.units).toEqual([]);
  });

  it('takes the form and a photo from a phone, stores the photo, and confirms what was recorded', async () => {
    const page = await phone.newPage();
    await page.goto(linkFor('town-001', 'monthly-safety-meeting', '2023-02'));
    await page.getByLabel(/^会议日期/).fill('2023年2月27日');
    await page.getByLabel(/^会议纪要/).fill('一、通报了节后复工复产安全形势；二、部署了三月份隐患排查。');
    await page.getByLabel(/^参会人员/).fill('陈晓燕、吴志宏、李强');
    await page.getByLabel(/^研究解决的重大问题/).fill('复工企业逐一检查，由分管副镇长负责。');
    // A file of the wrong kind is refused on the phone, before anything is sent.
    await page.setInputFiles('#files', {
      name: '纪要.docx',
      mimeType: 'application/msword',
      buffer: Buffer.from('x'),
    });
    await expect(page.locator('#upload-status').textContent()).resolves.toContain('不支持的文件类型');
    await page.setInputFiles('#files', { name: '签到表.jpg', mimeType: 'image/jpeg', buffer: JPEG });
    await page.screenshot({ path: new URL('unit-report-phone.png', SHOTS).pathname, fullPage: true });
    await page.getByRole('button', { name: '确认报送' }).click();
    await page.getByText('报送成功').waitFor();
    const confirmation = (await page.locator('main').textContent()) ?? '';
    expect(confirmation).toContain('已记录');
    expect(confirmation).toContain('陈晓燕、吴志宏、李强');
    expect(confirmation).toContain('签到表.jpg');
    await page.screenshot({ path: new URL('unit-report-recorded.png', SHOTS).pathname, fullPage: true });

    const cycle = await call(rt, 'GET', '/cycles/monthly-safety-meeting/2023-02?state=submitted');
    const [unit] = cycle.json.units as {
      unitId: string;
      evidence: { fields: Record<string, string>; attachments: { name: string; key: string; url: string }[] };
    }[];
    expect(unit).toMatchObject({
      unitId: 'town-001',
      evidence: { fields: { attendees: '陈晓燕、吴志宏、李强' }, attachments: [{ name: '签到表.jpg' }] },
    });
    const stored = await fetch(unit!.evidence.attachments[0]!.url);
    expect(stored.status).toBe(200);
    expect(Buffer.from(await stored.arrayBuffer()).equals(JPEG)).toBe(true);

    // The link again: what was recorded, not a second form.
    await page.goto(linkFor('town-001', 'monthly-safety-meeting', '2023-02'));
    expect(await page.locator('main').textContent()).toContain('无需重复报送');
    await page.close();
  });

  it("refuses a file from another unit's folder, or one that never arrived", async () => {
    const link = linkFor('town-002', 'monthly-safety-meeting', '2023-02');
    const fields = { meetingDate: '2月27日', minutes: '纪要', attendees: '甲、乙', decisions: '无' };
    const other = await call(rt, 'GET', '/cycles/monthly-safety-meeting/2023-02?state=submitted');
    const stolen = (other.json.units as { evidence: { attachments: { key: string }[] } }[])[0]!.evidence
      .attachments[0]!.key;
    const r = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        evidence: {
          fields,
          attachments: [
            { name: '别人的.jpg', contentType: 'image/jpeg', size: JPEG.length, key: stolen },
            {
              name: '没传上.jpg',
              contentType: 'image/jpeg',
              size: 100,
              key: stolen.replace('town-001', 'town-002'),
            },
          ],
        },
      }),
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { issues: { problem: string }[] };
    expect(body.issues.map((i) => i.problem)).toEqual([
      '别人的.jpg：不是本单位为本事项上传的文件',
      '没传上.jpg：文件没有上传成功，请重新选择该文件',
    ]);
    // The same checks whichever route a unit's link takes.
    const viaHeader = await call(rt, 'POST', '/cycles/monthly-safety-meeting/2023-02/submissions', {
      body: { unitId: 'town-002', note: '已开会' },
      auth: false,
      headers: { 'x-safeduty-link': link.split('/links/')[1]! },
    });
    expect(viaHeader.status).toBe(400);
    expect(viaHeader.json.issues?.map((i) => i.problem)).toContain('请填写“会议纪要”');
    // An administrator may record less than the form asks, but not name a file that is not the unit's.
    const byAdmin = await call(rt, 'POST', '/cycles/monthly-safety-meeting/2023-02/submissions', {
      body: {
        unitId: 'town-002',
        note: '电话确认已开会',
        evidence: {
          attachments: [{ name: '别人的.jpg', contentType: 'image/jpeg', size: JPEG.length, key: stolen }],
        },
      },
    });
    expect(byAdmin.status).toBe(400);
    // Once reported, a link no longer takes uploads.
    const again = await fetch(`${linkFor('town-001', 'monthly-safety-meeting', '2023-02')}/attachments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '补充.jpg', contentType: 'image/jpeg', size: 1000 }),
    });
    expect(again.status).toBe(409);
    const tooBig = await fetch(`${link}/attachments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '视频.mp4', contentType: 'video/mp4', size: 50 * 1024 * 1024 }),
    });
    expect(tooBig.status).toBe(400);
    expect(((await tooBig.json()) as { message: string }).message).toContain('不支持的文件类型');
  });

  it('says plainly when the deadline has passed', async () => {
    await advance(rt, '2023-03-01T10:00:00+08:00');
    const page = await phone.newPage();
    await page.goto(linkFor('town-002', 'monthly-safety-meeting', '2023-02'));
    const banner = (await page.locator('.banner.overdue').textContent()) ?? '';
    expect(banner).toContain('本事项已于2023年2月28日（星期二）18:00截止');
    expect(banner).toContain('已逾期1个工作日');
    await page.screenshot({ path: new URL('unit-report-overdue.png', SHOTS).pathname, fullPage: true });
    await page.close();
  });
});
