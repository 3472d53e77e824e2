// A delivery run against in-memory ports: one email per recipient, per-recipient outcomes, pacing, outages,
// continuation within the time budget, the lease, and what a crash leaves behind.
import { describe, expect, it } from 'vitest';
import { workdaysOverdue } from '../../functions/core/overdue.ts';
import { recordKey, type DeliveryRecord, type OutgoingEmail } from '../../functions/delivery/model.ts';
import type { CaseFacts, CycleFacts } from '../../functions/delivery/owed.ts';
import type { UnitPositions } from '../../functions/delivery/fallback.ts';
import type {
  DeliveryPorts,
  InFlight,
  OutboxEntry,
  OutgoingSms,
  RunState,
} from '../../functions/delivery/ports.ts';
import { runDelivery, type RunResult } from '../../functions/delivery/run.ts';
import { addressKey, noticeId, type Notice } from '../../functions/notices/model.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import { DeliverySchedule, loadDeliveryPolicy } from '../../workflows/delivery/policy.ts';
import { VirtualClock } from '../../local/clock.ts';

const catalog = loadCatalog();
const schedule = new DeliverySchedule(loadDeliveryPolicy());
const MOMENT = '2023-02-06T09:00:00+08:00';
const OFFICE = { name: '安委办联络员', email: 'office@example.gov.cn' };

type Sender = (email: OutgoingEmail, attempt: number) => Error | undefined;
const error = (name: string, message = name, status?: number) =>
  Object.assign(new Error(message), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });

/** The world a run sees, in memory. `send` decides each SendEmail's fate. */
class World {
  readonly clock = new VirtualClock(new Date(MOMENT));
  get now(): number {
    return this.clock.nowMs();
  }
  set now(ms: number) {
    this.clock.set(ms);
  }
  /** Each invocation's time budget (Lambda's timeout); it starts when run() is called. */
  budgetMs = 600_000;
  private budgetEnds = 0;
  rate = 14;
  notices = new Map<string, Notice>();
  lease: { holder: string; until: number; inFlight: InFlight[] } | undefined;
  runs = new Map<string, RunState>();
  records = new Map<string, DeliveryRecord>();
  undeliverable = new Map<string, { reasonZh: string; since: string }>();
  submitted = new Map<string, Set<string>>();
  cases = new Map<string, CaseFacts>();
  cycles = new Map<string, CycleFacts>();
  sent: (OutgoingEmail & { at: number })[] = [];
  /** Text messages sent, and each SendTextMessage's fate (absent: this deployment has no SMS service). */
  texts: (OutgoingSms & { at: number })[] = [];
  sendText?: (sms: OutgoingSms) => Error | undefined;
  attempts = 0;
  ensured: string[] = [];
  /** How many markers each clearing was given. */
  cleared: number[] = [];
  /** The moment markers: moment → the token of its last write. */
  markers = new Map<string, string>();
  /** The express markers of immediate notices: `<moment>#<address>` → the token of its last write. */
  express = new Map<string, string>();
  /** Express looks the runs made. */
  expressLooks = 0;
  /** Entries a page of the outbox holds (DynamoDB's pages are up to 1 MB: hundreds of notices). */
  pageSize = 3;
  private writes = 0;
  /** Called at the run's last look at the outbox, after it has said it is closing. */
  lastLook?: () => void;
  holder = 'delivery-20230206T0900';
  send: Sender = () => undefined;
  sender?: string;
  /** Items the outbox cannot read as notices (reported with the first page). */
  badItems: string[] = [];
  errors: string[] = [];
  /** Addresses whose record a run read before sending notices written after their moment. */
  lookedBack: string[] = [];
  officeFails = false;
  /** The roster's positions, for notices whose reader cannot be reached. */
  units = new Map<string, UnitPositions>();
  /** Whether a notice's stage addressed a position itself (the planner's answer, in the handler). */
  stageAddressed: (notice: Notice, position: 'contact' | 'principal') => boolean = () => false;
  /** Fails the next write of delivery records or the next outbox removal: a crash at that point. */
  crashOn?: 'records' | 'remove';

  refOf(address: string, id: string) {
    return `${addressKey(address)}#${id}`;
  }

  add(...ns: Notice[]) {
    for (const n of ns) this.notices.set(this.refOf(n.recipient.address, noticeId(n)), n);
    // As the outbox writes them: the markers after the notices, a new token per write.
    this.writes++;
    for (const n of ns) this.markers.set(n.at, `w${this.writes}`);
    for (const n of ns)
      if (n.urgency === 'immediate')
        this.express.set(`${n.at}#${addressKey(n.recipient.address)}`, `w${this.writes}`);
  }

