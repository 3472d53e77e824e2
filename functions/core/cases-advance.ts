import { shanghaiDateOf, toShanghaiIso } from '../../workflows/calendar.ts';
import { eventOf, stageOf, type CaseTypes } from '../../workflows/cases/index.ts';
import { planCase, selectDue, type CasePlan, type CaseStep } from '../../workflows/cases/plan.ts';
import {
  CITIZEN_POSITIONS,
  citizenFieldKeys,
  type CaseType,
  type Party,
} from '../../workflows/cases/schema.ts';
import {
  DeliverySchedule,
  loadDeliveryPolicy,
  type DeliveryPolicy,
} from '../../workflows/delivery/policy.ts';
import { getCase, getCaseEvent, replaceCase } from '../adapters/case-store.ts';
import type { Notice } from '../notices/model.ts';
import { recordNotices, type NoticeSink } from '../notices/sink.ts';
import { smsAddressOf } from '../notices/channels.ts';
import { clock } from './clock.ts';
import { MAX_EXECUTION_SPAN_MS } from './cycle.ts';
import { ValidationError } from './errors.ts';
import { workdaysOverdue } from './overdue.ts';
import type { CaseRecord } from './cases-model.ts';
import { CaseDirectory, type CaseRecipient } from './cases-directory.ts';
import { UNADDRESSED_MESSAGE } from './directory.ts';
import {
  caseEscalationPart,
  caseNoticePart,
  caseReminderPart,
  citizenNoticePart,
  citizenOverduePart,
  citizenReminderPart,
  type CitizenMail,
  nextStepLine,
  type CaseMailBase,
  type CasePart,
  type ReminderMail,
} from './cases-messages.ts';
import { caseExecutionName, caseSubject, requireType, snapshotOf } from './cases.ts';
import { generationOfExecution } from './dispatch.ts';
import { instantLabel } from './labels.ts';

const HANDOVER_MARGIN_MS = 3_600_000;
/** Links in case emails stay valid this long after the deadline they are about. */
const LINK_GRACE_MS = 30 * 24 * 3_600_000;

export interface CaseAdvanceInput {
  caseId: string;
  /** `$$.Execution.Name`: tells the step which generation it belongs to. */
  executionName?: string;
  /** `$$.Execution.StartTime`: lets a long case continue in a new execution before the one-year limit. */
  executionStartTime?: string;
}

export type CaseAdvanceResult =
  | { status: 'waiting'; wakeAt: string; generation: number; notices: number }
  | { status: 'continue'; wakeAt: string; generation: number; nextExecutionName: string; notices: number }
  | { status: 'closed'; reason: 'closed' | 'idle' | 'superseded'; generation: number; notices: number };

