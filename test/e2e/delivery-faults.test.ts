// Delivery under faults, on the real engine with the SES gateway's faults switched on: an outage of two days, and
// a county where some addresses are refused for good and some sends fail for a moment. Each walk is compared with
// the same walk without faults.
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../functions/delivery/model.ts';
import type { FaultsPatch } from '../../local/faults.ts';
import { generateRoster, type Roster } from '../../local/roster.ts';
import type { Runtime } from '../../local/runtime.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { planCycle } from '../../workflows/plan.ts';
import { api, mailItems, sentMails, startTestRuntime } from '../support/runtime.ts';

const catalog = loadCatalog();
const at = (iso: string) => Date.parse(iso);

let runtimes: Runtime[] = [];
afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
});

async function walk(roster: Roster, from: string, until: string, faults?: FaultsPatch): Promise<Runtime> {
  const rt = await startTestRuntime({
    clock: from,
    units: roster.units,
    leaders: roster.leaders,
    ...(faults ? { faults } : {}),
  });
  runtimes.push(rt);
  await rt.advanceTo(new Date(until));
  return rt;
}

async function deliveries(rt: Runtime, query = ''): Promise<DeliveryRecord[]> {
  const out: DeliveryRecord[] = [];
  let next: string | null = null;
  do {
    const res = await api(
      rt,
      'GET',
      `/deliveries?from=2023-02-01&to=2023-03-31&limit=200${query}${next ? `&cursor=${next}` : ''}`,
    );
    expect(res.status).toBe(200);
    const page = res.json as unknown as { deliveries: DeliveryRecord[]; next: string | null };
    out.push(...page.deliveries);
    next = page.next;
  } while (next);
  return out;
}

/** `address|notice id` of every notice the sent emails carried. */
function carried(records: DeliveryRecord[]): string[] {
  return records
    .filter((r) => r.status === 'sent')
    .flatMap((r) => r.carried.map((c) => `${r.address.toLowerCase()}|${c.id}`));
}

async function cyclesInError(rt: Runtime): Promise<unknown[]> {
  const res = await api(rt, 'GET', '/cycles?status=open');
  return (res.json.cycles as { lastError?: unknown }[]).filter((c) => c.lastError);
}

describe('SES unreachable for two days', () => {
  it('delivers everything still owed within 15 minutes of its return, without a restart', async () => {
    const roster = generateRoster({ towns: 3, departments: 4, enterprises: 6, sites: 4 }, 2023);
    const from = '2023-02-06T08:00:00+08:00';
    const back = '2023-02-08T10:17:00+08:00';
    const caughtUp = at(back) + 15 * 60_000;

    const calm = await walk(roster, from, back);
    const owed = (await deliveries(calm))
      .filter((r) => r.status === 'sent')
      .flatMap((r) =>
        r.carried
          // A reminder whose deadline passed during the outage is not owed any more: its escalation speaks now.
          .filter((c) => {
            if (c.kind !== 'reminder') return true;
            const [, duty, period] = c.subject.split('#');
            return at(planCycle(catalog.require(duty ?? ''), period ?? '').deadline) > at(back);
          })
          .map((c) => `${r.address.toLowerCase()}|${c.id}`),
      );
    expect(owed.length).toBeGreaterThan(50);

    const rt = await walk(roster, from, new Date(caughtUp).toISOString(), { ses: { downUntil: back } });
    const records = await deliveries(rt);
    expect(records.filter((r) => at(r.sentAt) < at(back))).toEqual([]);
    const got = new Set(carried(records.filter((r) => at(r.sentAt) <= caughtUp)));
    expect(owed.filter((id) => !got.has(id))).toEqual([]);
    // The backlog of two days arrives as one email per person, in office hours.
    const perAddress = new Map<string, number>();
    for (const m of sentMails(rt)) for (const a of m.to) perAddress.set(a, (perAddress.get(a) ?? 0) + 1);
    expect(Math.max(...perAddress.values())).toBe(1);
    expect(rt.mail.stats.refusedWhileDown).toBeGreaterThan(0);
    expect(await cyclesInError(rt)).toEqual([]);
  }, 300_000);
});