  ports(): DeliveryPorts {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the ports are closures over this world
    const w = this;
    return {
      outbox: {
        shards: 1,
        async page(_shard, after, next) {
          const all = [...w.notices.entries()]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .filter(([ref]) => after === undefined || ref > `${after}$`)
            .map(([ref, notice]): OutboxEntry => ({ ref, notice }));
          // Pages of three entries: recipients span pages. The next page starts after the last key returned, as
          // DynamoDB's ExclusiveStartKey does, so removals meanwhile shift nothing.
          const from = next as string | undefined;
          const rest = from === undefined ? all : all.filter((e) => e.ref > from);
          const entries = rest.slice(0, w.pageSize);
          return {
            entries,
            ...(rest.length > w.pageSize ? { next: entries.at(-1)?.ref } : {}),
            ...(from === undefined && w.badItems.length > 0 ? { bad: w.badItems } : {}),
          };
        },
        async remove(refs) {
          if (w.crashOn === 'remove') {
            w.crashOn = undefined;
            throw new Error('crash');
          }
          for (const r of refs) w.notices.delete(r);
        },
        refOf: (address, id) => w.refOf(address, id),
        async record(ns) {
          w.add(...ns);
        },
        async ensureDelivery(moment) {
          w.ensured.push(moment);
        },
        async markersUpTo(nowMs) {
          // The run's last look (it has said it is closing): a producer may record just then (`lastLook`).
          const closing = w.runs.get(w.holder)?.closing === true;
          if (closing) w.lastLook?.();
          return [...w.markers.entries()]
            .filter(([moment]) => Date.parse(moment) <= nowMs)
            .map(([moment, token]) => ({ moment, token }));
        },
        async clearMoments(seen) {
          w.cleared.push(seen.length);
          for (const m of seen) if (w.markers.get(m.moment) === m.token) w.markers.delete(m.moment);
        },
        async expressUpTo(nowMs) {
          w.expressLooks++;
          return [...w.express.entries()]
            .map(([key, token]) => {
              const i = key.indexOf('#');
              return { at: key.slice(0, i), address: key.slice(i + 1), token };
            })
            .filter((m) => Date.parse(m.at) <= nowMs);
        },
        async recipient(address) {
          return [...w.notices.entries()]
            .filter(([ref]) => ref.startsWith(`${address}#`))
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([ref, notice]) => ({ ref, notice }));
        },
        async clearExpress(seen) {
          for (const m of seen) {
            const key = `${m.at}#${m.address}`;
            if (w.express.get(key) === m.token) w.express.delete(key);
          }
        },
      },
      lease: {
        async acquire(holder, nowMs, untilMs) {
          if (w.lease && w.lease.holder !== holder && w.lease.until >= nowMs)
            return { acquired: false, holder: w.lease.holder, until: w.lease.until };
          const inFlight = w.lease?.inFlight ?? [];
          w.lease = { holder, until: untilMs, inFlight };
          return { acquired: true, inFlight };
        },
        async hold(holder, inFlight, untilMs) {
          if (w.lease?.holder !== holder) throw new Error('lease lost');
          w.lease = { holder, until: untilMs, inFlight: [...inFlight] };
        },
        async release(holder) {
          if (w.lease?.holder === holder && w.lease.inFlight.length === 0) w.lease = undefined;
        },
        async loadRun(holder) {
          return w.runs.get(holder);
        },
        async saveRun(holder, state) {
          w.runs.set(holder, structuredClone(state));
        },
      },
      records: {
        async put(rs) {
          if (w.crashOn === 'records') {
            w.crashOn = undefined;
            throw new Error('crash');
          }
          for (const r of rs)
            w.records.set(`${addressKey(r.address)}|${recordKey(r.moment, r.run, r.pass, r.invocation)}`, r);
        },
        async get(address, key) {
          return w.records.get(`${addressKey(address)}|${key}`);
        },
        async carriedSince(address, since) {
          w.lookedBack.push(address);
          return new Set(
            [...w.records.entries()]
              .filter(([k]) => k.startsWith(`${addressKey(address)}|`) && (k.split('|')[1] ?? '') >= since)
              .flatMap(([, r]) => r.carried.map((c) => c.id)),
          );
        },
      },
      addresses: {
        async undeliverable() {
          return new Map(w.undeliverable);
        },
        async markUndeliverable(address, reasonZh, _error, at) {
          w.undeliverable.set(addressKey(address), { reasonZh, since: at });
        },
      },
      facts: {
        async submittedUnits(dutyId, periodKey) {
          return new Set(w.submitted.get(`${dutyId}|${periodKey}`) ?? []);
        },
        async cycleState(dutyId, periodKey) {
          return w.cycles.get(`${dutyId}|${periodKey}`);
        },
        async caseState(caseId) {
          return w.cases.get(caseId);
        },
      },
      mail: {
        async send(email) {
          const err = w.send(email, ++w.attempts);
          if (err) throw err;
          w.sent.push({ ...email, at: w.now });
          return `m-${w.sent.length}`;
        },
        async maxSendRate() {
          return w.rate;
        },
        ...(w.sender ? { sender: w.sender } : {}),
      },
      ...(w.sendText
        ? {
            sms: {
              async send(sms: OutgoingSms) {
                const err = w.sendText?.(sms);
                if (err) throw err;
                w.texts.push({ ...sms, at: w.now });
                return `s-${w.texts.length}`;
              },
            },
          }
        : {}),
      clock: {
        now: () => w.now,
        // The local runtime's virtual clock: waits started together end at their own instants, in order.
        sleep: (ms) => w.clock.sleep(ms),
        remainingMs: () => w.budgetEnds - w.now,
      },
      log: { info: () => undefined, warn: () => undefined, error: (m) => void w.errors.push(m) },
      roster: {
        async positions(ids) {
          return new Map(
            ids.flatMap((id) => (w.units.has(id) ? [[id, w.units.get(id) as UnitPositions]] : [])),
          );
        },
      },
      safetyOffice: async () => {
        if (w.officeFails) throw new Error('bad record UNIT#county-safety-office/UNIT: contact: Required');
        return OFFICE;
      },
    };
  }

  run(holder = 'delivery-20230206T0900', moment = MOMENT, executionStartTime?: string): Promise<RunResult> {
    this.budgetEnds = this.now + this.budgetMs;
    this.holder = holder;
    return runDelivery(
      { moment, holder, ...(executionStartTime ? { executionStartTime } : {}) },
      this.ports(),
      {
        schedule,
        stageAddressed: this.stageAddressed,
        compose: {
          duty: (id) => catalog.get(id),
          workdaysOverdue,
          links: {
            unit: (u) => `https://x/links/${u}`,
            overdue: (s) => `https://x/escalations/${s.id}`,
            caseLink: (c) => `https://x/cases/${c}`,
          },
        },
      },
    );
  }

  /** Runs the same execution until it closes, moving the clock to each wake: what the state machine does. */
  async runToEnd(holder = 'delivery-20230206T0900', moment = MOMENT): Promise<RunResult[]> {
    const results: RunResult[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await this.run(holder, moment);
      results.push(r);
      if (r.status === 'closed') return results;
      if (r.status === 'waiting') this.now = Math.max(this.now, Date.parse(r.wakeAt));
    }
    throw new Error('the run did not finish');
  }

  to(address: string) {
    return this.sent.filter((e) => e.to === address);
  }
}

function reminder(address: string, unitId: string, extra: Partial<Notice> = {}): Notice {
  return {
    recipient: { address, name: `${unitId}联络员` },
    at: MOMENT,
    urgency: 'routine',
    subject: 'CYCLE#risk-prejudgment-weekly#2023-W06',
    stage: 'reminder-1',
    part: 0,
    body: {
      type: 'cycle-reminder',
      dutyId: 'risk-prejudgment-weekly',
      periodKey: '2023-W06',
      titleZh: '基层单位安全风险隐患周预判',
      deadline: '2023-02-06T18:00:00+08:00',
      reminder: { n: 1, of: 2 },
      units: [{ id: unitId, name: `${unitId}有限公司` }],
      linkExpires: '2023-03-15T00:00:00+08:00',
    },
    recordedAt: '2023-02-06T08:50:00+08:00',
    ...extra,
  };
}