export interface CaseLog {
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface CaseContext {
  log: CaseLog;
  /** Where the case's notices go (the outbox). */
  sink: NoticeSink;
  policy?: DeliveryPolicy;
}

/**
 * One step of a case. Derives what is due from the case record and the clock, so it can run again at any time
 * (a retry, a restarted execution, the reconciler) without repeating a notice: what each person is owed goes to
 * the outbox keyed by (recipient, step), and the record's `stepsDone` is written conditionally on the version
 * read. An execution of an older generation than the record's ends quietly: an event started a newer one.
 */
export async function advanceCase(
  types: CaseTypes,
  input: CaseAdvanceInput,
  ctx: CaseContext,
): Promise<CaseAdvanceResult> {
  const policy = ctx.policy ?? loadDeliveryPolicy();
  const mine = generationOfExecution(input.executionName);
  let sent = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const now = clock.now();
    const stored = await getCase(input.caseId);
    if (!stored) throw new ValidationError(`unknown case ${input.caseId}`, `案件不存在：${input.caseId}`);
    if (mine !== undefined && mine < stored.generation)
      return { status: 'closed', reason: 'superseded', generation: mine, notices: sent };
    if (stored.status === 'closed')
      return { status: 'closed', reason: 'closed', generation: stored.generation, notices: sent };
    const type = requireType(types, stored.typeId);
    // A case past its end instant (a warning no longer valid) moves to its end stage first; written below.
    const rec = endedIfDue(type, stored, now);
    const snapshot = snapshotOf(rec);
    const plan = planCase(type, snapshot, policy);
    const selection = selectDue(plan, snapshot, new Set(rec.stepsDone), now);
    if (selection.act.length > 0) {
      const notices = await noticesOfSteps(type, rec, plan, selection.act, now, ctx.log);
      await recordNotices(ctx.sink, notices, new DeliverySchedule(policy), now.getTime());
      sent += notices.length;
    }

    const next: CaseRecord = structuredClone(rec);
    next.version = stored.version + 1;
    // A step that succeeds after a failure (the reconciler resumed the case) clears the error.
    delete next.lastError;
    const doneNow = selection.due.filter((s) => s.kind !== 'notice').map((s) => s.key);
    next.stepsDone = [...rec.stepsDone, ...doneNow];
    const sentNotices = new Set(selection.due.filter((s) => s.event).map((s) => s.event?.seq));
    next.outbox = rec.outbox.filter((o) => !sentNotices.has(o.seq));

    let result: CaseAdvanceResult;
    // The end instant is a wake of its own while the case is open: it closes the case when nothing else would.
    const endsAt = !plan.stage.terminal && rec.endsAt ? Date.parse(rec.endsAt) : undefined;
    const upcoming =
      endsAt !== undefined && (!selection.next || endsAt < Date.parse(selection.next.prepareAt))
        ? { prepareAt: toShanghaiIso(new Date(endsAt)) }
        : selection.next;
    if (!upcoming) {
      delete next.plannedWakeAt;
      if (plan.stage.terminal) {
        next.status = 'closed';
        result = { status: 'closed', reason: 'closed', generation: rec.generation, notices: sent };
      } else {
        // Nothing left to wait for (every level has escalated): the next event starts a new execution.
        result = { status: 'closed', reason: 'idle', generation: rec.generation, notices: sent };
      }
    } else {
      const start = input.executionStartTime ? Date.parse(input.executionStartTime) : now.getTime();
      const limit = start + MAX_EXECUTION_SPAN_MS;
      if (Date.parse(upcoming.prepareAt) <= limit) {
        next.plannedWakeAt = upcoming.prepareAt;
        result = { status: 'waiting', wakeAt: upcoming.prepareAt, generation: rec.generation, notices: sent };
      } else if (now.getTime() < limit - HANDOVER_MARGIN_MS) {
        // Standard executions last at most a year: wait until the span limit, then hand over.
        next.plannedWakeAt = toShanghaiIso(new Date(limit));
        result = { status: 'waiting', wakeAt: next.plannedWakeAt, generation: rec.generation, notices: sent };
      } else {
        next.generation = rec.generation + 1;
        // The continuation starts at once and waits for the step itself.
        next.plannedWakeAt = toShanghaiIso(now);
        result = {
          status: 'continue',
          wakeAt: upcoming.prepareAt,
          generation: next.generation,
          nextExecutionName: caseExecutionName(rec.caseId, next.generation),
          notices: sent,
        };
      }
    }
    if (await replaceCase(next, stored.version)) return result;
    // An event (or another generation) wrote first: re-read and recompute; the ledger keeps sends unique.
  }
  throw new Error(`case ${input.caseId} changed during every attempt; retrying`);
}

/**
 * The record as it is once its end instant has passed: moved to the type's end stage (a warning that ended before
 * every town answered), with the move in its history. Unchanged otherwise.
 */
export function endedIfDue(type: CaseType, rec: CaseRecord, now: Date): CaseRecord {
  if (!type.endsIn || !rec.endsAt || now.getTime() < Date.parse(rec.endsAt)) return rec;
  if (stageOf(type, rec.stage).terminal) return rec;
  const next = structuredClone(rec);
  next.stage = type.endsIn;
  next.visit = rec.visit + 1;
  next.stageEnteredAt = rec.endsAt;
  next.stepsDone = [];
  next.progressReports = [];
  next.closedAt = rec.endsAt;
  delete next.request;
  next.history = [
    ...rec.history,
    {
      seq: (rec.history.at(-1)?.seq ?? 0) + 1,
      event: 'ended',
      at: rec.endsAt,
      actor: 'system',
      role: 'admin',
      fromStage: rec.stage,
      toStage: type.endsIn,
    },
  ];
  return next;
}

function partyUnitId(rec: CaseRecord, party: Party): string {
  return party === 'responsible' ? rec.responsibleUnitId : rec.supervisingUnitId;
}

