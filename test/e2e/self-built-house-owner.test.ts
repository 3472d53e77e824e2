import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { advance, api } from '../support/runtime.ts';
import {
  caseEmails,
  caseItems,
  caseLinkFor,
  caseMail,
  caseRuntimes,
  event,
  mail,
} from '../support/case-county.ts';

// A self-built house's owner (产权人) and user/operator (使用人（经营者）) are citizens named on the case: told by
// email and text message at the contacts the case gives, in plain words, without a link. The town serves them the
// written notices (双通知) and reports to the housing bureau (一报告), each step on its own clock. Virtual clock.

const start = caseRuntimes();

const OWNER_EMAIL = 'zhang.owner@example.com';
const OWNER_SMS = '+8613800000201';
const OCCUPANT_SMS = '+8613900000202';
const TOWN_CONTACT = '青山镇（联络人town-a联络员，电话0355-5123456）';

function house(caseId: string, fields: Record<string, string> = {}) {
  return {
    type: 'self-built-house-rectification',
    caseId,
    title: '幸福路8号经营性自建房',
    responsibleUnitId: 'town-a',
    supervisingUnitId: 'dept-housing',
    term: { until: '2023-04-14' },
    fields: {
      address: '青山镇幸福路8号',
      ownerName: '张某某',
      ownerPhone: '138 0000 0201',
      ownerEmail: OWNER_EMAIL,
      occupantName: '李某某',
      occupantPhone: '13900000202',
      use: '餐饮',
      findings: '违规加层，承重墙开裂',
      category: '限期整改',
      ...fields,
    },
  };
}

/** Text messages sent since the last call, as `to text`. */
function texts(rt: Runtime) {
  let seen = 0;
  return () => {
    const fresh = rt.sms.sent.slice(seen);
    seen = rt.sms.sent.length;
    return fresh;
  };
}

/** The latest item about the case in an email to `to`. */
function itemTo(rt: Runtime, caseId: string, to: string): string {
  const item = caseEmails(rt, caseId)
    .filter((m) => m.to.includes(to))
    .flatMap((m) => caseItems(m, caseId))
    .at(-1);
  if (!item) throw new Error(`no item about ${caseId} to ${to}`);
  return item.text;
}