/** A red warning's first notice to a town (预警叫应): it must go at once, day or night. */
function warning(address: string, at = '2023-02-06T23:10:00+08:00'): Notice {
  return {
    recipient: { address, name: '镇长' },
    at,
    urgency: 'immediate',
    subject: 'CASE#yj-1',
    stage: 'e0.notice',
    part: 0,
    body: {
      type: 'case',
      caseId: 'yj-1',
      kind: 'notice',
      subjectLine: '【请立即叫应】预警叫应：青山镇“红色预警”已发布',
      rolesZh: ['责任单位主要负责人'],
      paragraphs: ['…'],
      link: { unitId: 'town-a', expires: '2023-03-06T23:10:00+08:00' },
      ...(address.startsWith('sms:')
        ? { sms: '【请立即叫应】预警叫应：青山镇“红色预警”已发布；预警内容：大暴雨' }
        : {}),
    },
    recordedAt: at,
  };
}

const many = (n: number) =>
  Array.from({ length: n }, (_, i) => reminder(`u${String(i).padStart(3, '0')}@example.gov.cn`, `ent-${i}`));

describe('one email per recipient per moment', () => {
  it('groups everything owed to an address, records each email with what it carried, and empties the outbox', async () => {
    const w = new World();
    w.add(
      reminder('a@example.gov.cn', 'ent-a'),
      reminder('a@example.gov.cn', 'ent-a2', {
        subject: 'CYCLE#monthly-safety-meeting#2023-02',
        stage: 'reminder-1',
      }),
      reminder('b@example.gov.cn', 'ent-b'),
    );
    const [result] = await w.runToEnd();
    expect(result).toMatchObject({ status: 'closed', sent: 2, failed: 0 });
    expect(w.sent.map((e) => e.to)).toEqual(['a@example.gov.cn', 'b@example.gov.cn']);
    expect(w.notices.size).toBe(0);
    const rec = [...w.records.values()].find((r) => r.address === 'a@example.gov.cn');
    expect(rec?.status).toBe('sent');
    expect(rec?.carried).toHaveLength(2);
    expect(w.lease).toBeUndefined();
    expect(w.cleared).toHaveLength(1);
  });

  it('sends only what is still owed: a unit that submitted meanwhile is left out', async () => {
    const w = new World();
    w.add(reminder('a@example.gov.cn', 'ent-a'), reminder('b@example.gov.cn', 'ent-b'));
    w.submitted.set('risk-prejudgment-weekly|2023-W06', new Set(['ent-a']));
    await w.runToEnd();
    expect(w.sent.map((e) => e.to)).toEqual(['b@example.gov.cn']);
    expect(w.notices.size).toBe(0);
  });

  it('drops what a change made moot: a moved deadline’s earlier stages, anything of a cancelled cycle but its notice', async () => {
    const w = new World();
    const change = (address: string, kind: 'extended' | 'cancelled'): Notice => ({
      ...reminder(address, 'ent-c'),
      stage: kind === 'extended' ? 'change-1' : 'change-2',
      body: {
        type: 'cycle-change',
        dutyId: 'risk-prejudgment-weekly',
        periodKey: '2023-W06',
        titleZh: '基层单位安全风险隐患周预判',
        change: kind,
        seq: kind === 'extended' ? 1 : 2,
        deadline: '2023-02-06T18:00:00+08:00',
        units: [{ id: 'ent-c', name: 'ent-c有限公司' }],
      },
    });
    // Revision 2: the first revision's reminder is replaced by its own; the new one and the notice of the change go.
    w.add(
      reminder('a@example.gov.cn', 'ent-a'),
      reminder('b@example.gov.cn', 'ent-b', { stage: 'reminder-1@r2' }),
      change('c@example.gov.cn', 'extended'),
    );
    w.cycles.set('risk-prejudgment-weekly|2023-W06', { status: 'open', revision: 2 });
    await w.runToEnd();
    expect(w.sent.map((e) => e.to).sort()).toEqual(['b@example.gov.cn', 'c@example.gov.cn']);
    expect(w.sent.find((e) => e.to === 'c@example.gov.cn')?.subject).toMatch(/^【延期】/);

    const v = new World();
    v.add(
      reminder('b@example.gov.cn', 'ent-b', { stage: 'reminder-1@r2' }),
      change('c@example.gov.cn', 'cancelled'),
      change('d@example.gov.cn', 'extended'),
    );
    v.cycles.set('risk-prejudgment-weekly|2023-W06', { status: 'cancelled', revision: 2 });
    await v.runToEnd();
    expect(v.sent.map((e) => e.to)).toEqual(['c@example.gov.cn']);
    expect(v.sent[0]?.subject).toMatch(/^【取消】.*已取消$/);
    expect(v.notices.size).toBe(0);

    // A unit removed from the duty: its pending reminder is not sent; a reminder listing it and another keeps the other.
    const r = new World();
    const both: Notice = {
      ...reminder('e@example.gov.cn', 'ent-e'),
      body: {
        ...(reminder('e@example.gov.cn', 'ent-e').body as Extract<
          Notice['body'],
          { type: 'cycle-reminder' }
        >),
        units: [
          { id: 'ent-e', name: 'ent-e有限公司' },
          { id: 'ent-f', name: 'ent-f有限公司' },
        ],
      },
    };
    r.add(reminder('b@example.gov.cn', 'ent-b'), both);
    r.cycles.set('risk-prejudgment-weekly|2023-W06', {
      status: 'open',
      revision: 1,
      removed: new Set(['ent-b', 'ent-e']),
    });
    await r.runToEnd();
    expect(r.sent.map((e) => e.to)).toEqual(['e@example.gov.cn']);
    expect(r.sent[0]?.text).toContain('ent-f有限公司');
    expect(r.sent[0]?.text).not.toContain('ent-e有限公司');
  });

  it('leaves notices of a later moment, and holds routine mail outside office hours', async () => {
    const w = new World();
    w.add(reminder('a@example.gov.cn', 'ent-a', { at: '2023-02-06T14:30:00+08:00' }));
    w.now = Date.parse('2023-02-06T09:00:00+08:00');
    expect(await w.run()).toMatchObject({ status: 'closed', sent: 0 });
    expect(w.notices.size).toBe(1);
    // Due at 14:30 but SES came back only at 20:30: it waits for the next routine moment.
    w.now = Date.parse('2023-02-06T20:30:00+08:00');
    expect(await w.run('delivery-20230206T1430', '2023-02-06T14:30:00+08:00')).toMatchObject({
      status: 'waiting',
      reason: 'held',
      wakeAt: '2023-02-07T09:00:00+08:00',
    });
  });

  it('a new run held over a long holiday waits in itself; only a run days old continues as a new execution', async () => {
    const w = new World();
    // Due Friday 28 April 2023 at 14:30 and run only on Saturday (SES was down): the 劳动节 rest runs to 3 May, so
    // routine mail waits until Thursday 4 May — further off than a run may last.
    w.add(reminder('a@example.gov.cn', 'ent-a', { at: '2023-04-28T14:30:00+08:00' }));
    w.now = Date.parse('2023-04-29T10:00:00+08:00');
    const held = { status: 'waiting', reason: 'held', wakeAt: '2023-05-04T09:00:00+08:00' };
    expect(
      await w.run('delivery-20230428T1430', '2023-04-28T14:30:00+08:00', '2023-04-28T14:30:00+08:00'),
    ).toMatchObject(held);
    // Started four days ago (an outage kept it going): a new execution takes over, to wake at the same moment.
    expect(
      await w.run('delivery-20230428T1430', '2023-04-28T14:30:00+08:00', '2023-04-25T10:00:00+08:00'),
    ).toMatchObject({
      status: 'continue',
      wakeAt: '2023-05-04T09:00:00+08:00',
      nextExecutionName: 'delivery-20230428T1430-g2',
    });
  });
});