describe('rejected addresses and transient errors', () => {
  it('delivers every other email once and reports each rejection to 安委办 and in GET /deliveries', async () => {
    // About a hundred units, two hundred addresses; two of them (1 %) are refused by the mail service.
    const roster = generateRoster({ towns: 5, departments: 10, enterprises: 70, sites: 15 }, 7);
    const rejected = roster.units
      .filter((u) => u.kind === 'enterprise')
      .slice(0, 2)
      .map((u) => u.contact.email.toLowerCase());
    const office = roster.units.find((u) => u.id === 'county-safety-office');
    const officeAddresses = [office?.contact.email, office?.principal.email].map((a) => a?.toLowerCase());
    const from = '2023-02-06T08:00:00+08:00';
    const until = '2023-02-10T23:59:00+08:00';

    const calm = await walk(roster, from, until);
    const expected = carried(await deliveries(calm)).filter(
      (id) => !rejected.includes(id.split('|')[0] ?? ''),
    );
    expect(expected.length).toBeGreaterThan(500);

    const rt = await walk(roster, from, until, {
      ses: { rejectAddresses: rejected, transientErrorRate: 0.05, seed: 11 },
    });
    expect(rt.mail.stats.transient).toBeGreaterThan(10);
    const records = await deliveries(rt);
    const got = carried(records);
    const others = got.filter((id) => !rejected.includes(id.split('|')[0] ?? ''));
    // Every other notice, each carried once (the faulted walk's problem reports to 安委办 come on top).
    const gotSet = new Set(others);
    expect(expected.filter((id) => !gotSet.has(id))).toEqual([]);
    expect(others.length).toBe(gotSet.size);
    // ...and each email once: SES accepted exactly the emails the record says were sent.
    expect(sentMails(rt).length).toBe(records.filter((r) => r.status === 'sent').length);

    const failed = await deliveries(rt, '&status=failed');
    expect([...new Set(failed.map((r) => r.address.toLowerCase()))].sort()).toEqual([...rejected].sort());
    for (const r of failed) expect(r.reasonZh).toMatch(/拒收/);
    // Later emails to them are not attempted again: recorded as suppressed.
    const suppressed = await deliveries(rt, '&status=suppressed');
    expect(suppressed.every((r) => rejected.includes(r.address.toLowerCase()))).toBe(true);

    // 安委办's next email lists each refused address under 无法送达.
    for (const address of rejected) {
      const firstFailure = Math.min(
        ...failed.filter((r) => r.address.toLowerCase() === address).map((r) => at(r.sentAt)),
      );
      const next = sentMails(rt).find(
        (m) => m.at > firstFailure && m.to.some((a) => officeAddresses.includes(a.toLowerCase())),
      );
      expect(next, `安委办's email after ${address} failed`).toBeDefined();
      const problems = mailItems(next ?? { text: '' }).filter((i) => i.kind === 'problem');
      expect(problems.map((p) => p.text).join('\n')).toContain(address);
    }
    expect(await cyclesInError(rt)).toEqual([]);

    // 安委办 checks the first address (the mailbox was full and has been emptied) and saves the unit unchanged:
    // mail goes to it again from the next moment on; the other stays suppressed.
    rt.faults.apply({ ses: { rejectAddresses: [] } });
    const checked = roster.units.find((u) => u.contact.email.toLowerCase() === rejected[0]);
    const { id, ...body } = checked ?? roster.units[0]!;
    const saved = await api(rt, 'PUT', `/units/${id}`, body);
    expect(saved.status).toBe(200);
    const history = await api(rt, 'GET', `/audit?subject=unit:${id}`);
    expect(JSON.stringify(history.json)).toContain('addresses-released');
    await rt.advanceTo(new Date('2023-02-14T10:00:00+08:00'));
    const later = sentMails(rt, at(until));
    expect(later.some((m) => m.to.some((a) => a.toLowerCase() === rejected[0]))).toBe(true);
    expect(later.some((m) => m.to.some((a) => a.toLowerCase() === rejected[1]))).toBe(false);
  }, 600_000);
});

describe('an address that bounces after SES accepted the email', () => {
  it('is recorded as failed, suppressed from then on and reported to 安委办, through the SES event path', async () => {
    const roster = generateRoster({ towns: 3, departments: 4, enterprises: 6, sites: 4 }, 2023);
    const bouncing = (roster.units.find((u) => u.kind === 'enterprise')?.contact.email ?? '').toLowerCase();
    const office = roster.units.find((u) => u.id === 'county-safety-office');
    const rt = await walk(roster, '2023-02-06T08:00:00+08:00', '2023-02-07T10:00:00+08:00', {
      ses: { bounceAddresses: [bouncing] },
    });
    // SES accepted the first email to it (it is in the mail log), then reported the bounce.
    const accepted = sentMails(rt).filter((m) => m.to.some((a) => a.toLowerCase() === bouncing));
    expect(accepted).toHaveLength(1);
    const failed = await deliveries(rt, '&status=failed');
    expect(failed.map((r) => [r.address.toLowerCase(), r.sentAt, r.reasonZh])).toEqual([
      [
        bouncing,
        new Date(accepted[0]!.at + 8 * 3_600_000).toISOString().slice(0, 19) + '+08:00',
        '邮件被对方邮件服务器退回：地址不存在或拒收',
      ],
    ]);
    // The next morning's email to it is not attempted.
    const suppressed = await deliveries(rt, '&status=suppressed');
    expect(suppressed.length).toBeGreaterThan(0);
    expect(suppressed.every((r) => r.address.toLowerCase() === bouncing)).toBe(true);
    // 安委办's next email lists it under 无法送达.
    const toOffice = sentMails(rt).filter(
      (m) =>
        m.at > accepted[0]!.at && m.to.some((a) => a.toLowerCase() === office?.contact.email.toLowerCase()),
    );
    const problems = mailItems(toOffice[0] ?? { text: '' }).filter((i) => i.kind === 'problem');
    expect(problems.map((p) => p.text).join('\n')).toContain(bouncing);
  }, 300_000);
});

