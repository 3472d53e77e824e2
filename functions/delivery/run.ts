// A delivery run: every notice owed now, one email per recipient, under the account's send rate, within the
// invocation's time budget, continuing in the next invocation where this one stopped. One run sends at a time
// (the delivery lease), which makes the rate global and the per-recipient email unique per pass.
import { toShanghaiIso } from '../../workflows/calendar.ts';
import type { DeliverySchedule } from '../../workflows/delivery/policy.ts';
import { addressKey, noticeId, type Notice } from '../notices/model.ts';
import { composeEmail, type ComposeContext } from './compose.ts';
import { composeSms } from './compose-sms.ts';
import { isSmsAddress } from '../notices/channels.ts';
import { recordKey, type ComposedEmail, type DeliveryRecord } from './model.ts';
import { classifySendError, classifySmsError, errorText, reasonZh } from './outcome.ts';
import { factsNeeded, stillOwed, type CaseFacts, type CycleFacts } from './owed.ts';
import { Pacer } from './pace.ts';
import { aboutOf, refusalReport } from './refusals.ts';
import { redirectNotice, unitsSpokenFor, type NextPositionKey } from './fallback.ts';
import type { DeliveryPorts, ExpressMarker, InFlight, OutboxEntry, RunState } from './ports.ts';

/** An email carries at most this many notices; the rest follow in the next pass. */
export const MAX_NOTICES_PER_EMAIL = 100;
/** Passes of one run over the outbox before it leaves late arrivals to a later run. */
const MAX_PASSES = 4;
/** A lease outlives the invocation that holds it by this much. */
const LEASE_MARGIN_MS = 60_000;
/** Waits while another run holds the lease. */
const BUSY_RETRY_MS = 30_000;
/** Waits after the mail service was unreachable: 1, 2, 4, 8 minutes, then every 10 minutes. */
const BLOCKED_RETRY_MS = [60_000, 120_000, 240_000, 480_000, 600_000];
/** After the account itself stopped sending (paused, quota used up). */
const ACCOUNT_RETRY_MS = 15 * 60_000;
/** Consecutive transient failures that mean the service is down rather than one email unlucky. */
const DOWN_AFTER = 5;
/**
 * How far back a run looks in a recipient's record for a notice written again after its moment: the runs that
 * could have delivered it started at most this long before the notice's moment (a run continues past three days
 * only as a new execution with the same moment, so a week covers an outage of four days on top).
 */
const REDELIVERY_LOOKBACK_MS = 7 * 24 * 3_600_000;
/** A run older than this continues in a new execution (Step Functions keeps at most 25,000 events). */
const MAX_EXECUTION_AGE_MS = 3 * 24 * 3_600_000;
/** How often at most a run looks for notices that must go at once (one strongly consistent read a look). */
const EXPRESS_LOOK_MS = 1_000;

export interface RunInput {
  /** The delivery moment this run was started for. */
  moment: string;
  /** The execution's name: the lease holder. */
  holder: string;
  executionStartTime?: string;
}

export type RunResult =
  | {
      status: 'waiting';
      wakeAt: string;
      reason: 'moment' | 'continue' | 'busy' | 'blocked' | 'account' | 'held';
      sent: number;
      failed: number;
    }
  | { status: 'continue'; wakeAt: string; nextExecutionName: string; sent: number; failed: number }
  | {
      status: 'closed';
      sent: number;
      failed: number;
      suppressed: number;
      passes: number;
      invocations: number;
    };

export interface RunOptions {
  schedule: DeliverySchedule;
  compose: Omit<ComposeContext, 'now'>;
  /** Whether a notice's stage addressed this position of the unit itself (no copy is taken over then). */
  stageAddressed?: (notice: Notice, position: NextPositionKey) => boolean;
}

type SendOutcome =
  { kind: 'sent'; messageId: string } | { kind: 'permanent' | 'account'; error: unknown } | { kind: 'left' };