describe('per-recipient outcomes', () => {
  it('a refused address is recorded, marked, and reported to 安委办; everyone else is delivered', async () => {
    const w = new World();
    w.add(...many(10));
    w.send = (e) =>
      e.to === 'u004@example.gov.cn' ? error('MessageRejected', 'Address blacklisted.', 400) : undefined;
    const [result] = await w.runToEnd();
    expect(result).toMatchObject({ status: 'closed', sent: 9, failed: 1 });
    expect(w.sent).toHaveLength(9);
    const failed = [...w.records.values()].filter((r) => r.status === 'failed');
    expect(failed.map((r) => `${r.address} ${r.error}`)).toEqual([
      'u004@example.gov.cn MessageRejected: Address blacklisted.',
    ]);
    expect(w.undeliverable.get('u004@example.gov.cn')?.reasonZh).toBe('邮件服务拒收了发往该地址的邮件');
    // 安委办 hears in its next routine email (14:30), and a delivery run is made sure of for that moment.
    const problem = [...w.notices.values()].find((n) => n.body.type === 'delivery-problem');
    expect(problem).toMatchObject({ recipient: { address: OFFICE.email }, at: '2023-02-06T14:30:00+08:00' });
    expect(problem?.body).toMatchObject({ address: 'u004@example.gov.cn', about: ['ent-4有限公司联络人'] });
    expect(w.ensured).toContain('2023-02-06T14:30:00+08:00');

    // Later notices to the known-bad address are recorded as suppressed without calling SES.
    w.add(reminder('u004@example.gov.cn', 'ent-4', { stage: 'reminder-2', at: '2023-02-06T14:30:00+08:00' }));
    w.now = Date.parse('2023-02-06T14:30:00+08:00');
    const attempts = w.attempts;
    await w.runToEnd('delivery-20230206T1430', '2023-02-06T14:30:00+08:00');
    expect(w.attempts).toBe(attempts + 1); // only 安委办's email
    expect(w.to(OFFICE.email)[0]?.text).toContain('u004@example.gov.cn');
    expect([...w.records.values()].filter((r) => r.status === 'suppressed').map((r) => r.address)).toEqual([
      'u004@example.gov.cn',
    ]);
  });

  it('a refused contact’s notices go to the unit’s principal in the next pass, saying whose they were', async () => {
    const w = new World();
    w.units.set('ent-1', {
      id: 'ent-1',
      contact: { name: '王联络', email: 'u001@example.gov.cn' },
      principal: { name: '赵经理', email: 'boss1@example.gov.cn' },
    });
    w.add(...many(3));
    w.send = (e) =>
      e.to === 'u001@example.gov.cn' ? error('MessageRejected', 'Address blacklisted.', 400) : undefined;
    const [result] = await w.runToEnd();
    expect(result).toMatchObject({ status: 'closed', sent: 3, failed: 1 });
    const boss = w.to('boss1@example.gov.cn');
    expect(boss).toHaveLength(1);
    expect(boss[0]?.text).toContain(
      '本事项原发给单位联络人ent-1联络员（u001@example.gov.cn），该邮箱已不能接收本系统的邮件（邮件服务拒收了发往该地址的邮件），现改发给您。',
    );
    expect(boss[0]?.text).toContain('ent-1有限公司');
    expect(boss[0]?.text.startsWith('赵经理：')).toBe(true);
    const failed = [...w.records.values()].find((r) => r.status === 'failed');
    expect(failed?.reasonZh).toContain('已改发给赵经理（boss1@example.gov.cn）');

    // Later notices to the contact go straight to the principal; once the principal cannot be reached either,
    // they are suppressed (安委办 has heard of both addresses).
    w.add(reminder('u001@example.gov.cn', 'ent-1', { stage: 'reminder-2', at: '2023-02-06T14:30:00+08:00' }));
    w.now = Date.parse('2023-02-06T14:30:00+08:00');
    await w.runToEnd('delivery-20230206T1430', '2023-02-06T14:30:00+08:00');
    expect(w.to('boss1@example.gov.cn')).toHaveLength(2);
    expect(w.to('u001@example.gov.cn')).toHaveLength(0);

    w.undeliverable.set('boss1@example.gov.cn', {
      reasonZh: '收件人投诉',
      since: '2023-02-06T14:35:00+08:00',
    });
    w.add(reminder('u001@example.gov.cn', 'ent-1', { stage: 'reminder-3', at: '2023-02-06T14:30:00+08:00' }));
    await w.runToEnd('delivery-20230206T1430-r2', '2023-02-06T14:30:00+08:00');
    expect(w.to('boss1@example.gov.cn')).toHaveLength(2);
    expect(w.notices.size).toBe(0);
    const last = [...w.records.values()].filter((r) => r.run === 'delivery-20230206T1430-r2');
    expect(last.map((r) => `${r.address} ${r.status}`)).toEqual(['u001@example.gov.cn suppressed']);
  });

  it('a stage that addressed the principal too is not taken over: they have their own copy', async () => {
    const w = new World();
    w.units.set('ent-1', {
      id: 'ent-1',
      contact: { name: '王联络', email: 'c@example.gov.cn' },
      principal: { name: '赵经理', email: 'p@example.gov.cn' },
    });
    w.stageAddressed = (_n, position) => position === 'principal';
    w.add(reminder('c@example.gov.cn', 'ent-1'), reminder('p@example.gov.cn', 'ent-1'));
    w.send = (e) =>
      e.to === 'c@example.gov.cn' ? error('MessageRejected', 'Address blacklisted.', 400) : undefined;
    await w.runToEnd();
    expect(w.to('p@example.gov.cn')).toHaveLength(1);
    expect([...w.notices.values()].filter((n) => n.recipient.address === 'p@example.gov.cn')).toEqual([]);
  });

  it('a principal taking over from two refused contacts, and with a notice of their own, gets all three', async () => {
    const w = new World();
    // 赵经理 heads ent-1 and ent-2 and is ent-3's contact himself: the same stage reaches him three ways.
    for (const id of ['ent-1', 'ent-2'])
      w.units.set(id, {
        id,
        contact: { name: `${id}联络`, email: `${id}@example.gov.cn` },
        principal: { name: '赵经理', email: 'p@example.gov.cn' },
      });
    w.add(
      reminder('ent-1@example.gov.cn', 'ent-1'),
      reminder('ent-2@example.gov.cn', 'ent-2'),
      reminder('p@example.gov.cn', 'ent-3'),
    );
    w.send = (e) =>
      e.to.startsWith('ent-') ? error('MessageRejected', 'Address blacklisted.', 400) : undefined;
    const [result] = await w.runToEnd();
    expect(result).toMatchObject({ status: 'closed', failed: 2 });
    const texts = w
      .to('p@example.gov.cn')
      .map((e) => e.text)
      .join('\n');
    for (const unit of ['ent-1有限公司', 'ent-2有限公司', 'ent-3有限公司']) expect(texts).toContain(unit);
    expect(texts).toContain('本事项原发给单位联络人ent-1联络员（ent-1@example.gov.cn）');
    expect(texts).toContain('本事项原发给单位联络人ent-2联络员（ent-2@example.gov.cn）');
    expect([...w.notices.values()].filter((n) => n.recipient.address === 'p@example.gov.cn')).toEqual([]);
  });

  it('a roster that cannot be read keeps the notices for the retry, sending nobody twice', async () => {
    const w = new World();
    w.units.set('ent-1', {
      id: 'ent-1',
      contact: { name: '王联络', email: 'c@example.gov.cn' },
      principal: { name: '赵经理', email: 'p@example.gov.cn' },
    });
    w.undeliverable.set('c@example.gov.cn', { reasonZh: '退信', since: '2023-02-01T09:00:00+08:00' });
    w.add(reminder('c@example.gov.cn', 'ent-1'));
    const positions = w.units;
    w.units = new Map();
    let fail = true;
    const ports = w.ports.bind(w);
    w.ports = () => {
      const p = ports();
      return {
        ...p,
        roster: {
          positions: async (ids) => {
            if (fail) throw new Error('ProvisionedThroughputExceededException');
            return new Map(ids.flatMap((id) => (positions.has(id) ? [[id, positions.get(id)!]] : [])));
          },
        },
      };
    };
    await expect(w.run()).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(w.notices.size).toBe(1);
    fail = false;
    w.lease = undefined;
    await w.runToEnd();
    expect(w.to('p@example.gov.cn')).toHaveLength(1);
    expect(w.notices.size).toBe(0);
  });

  it('throttling slows the run down and every email still goes out once', async () => {
    const w = new World();
    w.add(...many(30));
    w.send = (_e, n) =>
      n % 4 === 0 ? error('TooManyRequestsException', 'Maximum sending rate exceeded.', 429) : undefined;
    await w.runToEnd();
    expect(new Set(w.sent.map((e) => e.to)).size).toBe(30);
    expect(w.sent).toHaveLength(30);
  });

  it('keeps under the account rate: never more sends in a second than it allows', async () => {
    const w = new World();
    w.rate = 5;
    w.add(...many(40));
    await w.runToEnd();
    for (const e of w.sent)
      expect(w.sent.filter((x) => x.at > e.at - 1000 && x.at <= e.at).length).toBeLessThanOrEqual(5);
    // 40 emails at 90 % of 5 a second.
    expect(w.now - Date.parse(MOMENT)).toBeGreaterThan(8_000);
  });

  it('a transient failure is retried; an outage pauses the run with growing waits, and nothing is lost', async () => {
    const w = new World();
    w.add(...many(5));
    let down = true;
    w.send = () =>
      down ? Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) : undefined;
    const first = await w.run();
    expect(first).toMatchObject({ status: 'waiting', reason: 'blocked' });
    const waits: number[] = [];
    let r = first;
    for (let i = 0; i < 6 && r.status === 'waiting'; i++) {
      waits.push(Date.parse(r.wakeAt) - w.now);
      w.now = Date.parse(r.wakeAt);
      r = await w.run();
    }
    expect(waits.map((ms) => Math.round(ms / 60_000))).toEqual([1, 2, 4, 8, 10, 10]);
    expect(w.notices.size).toBe(5);
    down = false;
    w.now = Date.parse((r as { wakeAt: string }).wakeAt);
    await w.runToEnd();
    expect(w.sent).toHaveLength(5);
  });

  it('an account that cannot send stops the run for 15 minutes, keeping every notice', async () => {
    const w = new World();
    w.add(...many(3));
    w.send = () => error('SendingPausedException', 'Sending is paused for this account.', 400);
    expect(await w.run()).toMatchObject({ status: 'waiting', reason: 'account' });
    expect(w.notices.size).toBe(3);
    // The emails of the batch already in flight were tried; nothing after them.
    expect(w.attempts).toBeLessThanOrEqual(3);
  });
});

