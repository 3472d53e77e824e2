// What a delivery run needs from the world, as small interfaces: the handler wires DynamoDB, SES and the clock
// into them, the tests wire fakes. Delivery itself imports no adapter.
import type { Person } from '../core/model.ts';
import type { Notice } from '../notices/model.ts';
import type { DeliveryRecord, OutgoingEmail } from './model.ts';
import type { CaseFacts, CycleFacts } from './owed.ts';
import type { UnitPositions } from './fallback.ts';

/** A notice as stored, with the opaque reference that removes it from the outbox. */
export interface OutboxEntry {
  ref: string;
  notice: Notice;
}

export interface OutboxPort {
  /** The outbox is split into this many shards by address; every address lives in exactly one. */
  readonly shards: number;
  /**
   * A page of one shard's notices in address order, starting after `afterAddress` (all of whose notices are
   * skipped). `next` continues the same listing.
   */
  page(
    shard: number,
    afterAddress: string | undefined,
    next?: unknown,
  ): Promise<{ entries: OutboxEntry[]; next?: unknown; bad?: string[] }>;
  remove(refs: readonly string[]): Promise<void>;
  /** The reference of a notice of this address (for an email whose record lists what it carried). */
  refOf(address: string, noticeId: string): string;
  /** Records notices (the delivery run's own: undeliverable addresses for 安委办). */
  record(notices: readonly Notice[]): Promise<void>;
  /**
   * The "recorded for this moment" markers of moments up to `nowMs`, read strongly consistent. Each write of a
   * marker (after its notices) gives it a new token.
   */
  markersUpTo(nowMs: number): Promise<MomentMarker[]>;
  /**
   * Clears markers read before a scan that then found nothing deliverable; a marker written again since (its token
   * changed: its notices may be newer than the scan) stays.
   */
  clearMoments(seen: readonly MomentMarker[]): Promise<void>;
  /** Makes sure a delivery run will take place at this moment. */
  ensureDelivery(moment: string): Promise<void>;
  /**
   * The express markers due by `nowMs`, read strongly consistent: recipients of notices that must go at once (a
   * warning answered in minutes), written with the notices, so a run deep in a long wave serves them first.
   */
  expressUpTo(nowMs: number): Promise<ExpressMarker[]>;
  /** Everything one recipient is owed, in the outbox's order. */
  recipient(address: string): Promise<OutboxEntry[]>;
  /** Clears express markers that were served; one written again since (a new token) stays. */
  clearExpress(seen: readonly ExpressMarker[]): Promise<void>;
}

export interface MomentMarker {
  moment: string;
  token: string;
}

export interface ExpressMarker {
  /** The notice's delivery moment. */
  at: string;
  address: string;
  token: string;
}

export interface InFlight {
  address: string;
  recordKey: string;
}

/** A run's progress, kept per run so its next invocation continues where this one stopped. */
export interface RunState {
  moment: string;
  pass: number;
  shard: number;
  afterAddress?: string;
  sent: number;
  failed: number;
  suppressed: number;
  invocations: number;
  /** Consecutive waits because the mail service was down: the wait grows with it. */
  blockedStreak: number;
  /**
   * Set just before the run's last look at the outbox: a producer that finds this run still going after recording
   * its notices reads it, and starts a run of its own rather than count on this one.
   */
  closing?: boolean;
}

export type LeaseAcquired =
  /** `inFlight`: what the previous holder (this run before a crash, or another) left unrecorded. */
  { acquired: true; inFlight: InFlight[] } | { acquired: false; holder: string; until: number };

export interface LeasePort {
  /** Takes the one delivery lease if it is free, expired, or already ours. */
  acquire(holder: string, nowMs: number, untilMs: number): Promise<LeaseAcquired>;
  /**
   * Writes the emails about to be handed to the mail service (or none, after recording them) and extends the
   * lease; fails with LeaseLostError if another holder took the lease over.
   */
  hold(holder: string, inFlight: readonly InFlight[], untilMs: number): Promise<void>;
  release(holder: string): Promise<void>;
  loadRun(holder: string): Promise<RunState | undefined>;
  saveRun(holder: string, state: RunState): Promise<void>;
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface RecordsPort {
  put(records: readonly DeliveryRecord[]): Promise<void>;
  get(address: string, recordKey: string): Promise<DeliveryRecord | undefined>;
  /** Ids of the notices carried by this address's emails of runs from `sinceMoment` on (any status). */
  carriedSince(address: string, sinceMoment: string): Promise<Set<string>>;
}

export interface AddressesPort {
  /** Addresses known to be undeliverable (a permanent rejection), with why. */
  undeliverable(): Promise<Map<string, { reasonZh: string; since: string }>>;
  markUndeliverable(address: string, reasonZh: string, error: string, atIso: string): Promise<void>;
}

export interface RosterPort {
  /** The positions (contact, principal) of these units, for notices whose reader cannot be reached. */
  positions(unitIds: readonly string[]): Promise<Map<string, UnitPositions>>;
}

export interface FactsPort {
  submittedUnits(dutyId: string, periodKey: string): Promise<Set<string>>;
  cycleState(dutyId: string, periodKey: string): Promise<CycleFacts | undefined>;
  caseState(caseId: string): Promise<CaseFacts | undefined>;
}

export interface MailPort {
  send(email: OutgoingEmail): Promise<string>;
  /** The sender address: a refusal naming it is the account's problem, not the recipient's. */
  readonly sender?: string;
  /** Emails per second the account allows (SES GetAccount, cached). */
  maxSendRate(): Promise<number>;
}

/** One text message, as delivery hands it to the SMS service. */
export interface OutgoingSms {
  /** The destination in E.164 (`+8613800000001`). */
  to: string;
  text: string;
  /** The key of the message's delivery record (as for an email). */
  ref?: string;
}

export interface SmsPort {
  /** One attempt; errors are classified by classifySmsError (functions/delivery/outcome.ts). */
  send(message: OutgoingSms): Promise<string>;
}

export interface DeliveryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** What is left of this invocation's time budget. */
  remainingMs(): number;
}

export interface DeliveryLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface DeliveryPorts {
  outbox: OutboxPort;
  lease: LeasePort;
  records: RecordsPort;
  addresses: AddressesPort;
  facts: FactsPort;
  roster: RosterPort;
  mail: MailPort;
  /** Text messages (warnings that must be answered at once); absent where a deployment sends none. */
  sms?: SmsPort;
  clock: DeliveryClock;
  log: DeliveryLog;
  /** 安委办's contact, who hears about undeliverable addresses. */
  safetyOffice(): Promise<Person | undefined>;
}