describe('bounce and complaint events', () => {
  it('mark the contact on the roster and send the unit’s notices to its principal until the roster is corrected', async () => {
    const roster = generateRoster({ towns: 3, departments: 4, enterprises: 6, sites: 4 }, 2023);
    const [a, b] = roster.units.filter((u) => u.kind === 'enterprise');
    if (!a || !b) throw new Error('the roster has no two enterprises');
    const bouncing = a.contact.email.toLowerCase();
    const complaining = b.contact.email.toLowerCase();
    const rt = await walk(roster, '2023-02-06T08:00:00+08:00', '2023-02-07T10:00:00+08:00', {
      ses: { bounceAddresses: [bouncing], complaintAddresses: [complaining] },
    });
    const to = (address: string, since = 0) =>
      sentMails(rt, since).filter((m) => m.to.some((x) => x.toLowerCase() === address.toLowerCase()));

    // The roster shows the marks, with why.
    const marked = await api(rt, 'GET', '/units?undeliverable=true');
    expect(marked.status).toBe(200);
    const rows = marked.json.units as {
      id: string;
      undeliverable: { position: string; reasonZh: string }[];
    }[];
    expect(rows.map((u) => [u.id, u.undeliverable.map((m) => `${m.position} ${m.reasonZh}`)])).toEqual(
      [
        [a.id, ['contact 邮件被对方邮件服务器退回：地址不存在或拒收']],
        [b.id, ['contact 收件人将提醒邮件标记为垃圾邮件，此后不再向其发送']],
      ].sort(([x], [y]) => String(x).localeCompare(String(y))),
    );
    const one = await api(rt, 'GET', `/units/${a.id}`);
    expect(one.json.undeliverable).toMatchObject([{ position: 'contact', address: a.contact.email }]);

    // Each contact got the one email SES accepted before its event; after that the unit's notices went to the
    // principal, saying whose they were.
    for (const [unit, address] of [
      [a, bouncing],
      [b, complaining],
    ] as const) {
      const accepted = to(address);
      expect(accepted).toHaveLength(1);
      const takenOver = to(unit.principal.email, accepted[0]!.at).filter((m) =>
        (m.text ?? '').includes(
          `本事项原发给单位联络人${unit.contact.name}（${unit.contact.email}），该邮箱已不能接收本系统的邮件`,
        ),
      );
      expect(takenOver.length, unit.id).toBeGreaterThan(0);
      expect(takenOver[0]?.text).toContain(unit.name);
    }
    const suppressed = await deliveries(rt, '&status=suppressed');
    expect(
      suppressed
        .filter((r) => r.address.toLowerCase() === bouncing)
        .every((r) => r.reasonZh?.includes(`已改发给${a.principal.name}`)),
    ).toBe(true);

    // 安委办 corrects the contact: the mark goes, and the new address gets the unit's mail again.
    const fixed = { ...a, contact: { ...a.contact, email: 'new-contact@example.gov.cn' } };
    const { joinedAt: _joined, ...body } = fixed as typeof fixed & { joinedAt?: string };
    expect((await api(rt, 'PUT', `/units/${a.id}`, body)).status).toBe(200);
    const after = await api(rt, 'GET', '/units?undeliverable=true');
    expect((after.json.units as { id: string }[]).map((u) => u.id)).toEqual([b.id]);
    const fixedAt = rt.clock.nowMs();
    await rt.advanceTo(new Date('2023-02-08T10:00:00+08:00'));
    expect(to('new-contact@example.gov.cn', fixedAt).length).toBeGreaterThan(0);
    expect(
      to(a.principal.email, fixedAt).filter((m) => (m.text ?? '').includes('本事项原发给单位联络人')),
    ).toEqual([]);
  }, 300_000);
});