describe('work that continues', () => {
  it('stops before the time budget and continues where it stopped, sending nobody twice', async () => {
    const w = new World();
    w.rate = 1;
    // Each invocation has 30 seconds; the state machine starts the next at once.
    w.budgetMs = 30_000;
    w.add(...many(60));
    let invocations = 0;
    for (let done = false; !done;) {
      const started = w.now;
      const r = await w.run();
      invocations++;
      expect(w.now - started).toBeLessThanOrEqual(30_000);
      if (r.status === 'closed') done = true;
      else if (r.status === 'waiting') w.now = Math.max(w.now, Date.parse(r.wakeAt));
    }
    expect(invocations).toBeGreaterThan(3);
    expect(w.sent).toHaveLength(60);
    expect(new Set(w.sent.map((e) => e.to)).size).toBe(60);
    expect(w.runs.get('delivery-20230206T0900')?.invocations).toBe(invocations);
  });

  it('waits while another run holds the lease', async () => {
    const w = new World();
    w.add(...many(2));
    w.lease = { holder: 'delivery-20230206T0830', until: w.now + 5 * 60_000, inFlight: [] };
    expect(await w.run()).toMatchObject({
      status: 'waiting',
      reason: 'busy',
      wakeAt: '2023-02-06T09:00:30+08:00',
    });
    expect(w.sent).toHaveLength(0);
  });
});