interface Prepared {
  address: string;
  name: string;
  /** Every deliverable entry of the recipient considered in this batch (owed or not). */
  entries: OutboxEntry[];
  /** The entries the email carries. */
  carried: OutboxEntry[];
  email?: ComposedEmail;
}

function iso(ms: number): string {
  return toShanghaiIso(new Date(ms));
}

export async function runDelivery(
  input: RunInput,
  ports: DeliveryPorts,
  options: RunOptions,
): Promise<RunResult> {
  const { clock, lease, log } = ports;
  const schedule = options.schedule;
  const startedAt = clock.now();
  const momentMs = Date.parse(input.moment);
  if (startedAt < momentMs)
    return { status: 'waiting', wakeAt: input.moment, reason: 'moment', sent: 0, failed: 0 };

  const budgetAtStart = clock.remainingMs();
  const leaseUntil = () => clock.now() + budgetAtStart + LEASE_MARGIN_MS;
  // The lease is held by this invocation, not the execution: a retry of the same execution while this one may
  // still be running (the invoke failed on the way back) waits for the lease to expire instead of sending too.
  const invocation = startedAt.toString(36);
  const me = `${input.holder}#${invocation}`;
  const acquired = await lease.acquire(me, startedAt, leaseUntil());
  if (!acquired.acquired) {
    const wake = Math.min(Math.max(acquired.until, startedAt + 1000), startedAt + BUSY_RETRY_MS);
    return { status: 'waiting', wakeAt: iso(wake), reason: 'busy', sent: 0, failed: 0 };
  }
  const state: RunState = (await lease.loadRun(input.holder)) ?? {
    moment: input.moment,
    pass: 1,
    shard: 0,
    sent: 0,
    failed: 0,
    suppressed: 0,
    invocations: 0,
    blockedStreak: 0,
  };
  state.invocations++;
  // Emails a crashed invocation (ours or another run's) handed to the mail service but did not record.
  if (acquired.inFlight.length > 0) {
    await recoverInFlight(acquired.inFlight, ports);
    await lease.hold(me, [], leaseUntil());
  }

  const pacer = new Pacer(await ports.mail.maxSendRate(), clock);
  const batchSize = Math.min(25, Math.max(1, Math.ceil(pacer.currentRate)));
  const undeliverable = await ports.addresses.undeliverable();
  const submitted = new Map<string, Set<string>>();
  const cycles = new Map<string, CycleFacts | undefined>();
  const cases = new Map<string, CaseFacts | undefined>();
  let slowestBatchMs = 0;
  let stop: 'down' | 'account' | undefined;
  let leftInPass = 0;
  let consecutiveTransient = 0;

  const release = async (result: RunResult): Promise<RunResult> => {
    await lease.saveRun(input.holder, state);
    await lease.release(me);
    return result;
  };
  const closed = (): RunResult => ({
    status: 'closed',
    sent: state.sent,
    failed: state.failed,
    suppressed: state.suppressed,
    passes: state.pass,
    invocations: state.invocations,
  });
  const waiting = (
    wakeAt: number,
    reason: Extract<RunResult, { status: 'waiting' }>['reason'],
  ): RunResult => ({
    status: 'waiting',
    wakeAt: iso(wakeAt),
    reason,
    sent: state.sent,
    failed: state.failed,
  });

  /**
   * A text message: the same pacing and records as an email, but a problem of the SMS service never stops the
   * email: the message stays owed (a later pass, or the reconciler's next run, tries again) and is logged.
   */
  let smsBlocked = false;
  const sendText = async (email: ComposedEmail): Promise<SendOutcome> => {
    const sms = ports.sms;
    let throttles = 0;
    let transients = 0;
    for (;;) {
      if (smsBlocked || !sms) return { kind: 'left' };
      await pacer.slot();
      try {
        const messageId = await sms.send({
          to: email.to,
          text: email.text,
          ...(email.ref ? { ref: email.ref } : {}),
        });
        pacer.succeeded();
        return { kind: 'sent', messageId };
      } catch (err) {
        const kind = classifySmsError(err);
        if (kind === 'permanent') return { kind, error: err };
        if (kind === 'throttled') {
          pacer.throttled();
          if (++throttles > 8) return { kind: 'left' };
          continue;
        }
        if (kind === 'transient' && ++transients <= 2) {
          await clock.sleep(1000 * 2 ** transients);
          continue;
        }
        // Down, or the account cannot send: no more text messages in this invocation; emails go on.
        smsBlocked = true;
        log.error('the SMS service cannot send: text messages left owed', { kind, error: errorText(err) });
        return { kind: 'left' };
      }
    }
  };

  const sendOne = async (email: ComposedEmail, sms: boolean): Promise<SendOutcome> => {
    if (sms) return sendText(email);
    let throttles = 0;
    let transients = 0;
    for (;;) {
      if (stop) return { kind: 'left' };
      await pacer.slot();
      try {
        const messageId = await ports.mail.send(email);
        pacer.succeeded();
        consecutiveTransient = 0;
        return { kind: 'sent', messageId };
      } catch (err) {
        const kind = classifySendError(err, ports.mail.sender);
        if (kind === 'throttled') {
          pacer.throttled();
          if (++throttles > 8) return { kind: 'left' };
          continue;
        }
        if (kind === 'transient') {
          if (++consecutiveTransient >= DOWN_AFTER) stop = 'down';
          if (++transients > 2 || stop) return { kind: 'left' };
          await clock.sleep(1000 * 2 ** transients);
          continue;
        }
        if (kind === 'account') {
          stop = 'account';
          log.error('the mail account cannot send: delivery stopped', { error: errorText(err) });
        }
        return { kind, error: err };
      }
    }
  };

  const loadFacts = async (notices: Notice[]) => {
    const need = factsNeeded(notices);
    await Promise.all([
      ...need.cycles
        .filter(([d, p]) => !submitted.has(`${d}|${p}`))
        .map(async ([d, p]) => {
          const [done, cycle] = await Promise.all([
            ports.facts.submittedUnits(d, p),
            ports.facts.cycleState(d, p),
          ]);
          cycles.set(`${d}|${p}`, cycle);
          submitted.set(`${d}|${p}`, done);
        }),
      ...need.cases
        .filter((id) => !cases.has(id))
        .map(async (id) => cases.set(id, await ports.facts.caseState(id))),
    ]);
  };
  const facts = {
    submitted: (d: string, p: string) => submitted.get(`${d}|${p}`) ?? new Set<string>(),
    cycle: (d: string, p: string) => cycles.get(`${d}|${p}`),
    caseState: (id: string) => cases.get(id),
  };

  /**
   * Notices an email already carried: a producer's step retried after a run had delivered what its first try
   * recorded (the step crashed before it was marked done) writes the same notices again. They are removed, not sent
   * twice. Looked up only where it can happen: a notice written at or after its moment (a retry comes after the
   * delivery), or one older than this run's moment (an earlier run may have had it). A notice written before its
   * moment and delivered by its own moment's run — the normal path, every one of a wave — needs no look.
   */
  const deliveredAlready = async (
    batch: readonly { address: string; entries: OutboxEntry[] }[],
  ): Promise<Set<string>> => {
    const refs = new Set<string>();
    await Promise.all(
      batch.map(async (g) => {
        const late = g.entries.filter((e) => {
          const at = Date.parse(e.notice.at);
          return Date.parse(e.notice.recordedAt) >= at || at < momentMs;
        });
        if (late.length === 0) return;
        const since = Math.min(...late.map((e) => Date.parse(e.notice.at))) - REDELIVERY_LOOKBACK_MS;
        const carried = await ports.records.carriedSince(g.address, iso(since));
        for (const e of late) if (carried.has(noticeId(e.notice))) refs.add(e.ref);
      }),
    );
    if (refs.size > 0)
      log.info('notices written again after an email carried them were not sent twice', {
        notices: refs.size,
      });
    return refs;
  };

  // Everything about reporting a refusal is best effort: a failure here must not keep the batch from being
  // recorded (every retry would send it again); the failed record itself stays in the delivery record.
  const bestEffort = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (err) {
      log.error(`could not ${what}`, { error: errorText(err) });
      return undefined;
    }
  };

  /**
   * Notices whose reader cannot be reached, readdressed to the next position of the units they speak for
   * (docs/delivery.md, "When an address cannot be delivered to"). Stamped as recorded now, so the new reader's
   * delivery record is checked before they are sent: the same notice may have reached them already.
   */
  const redirect = async (notices: readonly Notice[], why: string): Promise<Notice[]> => {
    // A text message is a second copy of an email the reader was sent anyway: nobody takes it over.
    const ids = [
      ...new Set(
        notices.flatMap((n) =>
          n.redirectedFrom || isSmsAddress(n.recipient.address) ? [] : unitsSpokenFor(n.body),
        ),
      ),
    ];
    if (ids.length === 0) return [];
    // Not best effort: without the roster the notices would be removed with nobody to take them over. A failure
    // fails the invocation, which is retried (emails already handed over are in the lease's in-flight list).
    const units = await ports.roster.positions(ids);
    const bad = (a: string) => undeliverable.has(addressKey(a));
    const recordedAt = iso(clock.now());
    return notices
      .flatMap((n) => redirectNotice(n, units, bad, why, options.stageAddressed))
      .map((n) => ({ ...n, recordedAt }));
  };
  const takenOverBy = (moved: readonly Notice[]): string =>
    moved.length === 0
      ? ''
      : `；已改发给${[...new Set(moved.map((n) => `${n.recipient.name}（${n.recipient.address}）`))].join('、')}`;

  /**
   * Sends one batch of recipients; returns the addresses whose email was left for a later try, and the notices
   * removed from the outbox. `lane` keeps the record keys of an express batch apart from the pass's: a recipient
   * served by both in one invocation has two emails, each with its own record.
   */
  const deliverBatch = async (
    batch: readonly { address: string; entries: OutboxEntry[] }[],
    lane = '',
  ): Promise<{ left: Set<string>; removed: string[] }> => {
    const left = new Set<string>();
    const began = clock.now();
    const now = began;
    await loadFacts(batch.flatMap((g) => g.entries.map((e) => e.notice)));
    const prepared: Prepared[] = [];
    const records: DeliveryRecord[] = [];
    /** Notices taken over by the next position of their unit: recorded before the originals are removed. */
    const redirected: Notice[] = [];
    const key0 = () => recordKey(state.moment, input.holder, state.pass, `${invocation}${lane}`);
    const removals: string[] = [];
    const delivered = await deliveredAlready(batch);
    for (const g of batch) {
      const owed: OutboxEntry[] = [];
      for (const e of g.entries) {
        if (delivered.has(e.ref)) {
          removals.push(e.ref);
          continue;
        }
        const n = stillOwed(e.notice, facts, now);
        if (n) owed.push({ ref: e.ref, notice: n });
        else removals.push(e.ref);
      }
      if (owed.length === 0) continue;
      // More than an email carries: what must go at once goes in this one.
      if (owed.length > MAX_NOTICES_PER_EMAIL)
        owed.sort(
          (a, b) => Number(b.notice.urgency === 'immediate') - Number(a.notice.urgency === 'immediate'),
        );
      const carried = owed.slice(0, MAX_NOTICES_PER_EMAIL);
      const first = (carried[0] as OutboxEntry).notice.recipient;
      const p: Prepared = { address: first.address, name: first.name, entries: owed, carried };
      const email = (isSmsAddress(first.address) ? composeSms : composeEmail)(
        first,
        carried.map((e) => e.notice),
        { ...options.compose, now },
      );
      if (isSmsAddress(g.address) && !ports.sms) {
        // A deployment without an SMS service (no origination identity): the email carries the same notice.
        records.push(
          record(p, email, key0(), now, {
            status: 'suppressed',
            error: 'not sent: no SMS service is configured',
            reasonZh: '本系统未配置短信服务，短信未发送（同一内容已通过邮件发送）',
          }),
        );
        removals.push(...carried.map((e) => e.ref));
        state.suppressed++;
        continue;
      }
      if (undeliverable.has(g.address)) {
        const known = undeliverable.get(g.address);
        const why = known?.reasonZh ?? '该地址此前无法送达';
        const moved = await redirect(
          carried.map((e) => e.notice),
          why,
        );
        redirected.push(...moved);
        records.push(
          record(p, email, key0(), now, {
            status: 'suppressed',
            error: `not sent: the address was refused on ${known?.since ?? '?'}`,
            reasonZh: `${why}；此后不再向其发送，在名册中核实保存该地址后恢复${takenOverBy(moved)}`,
          }),
        );
        removals.push(...carried.map((e) => e.ref));
        state.suppressed++;
        continue;
      }
      p.email = email;
      prepared.push(p);
    }
    const key = recordKey(state.moment, input.holder, state.pass, `${invocation}${lane}`);
    if (prepared.length > 0)
      await lease.hold(
        me,
        prepared.map((p) => ({ address: p.address, recordKey: key })),
        leaseUntil(),
      );
    const outcomes = await Promise.all(
      prepared.map((p) => sendOne({ ...(p.email as ComposedEmail), ref: key }, isSmsAddress(p.address))),
    );
    const problems: Notice[] = [];
    const office = outcomes.some((o) => o.kind === 'permanent')
      ? await bestEffort('find 安委办 to report refused addresses to', () => ports.safetyOffice())
      : undefined;
    for (const [i, p] of prepared.entries()) {
      const o = outcomes[i] as SendOutcome;
      const email = p.email as ComposedEmail;
      if (o.kind === 'sent') {
        records.push(record(p, email, key, clock.now(), { status: 'sent', messageId: o.messageId }));
        removals.push(...p.carried.map((e) => e.ref));
        state.sent++;
      } else if (o.kind === 'permanent') {
        const why = reasonZh(o.error);
        undeliverable.set(addressKey(p.address), { reasonZh: why, since: iso(clock.now()) });
        const moved = await redirect(
          p.carried.map((e) => e.notice),
          why,
        );
        redirected.push(...moved);
        records.push(
          record(p, email, key, clock.now(), {
            status: 'failed',
            error: errorText(o.error),
            reasonZh: `${why}${takenOverBy(moved)}`,
          }),
        );
        removals.push(...p.carried.map((e) => e.ref));
        state.failed++;
        await bestEffort('mark an address undeliverable', () =>
          ports.addresses.markUndeliverable(p.address, why, errorText(o.error), iso(clock.now())),
        );
        log.warn('an address was refused by the mail service', {
          address: p.address,
          error: errorText(o.error),
        });
        if (office && addressKey(office.email) !== addressKey(p.address))
          problems.push(
            refusalReport(
              office,
              { address: p.address, name: p.name, about: aboutOf(p.carried.map((e) => e.notice)) },
              why,
              schedule,
              clock.now(),
            ),
          );
      } else {
        leftInPass++;
        left.add(p.address);
      }
    }
    // Problem reports first: a crash after them sends the refused email again (refused again, reported under
    // the same key); a crash before them would lose the report once the record says the email was dealt with.
    if (problems.length > 0)
      await bestEffort('record the report of refused addresses', async () => {
        await ports.outbox.record(problems);
        for (const at of new Set(problems.map((n) => n.at))) await ports.outbox.ensureDelivery(at);
      });
    // Not best effort: removing a notice its new reader was not given would lose it.
    if (redirected.length > 0) await ports.outbox.record(redirected);
    await ports.records.put(records);
    await ports.outbox.remove(removals);
    if (prepared.length > 0) await lease.hold(me, [], leaseUntil());
    slowestBatchMs = Math.max(slowestBatchMs, clock.now() - began);
    return { left, removed: removals };
  };

  /**
   * Before each batch: stop while a batch still fits in what is left of the budget. Every invocation sends at least
   * one batch, so a run always gets on even with a budget too short for its reserve.
   */
  let batches = 0;
  const outOfTime = () => batches > 0 && clock.remainingMs() < Math.max(20_000, 3 * slowestBatchMs);

  const deliverableNow = (e: OutboxEntry, now: number) =>
    Date.parse(e.notice.at) <= now && schedule.allows(now, e.notice.urgency);

  /**
   * The express lane: a notice that must go at once (a warning to be answered in minutes) does not wait for the
   * pass to reach its address, which in a city's morning wave can be twenty minutes away. Before each batch the run
   * serves the recipients marked express; each gets one email (or text) with all it is owed, so the pass finds
   * nothing of theirs left. An address left for a later try (its service is down) is not tried again in this
   * invocation: its marker stays, and the pass or the next invocation tries it.
   */
  let lastExpressLook = Number.NEGATIVE_INFINITY;
  let expressBatches = 0;
  const expressTried = new Set<string>();
  /**
   * Notices the express lane removed in this pass: a page the pass read before may still hold them, ahead of its
   * cursor, and must not send them again.
   */
  let expressRemoved = new Set<string>();
  const serveExpress = async (): Promise<Set<string>> => {
    const served = new Set<string>();
    if (stop || clock.now() - lastExpressLook < EXPRESS_LOOK_MS) return served;
    lastExpressLook = clock.now();
    const markers = (await ports.outbox.expressUpTo(clock.now())).filter((m) => !expressTried.has(m.address));
    if (markers.length === 0) return served;
    const now = clock.now();
    const byAddress = new Map<string, ExpressMarker[]>();
    for (const m of markers) byAddress.set(m.address, [...(byAddress.get(m.address) ?? []), m]);
    const done: ExpressMarker[] = [];
    const groups: { address: string; entries: OutboxEntry[] }[] = [];
    for (const [address, ms] of byAddress) {
      const entries = (await ports.outbox.recipient(address)).filter((e) => deliverableNow(e, now));
      if (entries.length > 0) groups.push({ address, entries });
      else done.push(...ms);
    }
    for (let i = 0; i < groups.length; i += batchSize) {
      // Out of time: the markers of those not served stay, for the next invocation.
      if (outOfTime()) break;
      const chunk = groups.slice(i, i + batchSize);
      batches++;
      const { left, removed } = await deliverBatch(chunk, `-x${++expressBatches}`);
      for (const ref of removed) expressRemoved.add(ref);
      for (const g of chunk) {
        served.add(g.address);
        if (left.has(g.address)) expressTried.add(g.address);
        else done.push(...(byAddress.get(g.address) ?? []));
      }
    }
    await ports.outbox.clearExpress(done);
    if (groups.length > 0)
      log.info('notices that must go at once were served first', { recipients: groups.length });
    return served;
  };

  for (;;) {
    // One pass over the outbox, shard by shard, in address order; the cursor survives invocations.
    for (; state.shard < ports.outbox.shards; state.shard++, delete state.afterAddress) {
      let batch: { address: string; entries: OutboxEntry[] }[] = [];
      const flush = async (): Promise<'continue' | undefined> => {
        if (batch.length === 0) return undefined;
        if (outOfTime()) return 'continue';
        // What the pass read of an express recipient is stale once served: it comes back for what is new.
        const served = await serveExpress();
        const rest = batch
          .filter((g) => !served.has(g.address))
          .map((g) => ({ ...g, entries: g.entries.filter((e) => !expressRemoved.has(e.ref)) }))
          .filter((g) => g.entries.length > 0);
        if (rest.length > 0) {
          // The cursor stays: the next invocation reads this batch again.
          if (outOfTime()) return 'continue';
          batches++;
          await deliverBatch(rest);
        }
        state.afterAddress = batch.at(-1)?.address;
        batch = [];
        return undefined;
      };
      for await (const group of recipients(ports, state.shard, state.afterAddress)) {
        const now = clock.now();
        const deliverable = group.entries.filter((e) => deliverableNow(e, now));
        if (deliverable.length === 0) continue;
        batch.push({ address: group.address, entries: deliverable });
        if (batch.length < batchSize) continue;
        // Out of time: hand over to the next invocation, which takes the lease at once.
        if ((await flush()) === 'continue') return release(waiting(clock.now(), 'continue'));
        if (stop) break;
      }
      if (!stop && (await flush()) === 'continue') return release(waiting(clock.now(), 'continue'));
      if (stop) break;
    }

    const now = clock.now();
    if (stop) {
      // The service is down (or the account cannot send): wait, growing the wait, and start the pass again.
      const account = stop === 'account';
      const wait = account
        ? ACCOUNT_RETRY_MS
        : (BLOCKED_RETRY_MS[Math.min(state.blockedStreak, BLOCKED_RETRY_MS.length - 1)] as number);
      log.warn('delivery paused', { reason: stop, retryInMs: wait, sent: state.sent });
      state.blockedStreak++;
      // What this pass could not send is behind the cursor: the next try starts the pass again.
      state.shard = 0;
      delete state.afterAddress;
      return release(nextRun(waiting(now + wait, account ? 'account' : 'blocked')));
    }
    state.blockedStreak = 0;
    // Late arrivals (a producer that recorded behind the cursor) and emails left after transient failures get
    // another pass; notices held for office hours wait for them.
    const seen = await ports.outbox.markersUpTo(now);
    const scan = await scanOutbox(ports, schedule, now);
    if (scan.deliverable > 0 && state.pass < MAX_PASSES) {
      state.pass++;
      expressRemoved = new Set();
      state.shard = 0;
      delete state.afterAddress;
      if (leftInPass > 0) {
        // Something failed transiently: give the service a moment before the next pass.
        leftInPass = 0;
        return release(waiting(now + (BLOCKED_RETRY_MS[0] as number), 'blocked'));
      }
      continue;
    }
    if (scan.deliverable > 0) {
      // Passes used up with mail still deliverable (it keeps failing for a moment, or keeps arriving): end the run
      // without clearing the moment markers; the reconciler starts a fresh run for what is left.
      log.warn('delivery run ended with notices left after its last pass', {
        moment: state.moment,
        left: scan.deliverable,
      });
      return release(closed());
    }
    if (scan.heldUntil !== undefined) return release(nextRun(waiting(scan.heldUntil, 'held')));
    // Everything recorded up to now is delivered (or no longer owed).
    await ports.outbox.clearMoments(seen);
    // A producer recording now may have been told this run is still going (starting it again by name answers so),
    // and counts on it. Say the run is closing, then look once more: the producer reads the flag after writing its
    // marker, so one of the two sees the other, and its notices get this run's next pass or a run of their own.
    state.closing = true;
    await lease.saveRun(input.holder, state);
    if ((await ports.outbox.markersUpTo(clock.now())).length > 0) {
      if (state.pass < MAX_PASSES) {
        state.closing = false;
        await lease.saveRun(input.holder, state);
        state.pass++;
        expressRemoved = new Set();
        state.shard = 0;
        delete state.afterAddress;
        continue;
      }
      log.warn('delivery run ended with notices recorded after its last pass', { moment: state.moment });
    }
    log.info('delivery run finished', { moment: state.moment, sent: state.sent, failed: state.failed });
    return release(closed());
  }

  /**
   * A run that has been going for a long time continues as a new execution (bounded history). Its age counts, not
   * how far off the wake is: a new execution that must wait past a long holiday (元旦 to the next Monday, a guessed
   * year's fixed holidays) waits in one Wait state, where judging by the wake would start execution after
   * execution at the same instant, each judging the same.
   */
  function nextRun(result: RunResult): RunResult {
    if (result.status !== 'waiting' || !input.executionStartTime) return result;
    if (clock.now() - Date.parse(input.executionStartTime) < MAX_EXECUTION_AGE_MS) return result;
    const g = /-g(\d+)$/.exec(input.holder);
    const base = g ? input.holder.slice(0, -g[0].length) : input.holder;
    return {
      status: 'continue',
      wakeAt: result.wakeAt,
      nextExecutionName: `${base}-g${g ? Number(g[1]) + 1 : 2}`,
      sent: result.sent,
      failed: result.failed,
    };
  }
}

