import { shanghaiDateOf, toShanghaiIso } from '../../workflows/calendar.ts';
import { eventOf, type CaseTypes } from '../../workflows/cases/index.ts';
import { planCase, selectDue, type CasePlan, type CaseStep } from '../../workflows/cases/plan.ts';
import type { CaseType, Party } from '../../workflows/cases/schema.ts';
import { getCase, getCaseEvent, replaceCase } from '../adapters/case-store.ts';
import { linkSecret } from '../adapters/secrets.ts';
import { clock } from './clock.ts';
import { mapLimit } from './concurrency.ts';
import { MAX_EXECUTION_SPAN_MS, NotificationInFlightError } from './cycle.ts';
import { ValidationError } from './errors.ts';
import { caseItem, signLink } from './links.ts';
import { notifyOnce, type NotifyOutcome } from './notify.ts';
import { workdaysOverdue } from './overdue.ts';
import type { CaseRecord } from './cases-model.ts';
import { CaseDirectory, type CaseRecipient } from './cases-directory.ts';
import {
  caseEscalationEmail,
  caseNoticeEmail,
  caseReminderEmail,
  nextStepLine,
  type CaseMailBase,
  type ReminderMail,
} from './cases-messages.ts';
import { caseExecutionName, caseSubject, generationOfExecution, requireType, snapshotOf } from './cases.ts';
import { instantLabel } from './messages.ts';

const HANDOVER_MARGIN_MS = 3_600_000;
/** Links in case emails stay valid this long after the deadline they are about. */
const LINK_GRACE_MS = 30 * 24 * 3_600_000;
const SEND_CONCURRENCY = 4;

export interface CaseAdvanceInput {
  caseId: string;
  /** `$$.Execution.Name`: tells the step which generation it belongs to. */
  executionName?: string;
  /** `$$.Execution.StartTime`: lets a long case continue in a new execution before the one-year limit. */
  executionStartTime?: string;
}

export type CaseAdvanceResult =
  | { status: 'waiting'; wakeAt: string; generation: number; sent: number }
  | { status: 'continue'; wakeAt: string; generation: number; nextExecutionName: string; sent: number }
  | { status: 'closed'; reason: 'closed' | 'idle' | 'superseded'; generation: number; sent: number };

export interface CaseLog {
  warn(message: string, extra?: Record<string, unknown>): void;
}

/**
 * One step of a case. Derives what is due from the case record and the clock, so it can run again at any time
 * (a retry, a restarted execution, a restarted local runtime) without repeating a message: every message goes
 * through the notification ledger (subject `CASE#<id>`, one key per step and recipient), and the record's
 * `stepsDone` is written conditionally on the version read. An execution of an older generation than the
 * record's ends quietly: an event started a newer one.
 */
export async function advanceCase(
  types: CaseTypes,
  input: CaseAdvanceInput,
  log: CaseLog,
): Promise<CaseAdvanceResult> {
  const mine = generationOfExecution(input.executionName);
  let sent = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const now = clock.now();
    const rec = await getCase(input.caseId);
    if (!rec) throw new ValidationError(`unknown case ${input.caseId}`, `案件不存在：${input.caseId}`);
    if (mine !== undefined && mine < rec.generation)
      return { status: 'closed', reason: 'superseded', generation: mine, sent };
    if (rec.status === 'closed')
      return { status: 'closed', reason: 'closed', generation: rec.generation, sent };
    const type = requireType(types, rec.typeId);
    const snapshot = snapshotOf(rec);
    const plan = planCase(type, snapshot);
    const selection = selectDue(plan, snapshot, new Set(rec.stepsDone), now);
    if (selection.act.length > 0) sent += await actOnSteps(type, rec, plan, selection.act, now, log);

    const next: CaseRecord = structuredClone(rec);
    next.version = rec.version + 1;
    const doneNow = selection.due.filter((s) => s.kind !== 'notice').map((s) => s.key);
    next.stepsDone = [...rec.stepsDone, ...doneNow];
    const sentNotices = new Set(selection.due.filter((s) => s.event).map((s) => s.event?.seq));
    next.outbox = rec.outbox.filter((o) => !sentNotices.has(o.seq));

    let result: CaseAdvanceResult;
    const upcoming = selection.next;
    if (!upcoming) {
      delete next.plannedWakeAt;
      if (plan.stage.terminal) {
        next.status = 'closed';
        result = { status: 'closed', reason: 'closed', generation: rec.generation, sent };
      } else {
        // Nothing left to wait for (every level has escalated): the next event starts a new execution.
        result = { status: 'closed', reason: 'idle', generation: rec.generation, sent };
      }
    } else {
      const start = input.executionStartTime ? Date.parse(input.executionStartTime) : now.getTime();
      const limit = start + MAX_EXECUTION_SPAN_MS;
      if (Date.parse(upcoming.at) <= limit) {
        next.plannedWakeAt = upcoming.at;
        result = { status: 'waiting', wakeAt: upcoming.at, generation: rec.generation, sent };
      } else if (now.getTime() < limit - HANDOVER_MARGIN_MS) {
        // Standard executions last at most a year: wait until the span limit, then hand over.
        next.plannedWakeAt = toShanghaiIso(new Date(limit));
        result = { status: 'waiting', wakeAt: next.plannedWakeAt, generation: rec.generation, sent };
      } else {
        next.generation = rec.generation + 1;
        // The continuation starts at once and waits for the step itself.
        next.plannedWakeAt = toShanghaiIso(now);
        result = {
          status: 'continue',
          wakeAt: upcoming.at,
          generation: next.generation,
          nextExecutionName: caseExecutionName(rec.caseId, next.generation),
          sent,
        };
      }
    }
    if (await replaceCase(next, rec.version)) return result;
    // An event (or another generation) wrote first: re-read and recompute; the ledger keeps sends unique.
  }
  throw new Error(`case ${input.caseId} changed during every attempt; retrying`);
}