describe('what must not stop delivery', () => {
  it('a refusal whose report cannot be written still records the batch: nobody is sent twice', async () => {
    const w = new World();
    w.officeFails = true;
    w.add(...many(6));
    w.send = (email) =>
      email.to === 'u002@example.gov.cn' ? error('MessageRejected', 'Address blacklisted') : undefined;
    const results = await w.runToEnd();
    expect(results.at(-1)?.status).toBe('closed');
    expect(w.sent.map((e) => e.to).sort()).toEqual(
      ['u000', 'u001', 'u003', 'u004', 'u005'].map((u) => `${u}@example.gov.cn`),
    );
    expect([...w.records.values()].filter((r) => r.status === 'failed').map((r) => r.address)).toEqual([
      'u002@example.gov.cn',
    ]);
    expect(w.errors).toContain('could not find 安委办 to report refused addresses to');
  });

  it('an outbox item that is not a notice is reported and passed over', async () => {
    const w = new World();
    w.badItems = ['bad record OUTBOX#0/x: body: Required'];
    w.add(...many(2));
    await w.runToEnd();
    expect(w.sent).toHaveLength(2);
    expect(w.errors).toContain('an outbox item that is not a notice was passed over');
  });

  it('a refusal naming our own sender is the account’s problem: stop, mark nobody undeliverable', async () => {
    const w = new World();
    w.sender = 'safeduty@example.gov.cn';
    w.add(...many(3));
    w.send = () =>
      error(
        'MessageRejected',
        'Email address is not verified. The following identities failed the check in region AP-SOUTHEAST-1: safeduty@example.gov.cn',
        400,
      );
    expect(await w.run()).toMatchObject({ status: 'waiting', reason: 'account' });
    expect(w.undeliverable.size).toBe(0);
    // A recipient the sandbox has not verified is that recipient's refusal.
    const sandbox = new World();
    sandbox.sender = 'safeduty@example.gov.cn';
    sandbox.add(...many(2));
    sandbox.send = (email) =>
      email.to === 'u001@example.gov.cn'
        ? error(
            'MessageRejected',
            'Email address is not verified. The following identities failed the check in region AP-SOUTHEAST-1: u001@example.gov.cn',
            400,
          )
        : undefined;
    await sandbox.runToEnd();
    expect([...sandbox.undeliverable.keys()]).toEqual(['u001@example.gov.cn']);
    expect(sandbox.sent.map((e) => e.to)).toEqual(['u000@example.gov.cn']);
  });

  it('an unknown 4xx is about our request, not the recipient: stop rather than mark everyone undeliverable', async () => {
    const w = new World();
    w.add(...many(3));
    w.send = () => error('ConfigurationSetDoesNotExistException', 'no such configuration set', 400);
    expect(await w.run()).toMatchObject({ status: 'waiting', reason: 'account' });
    expect(w.undeliverable.size).toBe(0);
  });

  it('a run whose passes are used up ends, leaving what is left (and its moment marker) for the reconciler', async () => {
    const w = new World();
    w.add(...many(6));
    // One address keeps failing for a moment; the others succeed in between, so the service is not taken as down.
    w.send = (email) =>
      email.to === 'u003@example.gov.cn' ? error('ServiceUnavailable', 'busy', 503) : undefined;
    const results = await w.runToEnd();
    expect(results.at(-1)).toMatchObject({ status: 'closed', passes: 4 });
    expect(w.sent).toHaveLength(5);
    expect(w.cleared).toEqual([]);
    expect(w.notices.size).toBe(1);
  });

  it('a notice recorded while the run takes its last look gets another pass, the run having said it is closing', async () => {
    const w = new World();
    w.add(reminder('a@example.gov.cn', 'ent-a'));
    let looks = 0;
    w.lastLook = () => {
      // Once: a producer records after the scan and is told the run is still going.
      if (++looks === 1) w.add(reminder('b@example.gov.cn', 'ent-b'));
    };
    const results = await w.runToEnd();
    expect(results.at(-1)).toMatchObject({ status: 'closed', sent: 2, passes: 2 });
    expect(w.sent.map((e) => e.to)).toEqual(['a@example.gov.cn', 'b@example.gov.cn']);
    // The flag is written before each last look (a producer reading it then starts a run of its own).
    expect(looks).toBe(2);
    expect(w.runs.get('delivery-20230206T0900')?.closing).toBe(true);
    expect(w.notices.size).toBe(0);
    expect(w.markers.size).toBe(0);
  });

  it('a retry of the same execution waits while its first invocation may still hold the lease', async () => {
    const w = new World();
    w.add(...many(2));
    w.lease = { holder: 'delivery-20230206T0900#lost', until: w.now + 60_000, inFlight: [] };
    expect(await w.run()).toMatchObject({ status: 'waiting', reason: 'busy' });
    expect(w.sent).toHaveLength(0);
  });
});