function record(
  p: Prepared,
  email: ComposedEmail,
  key: string,
  atMs: number,
  outcome: { status: DeliveryRecord['status']; messageId?: string; error?: string; reasonZh?: string },
): DeliveryRecord {
  const [moment, run, pass, invocation] = key.split('#') as [string, string, string, string | undefined];
  return {
    address: p.address,
    name: p.name,
    moment,
    ...(invocation !== undefined ? { invocation } : {}),
    run,
    pass: Number(pass),
    sentAt: iso(atMs),
    ...outcome,
    subjectLine: email.subject,
    carried: email.carried,
    subjects: [...new Set(email.carried.map((c) => c.subject))],
  };
}

/** Emails an earlier invocation sent but did not record: recorded ones are finished, the others stay owed. */
async function recoverInFlight(inFlight: readonly InFlight[], ports: DeliveryPorts): Promise<void> {
  let unknown = 0;
  for (const f of inFlight) {
    const rec = await ports.records.get(f.address, f.recordKey);
    if (rec) await ports.outbox.remove(rec.carried.map((c) => ports.outbox.refOf(f.address, c.id)));
    else unknown++;
  }
  // The at-least-once window: unrecorded ones may have been sent; their notices are still owed and go out again.
  ports.log.warn(
    'a crashed delivery left emails in flight: unrecorded ones are sent again (may arrive twice)',
    {
      inFlight: inFlight.length,
      recorded: inFlight.length - unknown,
      sentAgain: unknown,
    },
  );
}