describe('self-built houses: the owner and the occupant, 双通知、一报告', () => {
  it('tells the owner and the occupant, escalates late written notices, and tells them of the term', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const patched = await api(rt, 'PATCH', '/units/town-a', { contact: { phone: '0355-5123456' } });
    expect(patched.status, patched.text).toBe(200);
    const id = 'sbh-owner-1';
    const opened = await api(rt, 'POST', '/cases', house(id));
    expect(opened.status, opened.text).toBe(201);
    // The written notices are due 3 working days after listing.
    expect(opened.json).toMatchObject({ stage: 'awaiting-notices', deadline: '2023-03-09T18:00:00+08:00' });
    const said = caseMail(rt, id);
    const sms = texts(rt);

    await advance(rt, '2023-03-06T10:00:00+08:00');
    expect(await said()).toEqual(
      [
        `【整治通知】 ${mail('housing', 'principal')}`,
        `【整治通知】 ${mail('town-a', 'principal')}`,
        `【整治通知】 ${OWNER_EMAIL}`,
      ].sort(),
    );
    // The owner reads what was found, what to do, by when and whom to ask; no link, nobody else's contacts.
    const owner = itemTo(rt, id, OWNER_EMAIL);
    expect(owner).toContain('（您作为：产权人）');
    expect(owner).toContain(
      '您是“幸福路8号经营性自建房”的产权人。这栋房屋在经营性自建房安全隐患排查中发现存在安全隐患',
    );
    expect(owner).toContain('排查发现的问题：违规加层，承重墙开裂');
    expect(owner).toContain('整改期限：2023年4月14日（星期五）18:00。');
    expect(owner).toContain(`如有疑问，请联系${TOWN_CONTACT}。`);
    expect(owner).toContain('“加强经营性自建房安全隐患排查整治，落实“双通知、一报告”要求”');
    expect(owner).not.toContain('/cases/');
    expect(owner).not.toContain('13900000202');
    // The town reads the owner and the occupant, and acts through its link.
    const town = itemTo(rt, id, mail('town-a', 'principal'));
    expect(town).toContain('产权人（房屋所有人）：张某某');
    expect(town).toContain('使用人（经营者）手机号码：13900000202');
    expect(town).toContain(`/cases/${id}?link=`);
    // A text to each: the occupant gave only a phone.
    const opening = sms();
    expect(opening.map((s) => s.to).sort()).toEqual([OWNER_SMS, OCCUPANT_SMS]);
    const ownerText = opening.find((s) => s.to === OWNER_SMS)?.text ?? '';
    expect(ownerText).toMatch(
      /^【襄垣县安委办】张某某：【整治通知】“幸福路8号经营性自建房”：这栋房屋在经营性自建房安全隐患排查中发现存在安全隐患/,
    );
    expect(ownerText).toContain('排查发现的问题：违规加层，承重墙开裂');
    expect(ownerText).toContain(`整改期限：2023年4月14日（星期五）18:00。咨询：${TOWN_CONTACT}`);
    expect(opening.find((s) => s.to === OCCUPANT_SMS)?.text).toMatch(/^【襄垣县安委办】李某某：【整治通知】/);

    // The written notices are late: the town is reminded, then its head hears. The owner is not told of the
    // town's own lateness.
    await advance(rt, '2023-03-10T10:00:00+08:00');
    expect(await said()).toEqual([
      `【提醒】 ${mail('town-a', 'contact')}`,
      `【逾期】L1 ${mail('town-a', 'principal')}`,
    ]);
    expect(itemTo(rt, id, mail('town-a', 'principal'))).toContain(
      '应于2023年3月9日（星期四）18:00前向产权人和使用人（经营者）书面送达隐患整治通知（双通知）',
    );
    expect(sms()).toEqual([]);
    const ledger = (await api(rt, 'GET', '/overdue')).json as { items: Record<string, unknown>[] };
    expect(ledger.items.filter((i) => i.item === `case:${id}`)).toEqual([
      expect.objectContaining({ unitId: 'town-a', workdaysOverdue: 1, escalationLevel: 1 }),
    ]);

    // 双通知 served, through the town's link: the date and the manner are required.
    const link = {
      'x-safeduty-link': await caseLinkFor(rt, id, mail('town-a', 'principal')),
      authorization: '',
    };
    const person = { name: '孙干事' };
    const incomplete = await event(
      rt,
      id,
      { event: 'notices-served', person, fields: { ownerServedOn: '2023年3月10日' } },
      link,
    );
    expect(incomplete.status).toBe(400);
    expect(incomplete.json.message).toMatch(/^“双通知”须写明.*缺少：送达方式$/);
    const served = await event(
      rt,
      id,
      {
        event: 'notices-served',
        person,
        fields: {
          ownerServedOn: '2023年3月10日',
          occupantServedOn: '2023年3月10日',
          method: '直接送达，本人签收',
        },
      },
      link,
    );
    expect(served.status, served.text).toBe(201);
    // 一报告 within 2 working days.
    expect(served.json.case).toMatchObject({
      stage: 'awaiting-report',
      deadline: '2023-03-14T18:00:00+08:00',
    });
    await advance(rt, '2023-03-13T10:00:00+08:00');
    expect(await said()).toEqual([`【提醒】 ${mail('town-a', 'contact')}`]);

    const reported = await event(
      rt,
      id,
      {
        event: 'report-submitted',
        person,
        fields: { summary: '违规加层、承重墙开裂；双通知已于3月10日送达' },
      },
      link,
    );
    expect(reported.status, reported.text).toBe(201);
    expect(reported.json.case).toMatchObject({
      stage: 'awaiting-plan',
      deadline: '2023-03-27T18:00:00+08:00',
    });
    const plan = await event(
      rt,
      id,
      {
        event: 'plan-submitted',
        fields: { measures: '拆除加层，加固承重墙', responsibility: '镇村建办主任', timeline: '4月10日前' },
      },
      link,
    );
    expect(plan.status, plan.text).toBe(201);
    expect(plan.json.case).toMatchObject({ stage: 'rectifying', deadline: '2023-04-14T18:00:00+08:00' });
    await advance(rt, '2023-03-13T10:00:00+08:00');
    // The report goes to the housing bureau; the plan to the owner and the occupant.
    expect(await said()).toEqual(
      [
        `【隐患报告】 ${mail('housing', 'contact')}`,
        `【隐患报告】 ${mail('housing', 'principal')}`,
        `【整治方案】 ${OWNER_EMAIL}`,
      ].sort(),
    );
    expect(itemTo(rt, id, mail('housing', 'principal'))).toContain(
      '违规加层、承重墙开裂；双通知已于3月10日送达',
    );
    const planTexts = sms();
    expect(planTexts.map((s) => s.to).sort()).toEqual([OWNER_SMS, OCCUPANT_SMS]);
    expect(planTexts[0]?.text).toContain(
      '整治措施：拆除加层，加固承重墙；责任人：镇村建办主任；完成时限：4月10日前。',
    );

    // Before the term (5 and 1 working days), the town and the citizens are reminded.
    await advance(rt, '2023-04-14T20:00:00+08:00');
    expect(await said()).toEqual(
      [
        `【提醒】 ${mail('town-a', 'contact')}`,
        `【提醒】 ${mail('town-a', 'contact')}`,
        `【提醒】 ${OWNER_EMAIL}`,
        `【提醒】 ${OWNER_EMAIL}`,
      ].sort(),
    );
    const reminders = sms();
    expect(reminders.map((s) => s.to).sort()).toEqual([OWNER_SMS, OWNER_SMS, OCCUPANT_SMS, OCCUPANT_SMS]);
    expect(reminders.at(-1)?.text).toContain(
      '【提醒】“幸福路8号经营性自建房”须于2023年4月14日（星期五）18:00前完成房屋安全隐患整治',
    );

    // After it: the citizens are told once, at the first level; the ladder goes on to the bureau without them.
    await advance(rt, '2023-04-19T10:00:00+08:00');
    expect(await said()).toEqual(
      [
        `【逾期】 ${OWNER_EMAIL}`,
        `【逾期】L1 ${mail('town-a', 'principal')}`,
        `【逾期】L2 ${mail('town-a', 'principal')}`,
        `【逾期】L2 ${mail('housing', 'principal')}`,
      ].sort(),
    );
    expect(itemTo(rt, id, OWNER_EMAIL)).toContain(
      '已逾期1个工作日。请立即落实整治；青山镇和县住房和城乡建设局将督促整治。',
    );
    const overdue = sms();
    expect(overdue.map((s) => s.to).sort()).toEqual([OWNER_SMS, OCCUPANT_SMS]);
    expect(overdue[0]?.text).toContain('现已逾期，请立即落实整治。');
  });

  it('refuses a bad owner phone or email with a Chinese 400 naming the field; skips an owner with no contact', async () => {
    const rt = await start('2023-03-06T10:00:00+08:00');
    const landline = await api(rt, 'POST', '/cases', house('sbh-owner-2', { ownerPhone: '0355-1234567' }));
    expect(landline.status).toBe(400);
    expect(landline.json.message).toBe(
      '产权人手机号码不是有效的手机号码（须为能接收短信的手机号，如 13800000001）',
    );
    expect(landline.json.issues).toEqual([
      { field: 'fields.ownerPhone', problem: '不是有效的手机号码（须为能接收短信的手机号，如 13800000001）' },
    ]);
    const email = await api(rt, 'POST', '/cases', house('sbh-owner-2', { ownerEmail: 'zhang@' }));
    expect(email.status).toBe(400);
    expect(email.json.message).toBe('产权人电子邮箱不是有效的电子邮箱地址');
    expect((await api(rt, 'GET', '/cases')).json.count).toBe(0);

    // Named but unreachable: the case opens, the officials hear, nobody is texted and nothing fails.
    const {
      ownerPhone: _p,
      ownerEmail: _e,
      occupantName: _n,
      occupantPhone: _o,
      ...fields
    } = house('x').fields;
    const opened = await api(rt, 'POST', '/cases', { ...house('sbh-owner-3'), fields });
    expect(opened.status, opened.text).toBe(201);
    await advance(rt, '2023-03-06T10:00:00+08:00');
    expect(await caseMail(rt, 'sbh-owner-3')()).toEqual([
      `【整治通知】 ${mail('housing', 'principal')}`,
      `【整治通知】 ${mail('town-a', 'principal')}`,
    ]);
    expect(rt.sms.sent).toEqual([]);
    const c = await api(rt, 'GET', '/cases/sbh-owner-3');
    expect(c.json).toMatchObject({ stage: 'awaiting-notices', workflow: { status: 'open' } });
    expect((c.json.workflow as Record<string, unknown>).lastError).toBeUndefined();
  });
});