describe('a crash in the middle of a batch', () => {
  it('after the sends, before the record: the next holder sends those again (the at-least-once window)', async () => {
    const w = new World();
    w.rate = 3;
    w.add(...many(7));
    w.crashOn = 'records';
    await expect(w.run()).rejects.toThrow('crash');
    const inFlight = w.lease?.inFlight.length ?? 0;
    expect(inFlight).toBe(3);
    // Another run takes over once the lease has expired.
    w.now = (w.lease?.until ?? 0) + 1;
    await w.runToEnd('delivery-20230206T0930', '2023-02-06T09:30:00+08:00');
    expect(new Set(w.sent.map((e) => e.to)).size).toBe(7);
    expect(w.sent.length - 7).toBe(inFlight);
    expect(w.notices.size).toBe(0);
  });

  it('after the record, before the outbox was cleared: nothing is sent twice', async () => {
    const w = new World();
    w.rate = 3;
    w.add(...many(7));
    w.crashOn = 'remove';
    await expect(w.run()).rejects.toThrow('crash');
    // The same execution retries at once (Step Functions' Retry): it holds the lease already.
    await w.runToEnd();
    expect(w.sent).toHaveLength(7);
    expect(w.notices.size).toBe(0);
  });

  it('a producer step retried after its notices were delivered writes them again: they are not sent twice', async () => {
    const w = new World();
    const first = [reminder('a@example.gov.cn', 'ent-a'), reminder('b@example.gov.cn', 'ent-b')];
    w.add(...first);
    await w.runToEnd();
    expect(w.sent).toHaveLength(2);
    expect(w.lookedBack).toEqual([]);
    // The step had crashed before it was marked done; its retry 20 minutes later writes the same notices, and one
    // that its first try had not reached.
    w.now += 20 * 60_000;
    const again = toShanghaiIso(new Date(w.now));
    w.add(
      ...first.map((n) => ({ ...n, recordedAt: again })),
      reminder('c@example.gov.cn', 'ent-c', { recordedAt: again }),
    );
    await w.runToEnd('delivery-20230206T092000-r092000', again);
    expect(w.sent.map((e) => e.to)).toEqual(['a@example.gov.cn', 'b@example.gov.cn', 'c@example.gov.cn']);
    expect(w.lookedBack.sort()).toEqual(['a@example.gov.cn', 'b@example.gov.cn', 'c@example.gov.cn']);
    expect(w.notices.size).toBe(0);
  });

  it('a later run looks up every notice older than its moment, whenever it was written', async () => {
    const w = new World();
    const n = reminder('a@example.gov.cn', 'ent-a');
    w.add(n);
    await w.runToEnd();
    // The same notice, as first written (before its moment), back in the outbox however it got there.
    w.now += 9 * 60_000;
    w.add(n);
    const late = toShanghaiIso(new Date(w.now));
    await w.runToEnd('delivery-20230206T090900', late);
    expect(w.sent).toHaveLength(1);
    expect(w.lookedBack).toEqual(['a@example.gov.cn']);
    expect(w.notices.size).toBe(0);
  });

  it('a text message is a notice like an email: sent, recorded, and its refusal reported without a takeover', async () => {
    const w = new World();
    w.sendText = (m) =>
      m.to === '+8613800000002' ? error('ValidationException', 'INVALID_PARAMETER', 400) : undefined;
    w.add(warning('a@example.gov.cn'), warning('sms:+8613800000001'), warning('sms:+8613800000002'));
    w.now = Date.parse('2023-02-06T23:10:00+08:00');
    const [result] = await w.runToEnd('delivery-20230206T2310', '2023-02-06T23:10:00+08:00');
    // At night (immediate): one email and one text message; the refused number is recorded and marked.
    expect(result).toMatchObject({ status: 'closed', sent: 2, failed: 1 });
    expect(w.sent.map((e) => e.to)).toEqual(['a@example.gov.cn']);
    expect(w.texts.map((t) => [t.to, t.text])).toEqual([
      [
        '+8613800000001',
        '【襄垣县安委办】镇长：【请立即叫应】预警叫应：青山镇“红色预警”已发布；预警内容：大暴雨。点击办理：https://x/cases/yj-1',
      ],
    ]);
    const byAddress = new Map([...w.records.values()].map((r) => [r.address, r]));
    expect(byAddress.get('sms:+8613800000001')).toMatchObject({ status: 'sent', messageId: 's-1' });
    expect(byAddress.get('sms:+8613800000002')).toMatchObject({
      status: 'failed',
      reasonZh: '短信服务认为该手机号码无效或不可发送，短信被拒收',
    });
    expect(w.undeliverable.has('sms:+8613800000002')).toBe(true);
    // Nobody takes a text message over (the email went anyway); 安委办 hears of the number.
    expect([...w.notices.values()].map((n) => n.body.type)).toEqual(['delivery-problem']);
  });

  it('an SMS outage never holds up email: the texts stay owed, the emails go', async () => {
    const w = new World();
    w.sendText = () => Object.assign(new Error('connect ECONNRESET'), { name: 'TimeoutError' });
    w.add(...many(3));
    many(3).forEach((n, i) =>
      w.add({ ...n, recipient: { ...n.recipient, address: `sms:+861380000000${i}` } }),
    );
    const [first] = await w.runToEnd();
    expect(w.sent).toHaveLength(3);
    expect(w.texts).toHaveLength(0);
    expect(first).toMatchObject({ sent: 3 });
    // Every text is still owed (the reconciler's next run tries again); no number was marked undeliverable.
    expect([...w.notices.keys()].filter((k) => k.startsWith('sms:'))).toHaveLength(3);
    expect(w.undeliverable.size).toBe(0);
    expect(w.errors).toContain('the SMS service cannot send: text messages left owed');
  });

  it('without an SMS service the texts are recorded as not sent, and the emails carry the notices', async () => {
    const w = new World();
    w.add(reminder('sms:+8613800000001', 'ent-1'), reminder('a@example.gov.cn', 'ent-1'));
    await w.runToEnd();
    expect(w.sent.map((e) => e.to)).toEqual(['a@example.gov.cn']);
    const text = [...w.records.values()].find((r) => r.address === 'sms:+8613800000001');
    expect(text).toMatchObject({ status: 'suppressed', reasonZh: expect.stringContaining('未配置短信服务') });
    expect(w.notices.size).toBe(0);
  });

  it('a case notice is dropped once the case has moved on, an event notice never', async () => {
    const w = new World();
    const caseNotice = (kind: 'reminder' | 'notice', stage: string): Notice => ({
      recipient: { address: 'c@example.gov.cn', name: '负责人' },
      at: MOMENT,
      urgency: 'routine',
      subject: 'CASE#mh-1',
      stage,
      part: 0,
      body: {
        type: 'case',
        caseId: 'mh-1',
        kind,
        subjectLine: kind === 'notice' ? '【通知】验收未通过' : '【提醒】须报送方案',
        rolesZh: ['责任单位主要负责人'],
        paragraphs: ['…'],
        ...(kind === 'reminder' ? { check: { stage: 'awaiting-plan', visit: 1 } } : {}),
      },
      recordedAt: toShanghaiIso(new Date(w.now)),
    });
    w.add(caseNotice('reminder', 'v1.awaiting-plan.reminder-1'), caseNotice('notice', 'e3.notice'));
    w.cases.set('mh-1', { status: 'open', stage: 'rectifying', visit: 2 });
    await w.runToEnd();
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]?.subject).toBe('【通知】验收未通过');
  });
});

