import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetSecretCache } from '../../functions/adapters/secrets.ts';
import type { Runtime } from '../../local/runtime.ts';
import { caseCounty, caseLinkFor, mail, openMajorHazard } from '../support/case-county.ts';
import { advance, api, startTestRuntime } from '../support/runtime.ts';

let rt: Runtime;
beforeAll(async () => {
  const { units, leaders } = caseCounty();
  rt = await startTestRuntime({ clock: '2023-03-06T10:00:00+08:00', units, leaders, scheduler: false });
});
afterAll(async () => {
  await rt.close();
});

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

/** What a browser does: no credentials but the link in the address. */
async function browse(path: string, form?: Record<string, string>) {
  const res = await fetch(`${rt.apiUrl}${path}`, {
    method: form ? 'POST' : 'GET',
    headers: {
      ...BROWSER,
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  // The address carries the unit's token: a page must not hand it on as a Referer.
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  return { status: res.status, type: res.headers.get('content-type') ?? '', html: await res.text() };
}

const caseOf = async (caseId: string) =>
  (await api(rt, 'GET', `/cases/${caseId}`)).json as { stage: string; history: unknown[] };

describe('the case page a unit opens from its email', () => {
  it('shows the case and the forms its side may send, and takes the form with the same checks as the API', async () => {
    const { caseId } = await openMajorHazard(rt);
    await advance(rt, '2023-03-06T10:00:00+08:00');
    const entLink = await caseLinkFor(rt, caseId, mail('ent-a', 'principal'));
    const deptLink = await caseLinkFor(rt, caseId, mail('dept', 'principal'));
    const pagePath = `/cases/${caseId}?link=${entLink}`;

    const opened = await browse(pagePath);
    expect(opened.status).toBe(200);
    expect(opened.type).toMatch(/^text\/html/);
    expect(opened.html).toContain('液氨储罐区安全阀失效');
    expect(opened.html).toContain('当前阶段：待报送整改方案');
    // What the hazard is, and the term it must be rectified by.
    expect(opened.html).toContain('隐患内容：液氨储罐区2号储罐安全阀校验过期');
    expect(opened.html).toContain('隐患等级：重大事故隐患');
    expect(opened.html).toContain('整改期限：2023年6月30日（星期五）');
    expect(opened.html).toContain('立案（');
    expect(opened.html).toContain('提交：报送“五到位”整改方案');
    for (const label of ['责任', '措施', '资金', '时限', '预案'])
      expect(opened.html).toContain(`${label}<br>`);
    // The enterprise's side only: acceptance belongs to the supervising department.
    expect(opened.html).not.toContain('验收通过');
    expect(opened.html).toContain(`action="/cases/${caseId}/events?link=${entLink}"`);

    // The same address without a browser's Accept header is still the API's JSON.
    const asApi = await fetch(`${rt.apiUrl}${pagePath}`);
    expect(asApi.headers.get('content-type')).toMatch(/^application\/json/);

    // A plan missing its funding: refused as a page naming what is missing, and nothing is written.
    const eventsPath = `/cases/${caseId}/events?link=${entLink}`;
    const plan = {
      event: 'plan-submitted',
      'field.responsibility': '总经理负责',
      'field.measures': '更换安全阀',
      'field.funding': '',
      'field.timeline': '2023年6月20日前',
      'field.contingency': '修订专项预案',
      note: '',
    };
    const refused = await browse(eventsPath, plan);
    expect(refused.status).toBe(400);
    expect(refused.type).toMatch(/^text\/html/);
    expect(refused.html).toContain('缺少：资金');
    expect(refused.html).toContain(`href="/cases/${caseId}?link=${entLink}"`);
    expect(await caseOf(caseId)).toMatchObject({ stage: 'awaiting-plan', history: [expect.anything()] });

    const accepted = await browse(eventsPath, { ...plan, 'field.funding': '专项资金12万元' });
    expect(accepted.status).toBe(201);
    expect(accepted.html).toContain('已记录“报送“五到位”整改方案”');
    const after = await caseOf(caseId);
    expect(after.stage).toBe('rectifying');
    expect(after.history).toHaveLength(2);

    // Sent again (a double click): the stage has moved on, so it is refused as a page and nothing changes.
    const again = await browse(eventsPath, { ...plan, 'field.funding': '专项资金12万元' });
    expect(again.status).toBe(409);
    expect(again.html).toContain('案件当前处于“整改中”阶段');
    expect((await caseOf(caseId)).history).toHaveLength(2);

    // The supervising department has nothing to send while the enterprise rectifies.
    const dept = await browse(`/cases/${caseId}?link=${deptLink}`);
    expect(dept.status).toBe(200);
    expect(dept.html).toContain('当前没有需要贵单位办理的事项');
    expect(dept.html).toContain('报送“五到位”整改方案（责任单位）');
  });

  it('answers a tampered link with a page, not JSON', async () => {
    const { caseId } = await openMajorHazard(rt, { title: '另一处隐患' });
    await advance(rt, '2023-03-06T10:00:00+08:00');
    const link = await caseLinkFor(rt, caseId, mail('ent-a', 'principal'));
    const tampered = `${link.slice(0, -2)}${link.endsWith('AA') ? 'BB' : 'AA'}`;
    const res = await browse(`/cases/${caseId}?link=${tampered}`);
    expect(res.status).toBe(403);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.html).toContain('如需继续办理，请联系县安委办');
    expect(res.html).not.toMatch(/"error"/);
  });

  it('keeps an outstanding link working across a key rotation; once its key is retired it gets the expired page', async () => {
    const { caseId } = await openMajorHazard(rt, { title: '轮换密钥前的隐患' });
    await advance(rt, '2023-03-06T10:00:00+08:00');
    const before = await caseLinkFor(rt, caseId, mail('ent-a', 'principal'));
    const first = process.env.SAFEDUTY_LINK_SECRET as string;
    const next = 'a-new-link-key-of-at-least-32-characters-2';
    const rotate = (ring: object) => {
      // What an operator's `aws ssm put-parameter --overwrite` does; functions read it again within 5 minutes.
      process.env.SAFEDUTY_LINK_SECRET = JSON.stringify(ring);
      resetSecretCache();
    };
    try {
      rotate({ current: 'k2', keys: { k2: next, k1: first } });
      expect((await browse(`/cases/${caseId}?link=${before}`)).status).toBe(200);
      // New emails carry links signed with the new key, naming it.
      const { caseId: later } = await openMajorHazard(rt, { title: '轮换密钥后的隐患' });
      await advance(rt, '2023-03-06T10:00:00+08:00');
      const after = await caseLinkFor(rt, later, mail('ent-a', 'principal'));
      expect(JSON.parse(Buffer.from(after.split('.')[0] as string, 'base64url').toString())).toMatchObject({
        k: 'k2',
      });
      expect((await browse(`/cases/${later}?link=${after}`)).status).toBe(200);

      rotate({ current: 'k2', keys: { k2: next } });
      const retired = await browse(`/cases/${caseId}?link=${before}`);
      expect(retired.status).toBe(410);
      expect(retired.html).toContain('链接已过期，请联系县安委办重新获取');
      expect((await browse(`/cases/${later}?link=${after}`)).status).toBe(200);
    } finally {
      process.env.SAFEDUTY_LINK_SECRET = first;
      resetSecretCache();
    }
  });
});

describe('the cycle link page', () => {
  it('answers a tampered reminder link with a page for a browser and JSON for an API client', async () => {
    const res = await browse('/links/not-a-valid-link');
    expect(res.status).toBe(403);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.html).toContain('如需继续办理，请联系县安委办');

    const asApi = await fetch(`${rt.apiUrl}/links/not-a-valid-link`);
    expect(asApi.status).toBe(403);
    expect(asApi.headers.get('content-type')).toMatch(/^application\/json/);
  });
});