/** What each person is owed for the steps acted on: one notice per recipient and step. */
async function noticesOfSteps(
  type: CaseType,
  rec: CaseRecord,
  plan: CasePlan,
  steps: CaseStep[],
  now: Date,
  log: CaseLog,
): Promise<Notice[]> {
  const directory = new CaseDirectory(rec);
  const [resp, sup] = await Promise.all([directory.responsible(), directory.supervising()]);
  const unitName = resp?.name ?? rec.responsibleUnitId;
  const supervisingName = sup?.name ?? rec.supervisingUnitId;
  const partyName = (party: Party | undefined) => (party === 'supervising' ? supervisingName : unitName);
  const recordedAt = toShanghaiIso(now);

  const base = (r: CaseRecipient, deadline: string | undefined): CaseMailBase => {
    const expiresMs = Math.max(now.getTime(), deadline ? Date.parse(deadline) : 0) + LINK_GRACE_MS;
    return {
      type,
      caseId: rec.caseId,
      title: rec.title,
      unitName,
      supervisingName,
      ...(r.party
        ? { link: { unitId: partyUnitId(rec, r.party), expires: toShanghaiIso(new Date(expiresMs)) } }
        : {}),
    };
  };

  // A citizen (owner, occupant) is told about the building, not the people's contacts, and whom to ask.
  const citizenKeys = new Set<string>(CITIZEN_POSITIONS.flatMap((p) => Object.values(citizenFieldKeys(p))));
  const about = type.openFields
    .filter((f) => !citizenKeys.has(f.key) && rec.fields[f.key]?.trim())
    .map((f) => ({ labelZh: f.labelZh, value: rec.fields[f.key] ?? '' }));
  const contactZh = resp
    ? `${resp.name}（联络人${resp.contact.name}${resp.contact.phone ? `，电话${resp.contact.phone}` : ''}）`
    : unitName;
  const citizenBase = (r: CaseRecipient): CitizenMail => ({
    type,
    caseId: rec.caseId,
    title: rec.title,
    rolesZh: r.rolesZh,
    about,
    contactZh,
  });

  const notices: Notice[] = [];
  for (const step of steps) {
    const recipients = await directory.recipients(step.positions);
    let build: (r: CaseRecipient) => CasePart;
    // Citizens get their own wording; a step without one (a request, a progress report) does not address them.
    let buildCitizen: ((r: CaseRecipient) => CasePart) | undefined;
    let channels: readonly string[] = ['email'];
    if (step.kind === 'notice') {
      const seq = step.event?.seq ?? 0;
      const ev = step.event && step.event.id !== 'opened' ? eventOf(type, step.event.id) : undefined;
      const notice = ev ? ev.notify : type.onOpen;
      if (!notice) continue;
      channels = notice.channels;
      const body = await getCaseEvent(rec.caseId, seq);
      const specs = ev ? ev.fields : type.openFields;
      const details = specs
        .filter((f) => body?.fields[f.key])
        .map((f) => ({ labelZh: f.labelZh, value: body?.fields[f.key] ?? '' }));
      // A citizen reads the event's particulars (a plan's measures, why acceptance failed), not the opening's.
      const citizenDetails = ev ? [...details] : [];
      const person = rec.history.find((h) => h.seq === seq)?.person;
      if (person) details.push({ labelZh: '办理人', value: person.name });
      if (body?.newDeadline) details.push({ labelZh: '新的整改期限', value: instantLabel(rec.term) });
      const next = nextStepLine(plan.stage, partyName(plan.stage.party), plan.deadline);
      const happenedAt = rec.outbox.find((o) => o.seq === seq)?.at ?? step.at;
      build = (r) =>
        caseNoticePart({
          ...base(r, plan.deadline),
          notice,
          ...(ev ? { event: ev } : {}),
          at: happenedAt,
          details,
          ...(next ? { next } : {}),
          term: rec.term,
          ...(rec.termMovedFrom ? { termMovedFrom: rec.termMovedFrom } : {}),
        });
      buildCitizen = (r) =>
        citizenNoticePart({
          ...citizenBase(r),
          notice,
          details: citizenDetails,
          clause: plan.stage.clause,
          ...(plan.stage.terminal
            ? {}
            : { term: rec.term, ...(rec.termMovedFrom ? { termMovedFrom: rec.termMovedFrom } : {}) }),
        });
    } else {
      const deadline = step.deadline ?? plan.deadline ?? toShanghaiIso(now);
      let what: ReminderMail['what'];
      let party: Party | undefined;
      let ruleZh: string | undefined;
      if (step.track === 'request') {
        const def = type.requests.find((x) => x.id === plan.request?.id);
        if (!def) continue;
        what = { kind: 'request', request: def };
        party = def.party;
        const requested = rec.request?.newDeadline;
        if (requested)
          ruleZh = `申请延期至${instantLabel(requested)}（现整改期限${instantLabel(rec.term)}）。`;
      } else if (step.track === 'progress') {
        what = { kind: 'progress', titleZh: plan.stage.progress?.titleZh ?? '进展报告', stage: plan.stage };
        party = plan.stage.party;
      } else {
        what = { kind: 'stage', stage: plan.stage };
        party = plan.stage.party;
        channels = plan.stage.channels;
        const rule = type.events.find((e) => e.from.includes(plan.stage.id) && e.fieldsRuleZh)?.fieldsRuleZh;
        if (rule) ruleZh = `${rule}。`;
      }
      // Whoever must chase the late party can call them: its principal and contact, with their phones.
      const late = party === 'supervising' ? sup : resp;
      const contactsZh = late
        ? `联系方式：${[
            `主要负责人${late.principal.name}${late.principal.phone ? `（${late.principal.phone}）` : ''}`,
            `联络人${late.contact.name}${late.contact.phone ? `（${late.contact.phone}）` : ''}`,
          ].join('，')}`
        : undefined;
      const common = (r: CaseRecipient): ReminderMail => ({
        ...base(r, deadline),
        what,
        deadline,
        partyName: partyName(party),
        ...(ruleZh ? { ruleZh } : {}),
      });
      build =
        step.kind === 'reminder'
          ? (r) => caseReminderPart(common(r))
          : (r) =>
              caseEscalationPart({
                ...common(r),
                level: step.level,
                ...(contactsZh ? { contactsZh } : {}),
                workdaysOverdue: workdaysOverdue(deadline, shanghaiDateOf(now)),
                // A clock in minutes says how many minutes have passed (as of the step's own instant).
                ...(plan.stage.urgency === 'immediate' && step.track === 'stage'
                  ? {
                      minutesOverdue: Math.max(
                        0,
                        Math.round((Date.parse(step.at) - Date.parse(deadline)) / 60_000),
                      ),
                    }
                  : {}),
              });
      if (step.track === 'stage') {
        const clockMail = (r: CaseRecipient) => ({
          ...citizenBase(r),
          stage: plan.stage,
          deadline,
          unitName,
        });
        buildCitizen =
          step.kind === 'reminder'
            ? (r) => citizenReminderPart(clockMail(r))
            : (r) =>
                citizenOverduePart({
                  ...clockMail(r),
                  workdaysOverdue: workdaysOverdue(deadline, shanghaiDateOf(now)),
                  supervisingName,
                });
      }
    }
    // Reminders and escalations are about the stage (or request) as it is now: delivery drops them if the case
    // has moved on by the time they would go out.
    const check =
      step.kind === 'notice'
        ? undefined
        : {
            stage: rec.stage,
            visit: rec.visit,
            ...(step.track === 'request' && rec.request ? { requestSeq: rec.request.seq } : {}),
          };
    for (const r of recipients) {
      const make = r.citizen ? buildCitizen : build;
      if (!make) continue;
      const p = make(r);
      // A text message too, where the step asks for one and the roster has a mobile number: the same notice under
      // the phone's address, so delivery sends, records and retries it as it does an email. A citizen is reached at
      // every contact the case gives (a phone is often all there is), whatever the step's channels.
      const phone =
        (r.citizen || channels.includes('sms')) && r.person.phone ? smsAddressOf(r.person.phone) : undefined;
      const addresses = [r.person.email, phone].filter((a): a is string => a !== undefined);
      for (const address of addresses)
        notices.push({
          recipient: { address, name: r.person.name },
          at: step.at,
          urgency: step.urgency,
          subject: caseSubject(rec.caseId),
          stage: step.key,
          part: 0,
          body: {
            type: 'case',
            caseId: rec.caseId,
            kind: step.kind,
            subjectLine: p.subjectLine,
            rolesZh: r.rolesZh,
            paragraphs: p.paragraphs,
            ...(address === phone ? { sms: p.sms } : {}),
            ...(p.link ? { link: p.link } : {}),
            ...(check ? { check } : {}),
          },
          recordedAt,
        });
    }
  }
  for (const w of directory.warnings) log.warn('case position not held', { detail: w });
  for (const w of directory.unaddressed) log.warn(UNADDRESSED_MESSAGE, { detail: w });
  return notices;
}

/** Called from the state machine's Catch: the failure is kept on the case record (if it exists) and logged. */
export async function recordCaseFailure(
  caseId: string,
  error: { Error?: string; Cause?: string },
): Promise<void> {
  const message = `${error.Error ?? 'Error'}: ${(error.Cause ?? '').slice(0, 2000)}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const rec = await getCase(caseId);
    if (!rec) return;
    const next: CaseRecord = {
      ...rec,
      version: rec.version + 1,
      lastError: { at: toShanghaiIso(clock.now()), message },
    };
    delete next.plannedWakeAt;
    if (await replaceCase(next, rec.version)) return;
  }
}