/** The outbox of one shard, one recipient at a time, in address order. */
async function* recipients(
  ports: DeliveryPorts,
  shard: number,
  afterAddress: string | undefined,
): AsyncGenerator<{ address: string; entries: OutboxEntry[] }> {
  let next: unknown;
  let current: { address: string; entries: OutboxEntry[] } | undefined;
  do {
    const page = await ports.outbox.page(shard, afterAddress, next);
    next = page.next;
    for (const problem of page.bad ?? [])
      ports.log.error('an outbox item that is not a notice was passed over', { problem });
    for (const e of page.entries) {
      const address = addressKey(e.notice.recipient.address);
      if (current && current.address !== address) {
        yield current;
        current = undefined;
      }
      current ??= { address, entries: [] };
      current.entries.push(e);
    }
  } while (next !== undefined);
  if (current) yield current;
}

/** What is left in the outbox: notices deliverable now, and when the earliest held one may go. */
async function scanOutbox(
  ports: DeliveryPorts,
  schedule: DeliverySchedule,
  nowMs: number,
): Promise<{ deliverable: number; heldUntil?: number }> {
  let deliverable = 0;
  let heldUntil: number | undefined;
  for (let shard = 0; shard < ports.outbox.shards; shard++) {
    for await (const group of recipients(ports, shard, undefined)) {
      for (const e of group.entries) {
        const at = Date.parse(e.notice.at);
        if (at > nowMs) continue;
        if (schedule.allows(nowMs, e.notice.urgency)) deliverable++;
        else {
          const when = schedule.nextAllowed(nowMs, e.notice.urgency);
          heldUntil = heldUntil === undefined ? when : Math.min(heldUntil, when);
        }
      }
    }
  }
  return { deliverable, ...(heldUntil !== undefined ? { heldUntil } : {}) };
}