function partyUnitId(rec: CaseRecord, party: Party): string {
  return party === 'responsible' ? rec.responsibleUnitId : rec.supervisingUnitId;
}

async function actOnSteps(
  type: CaseType,
  rec: CaseRecord,
  plan: CasePlan,
  steps: CaseStep[],
  now: Date,
  log: CaseLog,
): Promise<number> {
  const directory = new CaseDirectory(rec);
  const [resp, sup] = await Promise.all([directory.responsible(), directory.supervising()]);
  const unitName = resp?.name ?? rec.responsibleUnitId;
  const supervisingName = sup?.name ?? rec.supervisingUnitId;
  const secret = await linkSecret();
  const baseUrl = (process.env.CONSOLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const partyName = (party: Party | undefined) => (party === 'supervising' ? supervisingName : unitName);

  const base = (r: CaseRecipient, deadline: string | undefined): CaseMailBase => {
    const expiresMs = Math.max(now.getTime(), deadline ? Date.parse(deadline) : 0) + LINK_GRACE_MS;
    let link: CaseMailBase['link'];
    if (r.party) {
      const token = signLink(
        { u: partyUnitId(rec, r.party), i: caseItem(rec.caseId), e: Math.floor(expiresMs / 1000) },
        secret,
      );
      link = {
        url: `${baseUrl}/cases/${rec.caseId}?link=${token}`,
        expires: toShanghaiIso(new Date(expiresMs)),
      };
    }
    return {
      type,
      caseId: rec.caseId,
      title: rec.title,
      unitName,
      supervisingName,
      to: r.person.email,
      personName: r.person.name,
      rolesZh: r.rolesZh,
      ...(link ? { link } : {}),
    };
  };

  const outcomes: NotifyOutcome[] = [];
  for (const step of steps) {
    const recipients = await directory.recipients(step.positions);
    let build: (r: CaseRecipient) => ReturnType<typeof caseNoticeEmail>;
    if (step.kind === 'notice') {
      const seq = step.event?.seq ?? 0;
      const ev = step.event && step.event.id !== 'opened' ? eventOf(type, step.event.id) : undefined;
      const notice = ev ? ev.notify : type.onOpen;
      if (!notice) continue;
      const body = await getCaseEvent(rec.caseId, seq);
      const specs = ev ? ev.fields : type.openFields;
      const details = specs
        .filter((f) => body?.fields[f.key])
        .map((f) => ({ labelZh: f.labelZh, value: body?.fields[f.key] ?? '' }));
      const person = rec.history.find((h) => h.seq === seq)?.person;
      if (person) details.push({ labelZh: '办理人', value: person.name });
      if (body?.newDeadline) details.push({ labelZh: '新的整改期限', value: instantLabel(rec.term) });
      const next = nextStepLine(plan.stage, partyName(plan.stage.party), plan.deadline);
      build = (r) =>
        caseNoticeEmail({
          ...base(r, plan.deadline),
          notice,
          ...(ev ? { event: ev } : {}),
          at: step.at,
          details,
          ...(next ? { next } : {}),
          term: rec.term,
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
        const rule = type.events.find((e) => e.from.includes(plan.stage.id) && e.fieldsRuleZh)?.fieldsRuleZh;
        if (rule) ruleZh = `${rule}。`;
      }
      const common = (r: CaseRecipient): ReminderMail => ({
        ...base(r, deadline),
        what,
        deadline,
        partyName: partyName(party),
        ...(ruleZh ? { ruleZh } : {}),
      });
      build =
        step.kind === 'reminder'
          ? (r) => caseReminderEmail(common(r))
          : (r) =>
              caseEscalationEmail({
                ...common(r),
                level: step.level,
                workdaysOverdue: workdaysOverdue(deadline, shanghaiDateOf(now)),
              });
    }
    outcomes.push(
      ...(await mapLimit(recipients, SEND_CONCURRENCY, (r) =>
        notifyOnce(
          {
            subject: caseSubject(rec.caseId),
            stageId: step.key,
            recipientKey: r.person.email.toLowerCase(),
            kind: step.kind === 'notice' ? 'other' : step.kind,
            meta: { caseId: rec.caseId, positions: step.positions },
          },
          build(r),
        ),
      )),
    );
  }
  for (const w of directory.warnings) log.warn('case position not held', { detail: w });
  const inFlight = outcomes.filter((o) => o === 'in-flight').length;
  if (inFlight > 0)
    throw new NotificationInFlightError(`${inFlight} case notification(s) are claimed but not settled`);
  return outcomes.filter((o) => o === 'sent').length;
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