describe('the express lane', () => {
  it('a warning recorded in the middle of a wave goes out within a second or two, not when the pass reaches it', async () => {
    const w = new World();
    w.sendText = () => undefined;
    w.add(...many(300));
    let issuedAt = 0;
    w.send = (_email, attempt) => {
      if (attempt !== 100) return undefined;
      issuedAt = w.now;
      const at = toShanghaiIso(new Date(w.now));
      // Ahead of the pass (with a reminder of its own), behind it, and a phone.
      w.add(
        warning('u250@example.gov.cn', at),
        warning('u010@example.gov.cn', at),
        warning('sms:+8613800000001', at),
      );
      return undefined;
    };
    const results = await w.runToEnd();
    expect(results.at(-1)).toMatchObject({ status: 'closed', sent: 302 });
    const wave = w.sent.map((e) => e.to);
    const ahead = wave.findIndex((a, i) => a === 'u250@example.gov.cn' && i > 0);
    // Served before the pass's next batch or so, about 200 recipients ahead of the pass.
    expect(ahead).toBeLessThan(wave.indexOf('u120@example.gov.cn'));
    expect((w.to('u250@example.gov.cn')[0]?.at ?? 0) - issuedAt).toBeLessThanOrEqual(2_000);
    expect((w.texts[0]?.at ?? Infinity) - issuedAt).toBeLessThanOrEqual(2_000);
    // One email carries both of u250's notices, so the pass finds nothing of it left; u010 had had its reminder.
    expect(w.to('u250@example.gov.cn')).toHaveLength(1);
    expect([...w.records.values()].find((r) => r.address === 'u250@example.gov.cn')?.carried).toHaveLength(2);
    expect(w.to('u010@example.gov.cn')).toHaveLength(2);
    // Two emails in one invocation, two records: neither overwrites the other.
    expect([...w.records.values()].filter((r) => r.address === 'u010@example.gov.cn')).toHaveLength(2);
    expect(w.notices.size).toBe(0);
    expect(w.express.size).toBe(0);
    // One strongly consistent look a second at most (the wave takes about 23 s).
    expect(w.expressLooks).toBeLessThanOrEqual(30);
  });

  it('an express text whose service is down is tried once an invocation; its marker stays and the wave goes on', async () => {
    const w = new World();
    let attempts = 0;
    w.sendText = () => {
      attempts++;
      return Object.assign(new Error('connect ECONNRESET'), { name: 'TimeoutError' });
    };
    w.add(...many(60));
    w.add(warning('sms:+8613800000001', MOMENT));
    const results = await w.runToEnd();
    expect(w.sent).toHaveLength(60);
    // Each invocation tries the text (one try and two retries), then leaves it to the next: never once a batch.
    const invocations = results.length;
    expect(attempts).toBeLessThanOrEqual(3 * invocations);
    expect([...w.notices.keys()]).toEqual([expect.stringMatching(/^sms:\+8613800000001#/)]);
    expect(w.express.size).toBe(1);
  });

  it('a marker whose notices are gone (delivered by the pass) is cleared; one of a later moment waits', async () => {
    const w = new World();
    w.add(warning('a@example.gov.cn', MOMENT), warning('b@example.gov.cn', '2023-02-06T09:30:00+08:00'));
    await w.runToEnd();
    expect(w.sent.map((e) => e.to)).toEqual(['a@example.gov.cn']);
    expect([...w.express.keys()]).toEqual(['2023-02-06T09:30:00+08:00#b@example.gov.cn']);
  });

  it('a recipient served first is not sent again from a page the pass had read before', async () => {
    const w = new World();
    w.pageSize = 500;
    w.add(...many(100));
    w.send = (_email, attempt) => {
      // u050's reminder is in the page the pass holds, ahead of its cursor, when the warning comes.
      if (attempt === 20) w.add(warning('u050@example.gov.cn', toShanghaiIso(new Date(w.now))));
      return undefined;
    };
    await w.runToEnd();
    expect(w.to('u050@example.gov.cn')).toHaveLength(1);
    expect(w.sent).toHaveLength(100);
    expect(w.notices.size).toBe(0);
  });

  it('an email that cannot carry all a recipient is owed carries what must go at once', async () => {
    const w = new World();
    w.add(
      ...Array.from({ length: 150 }, (_, i) =>
        reminder('a@example.gov.cn', `ent-${String(i).padStart(3, '0')}`, {
          subject: `CYCLE#risk-prejudgment-weekly#2023-W06#${String(i).padStart(3, '0')}`,
          // Earlier than the warning: first in the outbox's order.
          at: '2023-02-06T08:30:00+08:00',
        }),
      ),
    );
    w.add(warning('a@example.gov.cn', MOMENT));
    await w.runToEnd();
    const records = [...w.records.values()].sort((x, y) => (x.sentAt < y.sentAt ? -1 : 1));
    expect(records[0]?.carried.some((c) => c.subject === 'CASE#yj-1')).toBe(true);
    expect(w.sent).toHaveLength(2);
    expect(w.notices.size).toBe(0);
  });
});
