// Thirteen virtual weeks of the demo county (the roster `npm start` loads) with nobody completing anything, read
// as the recipients read their mail: few emails a day, in office hours, escalations only on working days that a
// leader can act on, and never to the person who is late.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../functions/delivery/model.ts';
import { generateRoster, ROSTER_SIZES } from '../../local/roster.ts';
import type { Runtime } from '../../local/runtime.ts';
import type { SentMail } from '../../local/ses-gateway.ts';
import { isWorkday, shanghaiDateOf } from '../../workflows/calendar.ts';
import { api, mailItems, sentMails, startTestRuntime } from '../support/runtime.ts';

const roster = generateRoster(ROSTER_SIZES.small, 2023);
const FROM = '2023-02-06T08:00:00+08:00';
const UNTIL = '2023-05-06T23:59:00+08:00';

let rt: Runtime;
let mails: SentMail[];

beforeAll(async () => {
  rt = await startTestRuntime({
    clock: FROM,
    units: roster.units,
    leaders: roster.leaders,
    // The reconciler finds nothing to do in a walk without faults; daily keeps the walk quick.
    reconcileEveryMs: 24 * 3_600_000,
  });
  await rt.advanceTo(new Date(UNTIL));
  mails = sentMails(rt);
}, 600_000);

afterAll(async () => {
  await rt.close();
});

const hourOf = (m: SentMail) => Number(new Date(m.at + 8 * 3_600_000).toISOString().slice(11, 13));
const dayOf = (m: SentMail) => shanghaiDateOf(new Date(m.at));

describe('the demo county over thirteen weeks, nobody completing', () => {
  it('sends at most 3 emails per address per day, none between 20:00 and 07:59', () => {
    const perDay = new Map<string, number>();
    for (const m of mails)
      for (const a of m.to) perDay.set(`${a}|${dayOf(m)}`, (perDay.get(`${a}|${dayOf(m)}`) ?? 0) + 1);
    const most = Math.max(...perDay.values());
    const evening = mails.filter((m) => hourOf(m) >= 20 || hourOf(m) < 8);
    const addresses = new Set(mails.flatMap((m) => m.to));
    const perAddress = [...addresses].map((a) => mails.filter((m) => m.to.includes(a)).length);
    console.log(
      `demo walk: ${mails.length} emails to ${addresses.size} addresses; at most ${most} per address per day; ` +
        `${evening.length} between 20:00 and 07:59; the busiest address got ${Math.max(...perAddress)} in 90 days`,
    );
    expect(mails.length).toBeGreaterThan(1000);
    expect(most).toBeLessThanOrEqual(3);
    expect(evening.map((m) => new Date(m.at).toISOString())).toEqual([]);
  });

  it('escalates only on working days', () => {
    const escalating = mails.filter((m) => mailItems(m).some((i) => i.kind === 'escalation'));
    expect(escalating.length).toBeGreaterThan(100);
    expect([...new Set(escalating.map(dayOf).filter((d) => !isWorkday(d)))]).toEqual([]);
  });

  it('gives every escalation a link and the defaulting units with their contacts, never to the late person', () => {
    const byName = new Map(roster.units.map((u) => [u.name, u]));
    let checked = 0;
    for (const m of mails)
      for (const item of mailItems(m).filter((i) => i.kind === 'escalation')) {
        checked++;
        expect(item.text, item.title).toMatch(/https?:\/\//);
        if (item.own) {
          // The unit's own level speaks to the unit itself.
          expect(item.text).toMatch(/您单位.+尚未完成/);
          continue;
        }
        expect(item.units.length, item.text).toBeGreaterThan(0);
        expect(item.text).toMatch(/已逾期\d+个工作日|逾期/);
        for (const name of item.units) {
          const unit = byName.get(name);
          expect(unit, name).toBeDefined();
          expect(item.text).toContain(`${name}（联系人：${unit?.contact.name}，联系电话：`);
          // Nobody is asked to supervise their own unit.
          expect(m.to.map((a) => a.toLowerCase())).not.toContain(unit?.contact.email.toLowerCase());
          expect(m.to.map((a) => a.toLowerCase())).not.toContain(unit?.principal.email.toLowerCase());
        }
      }
    expect(checked).toBeGreaterThan(100);
  });

  it('says which reminder is the last one, and how long is left', () => {
    const reminders = mails.flatMap((m) => mailItems(m).filter((i) => i.kind === 'reminder'));
    expect(reminders.length).toBeGreaterThan(50);
    expect(reminders.some((i) => i.text.includes('这是本期最后一次提醒，距截止还有'))).toBe(true);
    for (const i of reminders) expect(i.text).toMatch(/距截止还有/);
  });

  it('on the May Day holiday sends only same-day reminders, and brings its pile-up as one email per recipient', async () => {
    // Sites that work through the holiday are still reminded of that day's duty, at once (urgent); nothing else.
    const holiday = mails.filter((m) => dayOf(m) >= '2023-04-29' && dayOf(m) <= '2023-05-03');
    expect(holiday.length).toBeGreaterThan(0);
    for (const m of holiday) {
      const [y, mo, d] = dayOf(m).split('-').map(Number);
      for (const item of mailItems(m)) {
        expect(item.kind, m.subject).toBe('reminder');
        expect(item.text).toContain(`截止时间：${y}年${mo}月${d}日`);
      }
    }
    const firstMorning = mails.filter((m) => dayOf(m) === '2023-05-04' && hourOf(m) < 12);
    expect(firstMorning.length).toBeGreaterThan(5);
    const perAddress = new Map<string, number>();
    for (const m of firstMorning) for (const a of m.to) perAddress.set(a, (perAddress.get(a) ?? 0) + 1);
    expect(Math.max(...perAddress.values())).toBe(1);

    // The delivery record agrees with what the mail service accepted.
    const res = await api(rt, 'GET', '/deliveries?from=2023-05-04&to=2023-05-04&limit=200');
    const records = (res.json.deliveries as DeliveryRecord[]).filter((r) => r.status === 'sent');
    expect(records.length).toBe(mails.filter((m) => dayOf(m) === '2023-05-04').length);
  });
});
