import { UNIT_KIND_ZH } from '../../workflows/catalog/schema.ts';
import { randomBytes } from 'node:crypto';
import { parseDate, shanghaiDateOf, toShanghaiIso } from '../../workflows/calendar.ts';
import { eventOf, stageOf, type CaseTypes } from '../../workflows/cases/index.ts';
import {
  escalationLevelOfKey,
  offsetFrom,
  planCase,
  termFrom,
  termOn,
  type CasePlan,
  type CaseSnapshot,
} from '../../workflows/cases/plan.ts';
import {
  ACTOR_ZH,
  type Actor,
  type CaseEvent,
  type CaseType,
  type FieldSpec,
} from '../../workflows/cases/schema.ts';
import { appendAudit } from '../adapters/audit.ts';
import { startExecutionOnce } from '../adapters/executions.ts';
import { getCase, putCaseEvent, putNewCase, replaceCase } from '../adapters/case-store.ts';
import { caseDeliveries } from '../adapters/outbox-store.ts';
import { getUnit } from '../adapters/store.ts';
import { clock } from './clock.ts';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  type FieldIssue,
} from './errors.ts';
import { instantLabel } from './labels.ts';
import { beforeTermZh, termMoveZh } from './cases-messages.ts';
import type { CaseEventBody, CasePerson, CaseRecord, HistoryEntry, OpenCaseBody } from './cases-model.ts';
import { emailSchema, phoneSchema, type Unit } from './model.ts';
import { smsAddressOf } from '../notices/channels.ts';
import { workdaysOverdue } from './overdue.ts';
import { nameIdentity } from './text.ts';

/** The ledger and audit subject of a case. */
export const caseSubject = (caseId: string) => `CASE#${caseId}`;

/** Execution names: `<caseId>` for the first generation, `<caseId>_g<N>` after (case ids have no underscore). */
export function caseExecutionName(caseId: string, generation: number): string {
  return generation > 1 ? `${caseId}_g${generation}` : caseId;
}

/** An event that arrives while the driving execution is this late for its planned wake is taken as lost. */
export const LOST_EXECUTION_GRACE_MS = 15 * 60_000;
/** Events a case keeps in its record (the compact history); far more than any real case needs. */
const MAX_EVENTS = 1000;

export function snapshotOf(r: CaseRecord): CaseSnapshot {
  return {
    stage: r.stage,
    visit: r.visit,
    stageEnteredAt: r.stageEnteredAt,
    term: r.term,
    termSetAt: r.termSetAt,
    ...(r.request ? { request: { id: r.request.id, seq: r.request.seq, openedAt: r.request.openedAt } } : {}),
    progressReports: r.progressReports,
    outbox: r.outbox,
  };
}

/** A history entry's event in words: 立案, an event's title, or the end stage a case reached by itself. */
export function historyEventZh(type: CaseType, id: string): string {
  if (id === 'opened') return '立案';
  if (id === 'ended')
    return `${type.stages.find((s) => s.id === type.endsIn)?.titleZh ?? '已结束'}（到期自动结束）`;
  return type.events.find((e) => e.id === id)?.titleZh ?? id;
}

export function requireType(types: CaseTypes, typeId: string): CaseType {
  const t = types.get(typeId);
  if (!t) {
    throw new ValidationError(`unknown case type ${typeId}`, `未知的案件类型：${typeId}`, [
      {
        field: 'type',
        problem: `未知的案件类型，可用：${types.types.map((x) => `${x.id}（${x.titleZh}）`).join('、')}`,
      },
    ]);
  }
  return t;
}

/** The earliest instant the plan still needs an execution for (a due step counts as now). */
export function firstPendingAt(plan: CasePlan, done: ReadonlySet<string>, nowMs: number): number | undefined {
  const pending = plan.steps
    .filter((s) => !done.has(s.key))
    .map((s) => Math.max(Date.parse(s.prepareAt), nowMs));
  return pending.length > 0 ? Math.min(...pending) : undefined;
}

/**
 * After a failed start: the record no longer claims an execution will wake, so the next event starts one at once.
 * Best effort (a concurrent write wins, and the grace period covers that case).
 */
async function forgetPlannedWake(caseId: string, generation: number, error: unknown): Promise<void> {
  const rec = await getCase(caseId);
  if (!rec || rec.generation !== generation) return;
  const next: CaseRecord = {
    ...rec,
    version: rec.version + 1,
    lastError: {
      at: toShanghaiIso(clock.now()),
      message: `could not start the execution: ${String(error)}`.slice(0, 2000),
    },
  };
  delete next.plannedWakeAt;
  await replaceCase(next, rec.version);
}

/**
 * Starts a case's execution again under a new generation (the reconciler, when its execution failed, timed out
 * or was lost). False when the case is closed or changed during every attempt.
 */
export async function resumeCase(caseId: string): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const rec = await getCase(caseId);
    if (!rec || rec.status !== 'open') return false;
    const next: CaseRecord = {
      ...rec,
      version: rec.version + 1,
      generation: rec.generation + 1,
      plannedWakeAt: toShanghaiIso(clock.now()),
    };
    delete next.lastError;
    if (!(await replaceCase(next, rec.version))) continue;
    await startCaseExecution(caseId, next.generation);
    return true;
  }
  return false;
}

/** Starts the execution of a case generation through the Step Functions API (CASE_STATE_MACHINE_ARN). */
export async function startCaseExecution(caseId: string, generation: number): Promise<void> {
  // Already started (a retried request): the goal is reached.
  await startExecutionOnce('CASE_STATE_MACHINE_ARN', caseExecutionName(caseId, generation), { caseId });
}

/** The text fields of an opening or an event against their specs: unknown, missing, too long, malformed. */
export function checkFields(
  specs: readonly FieldSpec[],
  given: Record<string, string>,
  path: string,
  ruleZh: string | undefined,
): void {
  const issues: FieldIssue[] = [];
  const known = new Set(specs.map((f) => f.key));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) issues.push({ field: `${path}.${key}`, problem: '不认识的字段' });
  }
  const missing: FieldSpec[] = [];
  const malformed: string[] = [];
  for (const f of specs) {
    const v = given[f.key];
    if (v === undefined || v.trim() === '') {
      if (f.required) missing.push(f);
      continue;
    }
    if (v.length > f.maxLength)
      issues.push({ field: `${path}.${f.key}`, problem: `不能超过${f.maxLength}个字符` });
    const problem = formatProblem(f, v);
    if (problem) {
      issues.push({ field: `${path}.${f.key}`, problem });
      malformed.push(`${f.labelZh}${problem}`);
    }
  }
  for (const f of missing) issues.push({ field: `${path}.${f.key}`, problem: `必填：${f.labelZh}` });
  if (issues.length === 0) return;
  const zh =
    missing.length > 0
      ? `${ruleZh ? `${ruleZh}，` : ''}缺少：${missing.map((f) => f.labelZh).join('、')}`
      : malformed.length > 0
        ? malformed.join('；')
        : '请求内容有误';
  throw new ValidationError(`invalid ${path}`, zh, issues);
}

/**
 * A field with a format: a mobile number must be one a text message reaches (a landline would leave the person
 * silently unreached), an email address one the roster would accept.
 */
function formatProblem(f: FieldSpec, value: string): string | undefined {
  if (f.format === 'mobile' && (!phoneSchema.safeParse(value).success || !smsAddressOf(value)))
    return '不是有效的手机号码（须为能接收短信的手机号，如 13800000001）';
  if (f.format === 'email' && !emailSchema.safeParse(value).success) return '不是有效的电子邮箱地址';
  return undefined;
}

async function townOf(unit: Unit, explicit: string | undefined): Promise<string> {
  if (explicit) {
    const town = await getUnit(explicit);
    if (!town)
      throw new NotFoundError(`unknown town ${explicit}`, `未知的镇：${explicit}`, [
        { field: 'townId', problem: '单位不存在' },
      ]);
    if (town.kind !== 'town')
      throw new UnprocessableError(`${explicit} is not a town`, `${town.name}不是镇（经开区）`, [
        { field: 'townId', problem: `${UNIT_KIND_ZH[town.kind]}不是乡镇` },
      ]);
    return town.id;
  }
  if (unit.kind === 'town') return unit.id;
  if (unit.parentId) {
    const parent = await getUnit(unit.parentId);
    if (parent?.kind === 'town') return parent.id;
  }
  return '-';
}

function newCaseId(type: CaseType, now: Date): string {
  const suffix = randomBytes(4).readUInt32BE(0).toString(36).padStart(6, '0').slice(-6);
  return `${type.idPrefix}-${shanghaiDateOf(now).replace(/-/g, '')}-${suffix}`;
}

export interface OpenResult {
  record: CaseRecord;
  workflowStarted: boolean;
}

/**
 * Opens a case: validates it against its type and the roster, writes the record (the listing notice is its
 * first outbox entry) and starts its execution. A chosen case id that exists is a 409.
 */
export async function openCase(
  types: CaseTypes,
  body: OpenCaseBody,
  actor: string,
  route: string,
  log: { error(message: string, extra?: Record<string, unknown>): void },
): Promise<OpenResult> {
  const type = requireType(types, body.type);
  checkFields(type.openFields, body.fields, 'fields', undefined);
  const [resp, sup] = await Promise.all([getUnit(body.responsibleUnitId), getUnit(body.supervisingUnitId)]);
  const notFound: FieldIssue[] = [];
  const missing: string[] = [];
  if (!resp?.active) {
    notFound.push({ field: 'responsibleUnitId', problem: `未知或已停用的单位：${body.responsibleUnitId}` });
    missing.push(body.responsibleUnitId);
  }
  if (!sup?.active) {
    notFound.push({ field: 'supervisingUnitId', problem: `未知或已停用的单位：${body.supervisingUnitId}` });
    missing.push(body.supervisingUnitId);
  }
  if (!resp?.active || !sup?.active)
    throw new NotFoundError('unknown unit', `未知或已停用的单位：${missing.join('、')}`, notFound);
  const kindIssues: FieldIssue[] = [];
  if (!type.responsibleKinds.includes(resp.kind))
    kindIssues.push({
      field: 'responsibleUnitId',
      problem: `${UNIT_KIND_ZH[resp.kind]}不能作为此类案件的责任单位`,
    });
  if (!type.supervisingKinds.includes(sup.kind))
    kindIssues.push({
      field: 'supervisingUnitId',
      problem: `${UNIT_KIND_ZH[sup.kind]}不能作为此类案件的监管单位`,
    });
  if (resp.id === sup.id) kindIssues.push({ field: 'supervisingUnitId', problem: '不能与责任单位相同' });
  if (kindIssues.length > 0)
    throw new UnprocessableError(
      'units do not fit the case type',
      `单位与案件类型不符：${resp.name} / ${sup.name}`,
      kindIssues,
    );
  const townId = await townOf(resp, body.townId);

  const now = clock.now();
  const nowIso = toShanghaiIso(now);
  if ('until' in body.term) parseDate(body.term.until);
  const inMinutes = 'minutes' in body.term;
  if (inMinutes !== (type.termGiven === 'minutes'))
    throw new ValidationError('term in the wrong form', `${type.termLabelZh}的写法不对`, [
      {
        field: 'term',
        problem: inMinutes
          ? '此类案件的期限应为日期（until）或天数（days）'
          : '此类案件的期限应为分钟数（minutes）',
      },
    ]);
  if (body.endsAt !== undefined && (!type.endsIn || Date.parse(body.endsAt) <= now.getTime()))
    throw new ValidationError('bad endsAt', '结束时间无效', [
      { field: 'endsAt', problem: type.endsIn ? '应晚于当前时间' : '此类案件没有结束时间' },
    ]);
  const { term, movedFrom: termMovedFrom } = termFrom(type, body.term, nowIso);
  if (Date.parse(term) <= now.getTime())
    throw new ValidationError('term in the past', `${type.termLabelZh}必须晚于当前时间`, [
      { field: 'term', problem: '应在今天之后' },
    ]);
  const initial = stageOf(type, type.initialStage);
  const firstPlan = planCase(type, {
    stage: initial.id,
    visit: 1,
    stageEnteredAt: nowIso,
    term,
    termSetAt: nowIso,
    progressReports: [],
    outbox: [],
  });
  if (
    firstPlan.deadline &&
    initial.deadline?.type !== 'term' &&
    Date.parse(term) < Date.parse(firstPlan.deadline)
  ) {
    throw new ValidationError(
      'term before the first stage deadline',
      `${type.termLabelZh}（${instantLabel(term)}）不能早于${initial.titleZh}的期限（${instantLabel(firstPlan.deadline)}）`,
      [
        {
          field: 'term',
          problem: `不能早于第一阶段的截止时间 ${firstPlan.deadline.slice(0, 16).replace('T', ' ')}`,
        },
      ],
    );
  }

  for (let attempt = 0; attempt < 5; attempt++) {
    const caseId = body.caseId ?? newCaseId(type, now);
    const entry: HistoryEntry = {
      seq: 0,
      event: 'opened',
      at: nowIso,
      actor,
      role: 'admin',
      fromStage: '-',
      toStage: initial.id,
      term,
      ...(termMovedFrom ? { termMovedFrom } : {}),
    };
    const record: CaseRecord = {
      caseId,
      typeId: type.id,
      title: body.title,
      status: 'open',
      stage: initial.id,
      visit: 1,
      stageEnteredAt: nowIso,
      responsibleUnitId: resp.id,
      supervisingUnitId: sup.id,
      townId,
      fields: body.fields,
      openedAt: nowIso,
      openedBy: actor,
      term,
      originalTerm: term,
      ...(termMovedFrom ? { termMovedFrom } : {}),
      termSetAt: nowIso,
      ...(body.endsAt ? { endsAt: toShanghaiIso(new Date(body.endsAt)) } : {}),
      version: 1,
      generation: 1,
      // The first execution is about to start: it runs now.
      plannedWakeAt: nowIso,
      stepsDone: [],
      outbox: type.onOpen ? [{ seq: 0, eventId: 'opened', at: nowIso }] : [],
      progressReports: [],
      persons: {},
      accounts: {},
      history: [entry],
    };
    if (!(await putNewCase(record))) {
      if (body.caseId)
        throw new ConflictError('case exists', `案件编号已存在：${body.caseId}`, [
          { field: 'caseId', problem: '案件编号已存在' },
        ]);
      continue;
    }
    await putCaseEvent({
      caseId,
      seq: 0,
      event: 'opened',
      at: nowIso,
      actor,
      fields: body.fields,
      ...(body.note ? { note: body.note } : {}),
    });
    await appendAudit({
      subject: caseSubject(caseId),
      at: nowIso,
      actor,
      action: 'case-opened',
      route,
      details: { type: type.id, responsibleUnitId: resp.id, supervisingUnitId: sup.id, term },
    });
    let workflowStarted = true;
    try {
      await startCaseExecution(caseId, 1);
    } catch (err) {
      // The record is the truth: the next event finds the execution missing and starts one (see decisions.md).
      workflowStarted = false;
      log.error('could not start the case execution', { caseId, error: String(err) });
      await forgetPlannedWake(caseId, 1, err).catch(() => undefined);
    }
    return { record, workflowStarted };
  }
  throw new ConflictError('could not allocate a case id', '案件编号生成冲突，请重试');
}

/** `account`: the signed-in administrator's account (Cognito `sub`); absent with the local admin token. */
export type CasePrincipal =
  { kind: 'admin'; name: string; account?: string } | { kind: 'unit'; unitId: string };

/** Which side of the case the principal is on; a unit that is neither may not touch it. */
export function roleOf(r: CaseRecord, p: CasePrincipal): Actor {
  if (p.kind === 'admin') return 'admin';
  if (p.unitId === r.responsibleUnitId) return 'responsible';
  if (p.unitId === r.supervisingUnitId) return 'supervising';
  throw new ForbiddenError('link is for another unit', '该链接不能用于此案件');
}

function actorOf(p: CasePrincipal): string {
  return p.kind === 'admin' ? `admin:${p.name}` : `unit-link:${p.unitId}`;
}

/**
 * Same person, as far as typed details can tell: the same address, or the same name once normalized (full-width,
 * invisible characters, spaces and case do not make another person). Two people with one name cannot both act;
 * the refusal says why.
 */
export function samePerson(
  a: { name: string; email?: string | undefined },
  b: { name: string; email?: string | undefined },
): boolean {
  if (a.email && b.email && a.email.trim().toLowerCase() === b.email.trim().toLowerCase()) return true;
  return nameIdentity(a.name) === nameIdentity(b.name);
}

/**
 * Separation of duties: the same signed-in account is the same person, whatever name it typed; otherwise the typed
 * details are compared (samePerson). With the local admin token there is no account: anyone holding it can type
 * any name, which README says.
 */
export function sameActor(
  a: { person?: CasePerson | undefined; account?: string | undefined },
  b: { person?: CasePerson | undefined; account?: string | undefined },
): boolean {
  if (a.account !== undefined && a.account === b.account) return true;
  return a.person !== undefined && b.person !== undefined && samePerson(a.person, b.person);
}

/** The events a case accepts in its current stage (and given its open request). */
export function allowedEvents(type: CaseType, r: CaseRecord): CaseEvent[] {
  if (stageOf(type, r.stage).terminal) return [];
  return type.events.filter(
    (e) =>
      e.from.includes(r.stage) &&
      !(e.opens && r.request) &&
      !(e.resolves && r.request?.id !== e.resolves.request),
  );
}

export interface EventResult {
  record: CaseRecord;
  entry: HistoryEntry;
  restarted: boolean;
  workflowStarted: boolean;
}

/**
 * Applies an event to a case at once: checks who sends it, the stage, the body, the timing and the person, then
 * writes the new record conditionally on the version it read (retrying on a concurrent write). If the execution
 * driving the case waits past the first instant the new state needs (a notice, a reminder of the new stage), a
 * new generation starts now and the old execution ends quietly when it wakes. Nothing is written on a refusal.
 */
export async function applyCaseEvent(
  types: CaseTypes,
  caseId: string,
  body: CaseEventBody,
  principal: CasePrincipal,
  route: string,
  log: { error(message: string, extra?: Record<string, unknown>): void },
): Promise<EventResult> {
  for (let attempt = 0; attempt < 6; attempt++) {
    const rec = await getCase(caseId);
    if (!rec)
      throw new NotFoundError(`unknown case ${caseId}`, `案件不存在：${caseId}`, [
        { field: 'caseId', problem: '未知的案件' },
      ]);
    const type = requireType(types, rec.typeId);
    const ev = eventOf(type, body.event);
    const stage = stageOf(type, rec.stage);
    if (!ev) {
      throw new ValidationError(`unknown event ${body.event}`, `未知的事件：${body.event}`, [
        {
          field: 'event',
          problem: `此类案件没有这个事件，可用：${type.events.map((e) => e.id).join('、')}`,
        },
      ]);
    }
    const role = roleOf(rec, principal);
    if (!ev.by.includes(role)) {
      throw new ForbiddenError(
        `${role} may not send ${ev.id}`,
        `“${ev.titleZh}”只能由${ev.by.map((b) => ACTOR_ZH[b]).join('或')}办理`,
        [{ field: 'event', problem: `只有${ev.by.map((b) => ACTOR_ZH[b]).join('或')}可以办理此事项` }],
      );
    }
    const allowedNow = allowedEvents(type, rec).map((e) => e.titleZh);
    if (!ev.from.includes(rec.stage)) {
      throw new ConflictError(
        `event ${ev.id} not allowed in stage ${rec.stage}`,
        `案件当前处于“${stage.titleZh}”阶段，不能办理“${ev.titleZh}”${allowedNow.length ? `（当前可办理：${allowedNow.join('、')}）` : '（案件已办结）'}`,
        [{ field: 'event', problem: `当前阶段（${rec.stage}）不能办理此事项` }],
      );
    }
    if (ev.opens && rec.request) {
      throw new ConflictError('a request is already pending', '已有待决定的申请，请等待决定后再提出', [
        { field: 'event', problem: `尚有待审批的申请（${rec.request.id}）` },
      ]);
    }
    if (ev.resolves && rec.request?.id !== ev.resolves.request) {
      throw new ConflictError('no pending request', '没有待决定的申请', [
        { field: 'event', problem: `没有待审批的申请（${ev.resolves.request}）` },
      ]);
    }

    checkFields(ev.fields, body.fields, 'fields', ev.fieldsRuleZh);
    if (ev.person && !body.person)
      throw new ValidationError('person required', '请填写办理人', [
        { field: 'person', problem: '请填写办理人姓名' },
      ]);
    const now = clock.now();
    const nowIso = toShanghaiIso(now);
    let newTerm: string | undefined;
    let newTermMovedFrom: string | undefined;
    if (body.newDeadline !== undefined) {
      if (ev.newDeadline === 'none')
        throw new ValidationError('newDeadline not accepted', '该事件不接受新的整改期限', [
          { field: 'newDeadline', problem: '该事件不接受新的期限' },
        ]);
      parseDate(body.newDeadline);
      ({ term: newTerm, movedFrom: newTermMovedFrom } = termOn(type, body.newDeadline));
      if (Date.parse(newTerm) <= now.getTime())
        throw new ValidationError('newDeadline in the past', '新的整改期限必须晚于当前时间', [
          { field: 'newDeadline', problem: '应在今天之后' },
        ]);
      if ((ev.opens || ev.resolves?.outcome === 'granted') && Date.parse(newTerm) <= Date.parse(rec.term))
        throw new ValidationError(
          'newDeadline not later',
          `申请的期限须晚于现整改期限（${instantLabel(rec.term)}）`,
          [{ field: 'newDeadline', problem: `应晚于现整改期限（${instantLabel(rec.term)}）` }],
        );
    } else if (ev.newDeadline === 'required') {
      throw new ValidationError('newDeadline required', '请填写新的整改期限', [
        { field: 'newDeadline', problem: '请填写新的期限（日期，格式如 2023-06-30）' },
      ]);
    }
    if (ev.latestBeforeTerm) {
      const latest = offsetFrom(rec.term, ev.latestBeforeTerm);
      if (now.getTime() > Date.parse(latest)) {
        throw new UnprocessableError(
          `${ev.id} too late: latest ${latest}`,
          `“${ev.titleZh}”须不晚于${beforeTermZh(ev.latestBeforeTerm)}提出（即${instantLabel(latest)}前），现已超过`,
          [{ field: 'event', problem: `须在${instantLabel(latest)}前提出` }],
        );
      }
    }
    const person: CasePerson | undefined = body.person
      ? { name: body.person.name, ...(body.person.email ? { email: body.person.email } : {}) }
      : undefined;
    const account = principal.kind === 'admin' ? principal.account : undefined;
    if (ev.distinctPersonFrom) {
      const previous = rec.persons[ev.distinctPersonFrom];
      const before = { person: previous, account: rec.accounts[ev.distinctPersonFrom] };
      if (sameActor(before, { person, account })) {
        const other = eventOf(type, ev.distinctPersonFrom);
        throw new ForbiddenError(
          'the same person may not do both',
          `“${ev.titleZh}”须由“${other?.titleZh ?? ev.distinctPersonFrom}”的报告人（${previous?.name ?? '同一登录账号'}）以外的人员办理`,
          [
            {
              field: 'person',
              problem: `须由“${other?.titleZh ?? ev.distinctPersonFrom}”的报告人以外的人员办理`,
            },
          ],
        );
      }
    }
    if (rec.history.length >= MAX_EVENTS)
      throw new ConflictError('too many events', '该案件的事件数已达上限，请联系管理员', [
        { field: 'event', problem: '事件数已达上限' },
      ]);

    // ------------------------------------------------------------ the new record
    const seq = (rec.history.at(-1)?.seq ?? 0) + 1;
    const next: CaseRecord = structuredClone(rec);
    next.version = rec.version + 1;
    if (person) next.persons = { ...next.persons, [ev.id]: person };
    if (account !== undefined) next.accounts = { ...next.accounts, [ev.id]: account };
    if (ev.progressReport) next.progressReports = [...next.progressReports, nowIso];
    if (ev.withdrawsRequests) delete next.request;
    let termChanged: string | undefined;
    let termMovedFrom: string | undefined;
    if (ev.opens) {
      next.request = {
        id: ev.opens,
        seq,
        openedAt: nowIso,
        ...(newTerm ? { newDeadline: newTerm } : {}),
        ...(newTermMovedFrom ? { newDeadlineMovedFrom: newTermMovedFrom } : {}),
      };
    } else if (ev.resolves) {
      const requested = rec.request;
      delete next.request;
      if (ev.resolves.outcome === 'granted') {
        termChanged = newTerm ?? requested?.newDeadline;
        termMovedFrom = newTerm ? newTermMovedFrom : requested?.newDeadlineMovedFrom;
      }
    } else if (newTerm) {
      termChanged = newTerm;
      termMovedFrom = newTermMovedFrom;
    }
    if (termChanged) {
      next.term = termChanged;
      next.termSetAt = nowIso;
      if (termMovedFrom) next.termMovedFrom = termMovedFrom;
      else delete next.termMovedFrom;
    }
    if (ev.to !== undefined) {
      next.stage = ev.to;
      next.visit = rec.visit + 1;
      next.stageEnteredAt = nowIso;
      next.stepsDone = [];
      next.progressReports = [];
      if (stageOf(type, ev.to).terminal) {
        next.closedAt = nowIso;
        delete next.request;
      }
    }
    if (ev.notify) next.outbox = [...next.outbox, { seq, eventId: ev.id, at: nowIso }];
    const entry: HistoryEntry = {
      seq,
      event: ev.id,
      at: nowIso,
      actor: actorOf(principal),
      role,
      ...(person ? { person } : {}),
      fromStage: rec.stage,
      toStage: next.stage,
      ...(termChanged ? { term: termChanged } : {}),
      ...(termChanged && termMovedFrom ? { termMovedFrom } : {}),
    };
    next.history = [...next.history, entry];

    // Does the execution that drives the case wake in time for what the new state needs first?
    const plan = planCase(type, snapshotOf(next));
    const first = firstPendingAt(plan, new Set(next.stepsDone), now.getTime());
    const wake = rec.plannedWakeAt ? Date.parse(rec.plannedWakeAt) : undefined;
    const restart =
      first !== undefined &&
      (wake === undefined || wake > first || wake < now.getTime() - LOST_EXECUTION_GRACE_MS);
    if (restart) {
      next.generation = rec.generation + 1;
      next.plannedWakeAt = nowIso;
    }
    if (!(await replaceCase(next, rec.version))) continue;

    await putCaseEvent({
      caseId,
      seq,
      event: ev.id,
      at: nowIso,
      actor: entry.actor,
      ...(person ? { person } : {}),
      ...(body.note ? { note: body.note } : {}),
      fields: body.fields,
      ...(body.newDeadline ? { newDeadline: body.newDeadline } : {}),
    });
    await appendAudit({
      subject: caseSubject(caseId),
      at: nowIso,
      actor: entry.actor,
      action: `case-event:${ev.id}`,
      route,
      details: {
        seq,
        role,
        fromStage: rec.stage,
        toStage: next.stage,
        ...(termChanged ? { term: termChanged } : {}),
      },
    });
    let workflowStarted = false;
    if (restart) {
      try {
        await startCaseExecution(caseId, next.generation);
        workflowStarted = true;
      } catch (err) {
        log.error('could not start the case execution', {
          caseId,
          generation: next.generation,
          error: String(err),
        });
        await forgetPlannedWake(caseId, next.generation, err).catch(() => undefined);
      }
    }
    return { record: next, entry, restarted: restart, workflowStarted };
  }
  throw new ConflictError('case busy', '案件正在更新，请稍后重试');
}

// ---------------------------------------------------------------- views

export interface OverdueState {
  what: 'stage' | 'request';
  titleZh: string;
  actionZh: string;
  since: string;
  workdaysOverdue: number;
  /** The highest escalation level sent for this deadline so far. */
  escalationLevel: number;
}

/** What of the case is overdue now: the stage's deadline, else an undecided request's. */
export function overdueOf(
  type: CaseType,
  r: CaseRecord,
  plan: CasePlan,
  now: Date,
): OverdueState | undefined {
  const done = new Set(r.stepsDone);
  const levelOf = (track: 'stage' | 'request') =>
    Math.max(
      0,
      ...plan.steps
        .filter((s) => s.track === track && done.has(s.key))
        .map((s) => escalationLevelOfKey(s.key)),
    );
  const today = shanghaiDateOf(now);
  if (plan.deadline && Date.parse(plan.deadline) < now.getTime()) {
    return {
      what: 'stage',
      titleZh: plan.stage.titleZh,
      actionZh: plan.stage.actionZh ?? '',
      since: plan.deadline,
      workdaysOverdue: workdaysOverdue(plan.deadline, today),
      escalationLevel: levelOf('stage'),
    };
  }
  if (plan.request && Date.parse(plan.request.deadline) < now.getTime()) {
    const def = type.requests.find((x) => x.id === plan.request?.id);
    return {
      what: 'request',
      titleZh: def?.titleZh ?? plan.request.id,
      actionZh: def?.actionZh ?? '',
      since: plan.request.deadline,
      workdaysOverdue: workdaysOverdue(plan.request.deadline, today),
      escalationLevel: levelOf('request'),
    };
  }
  return undefined;
}

export function caseSummary(type: CaseType, r: CaseRecord, now: Date) {
  const plan = planCase(type, snapshotOf(r));
  return {
    caseId: r.caseId,
    type: type.id,
    typeTitleZh: type.titleZh,
    title: r.title,
    status: r.status,
    stage: r.stage,
    stageTitleZh: plan.stage.titleZh,
    responsibleUnitId: r.responsibleUnitId,
    supervisingUnitId: r.supervisingUnitId,
    townId: r.townId,
    openedAt: r.openedAt,
    term: r.term,
    termLabelZh: type.termLabelZh,
    ...(r.termMovedFrom
      ? { termMovedFrom: r.termMovedFrom, termNoteZh: termMoveZh(r.termMovedFrom, r.term) }
      : {}),
    deadline: plan.deadline ?? null,
    ...(r.closedAt ? { closedAt: r.closedAt } : {}),
    ...(r.request
      ? {
          pendingRequest: {
            id: r.request.id,
            openedAt: r.request.openedAt,
            deadline: plan.request?.deadline,
          },
        }
      : {}),
    overdue: overdueOf(type, r, plan, now) ?? null,
  };
}

/** A case with its plan (every step, done or to come), history and notifications: GET /cases/{id}. */
export async function caseDetail(
  type: CaseType,
  r: CaseRecord,
  events: { seq: number; note?: string; fields: Record<string, string>; newDeadline?: string }[],
  now: Date,
  options: { notifications: boolean },
) {
  const plan = planCase(type, snapshotOf(r));
  const done = new Set(r.stepsDone);
  const bodies = new Map(events.map((e) => [e.seq, e]));
  // The emails that carried the case's notices (delivery records them; GET /deliveries has the full record).
  const notifications = options.notifications
    ? (await caseDeliveries(r.caseId)).map((n) => ({
        recipient: n.address,
        name: n.name,
        kinds: n.kinds,
        subject: n.subjectLine,
        status: n.status,
        sentAt: n.sentAt,
      }))
    : undefined;
  return {
    ...caseSummary(type, r, now),
    fields: r.fields,
    originalTerm: r.originalTerm,
    workflow: {
      status: r.status,
      generation: r.generation,
      plannedWakeAt: r.plannedWakeAt ?? null,
      ...(r.lastError ? { lastError: r.lastError } : {}),
    },
    allowedEvents: allowedEvents(type, r).map((e) => ({ id: e.id, titleZh: e.titleZh, by: e.by })),
    timeline: {
      stage: {
        id: plan.stage.id,
        titleZh: plan.stage.titleZh,
        enteredAt: r.stageEnteredAt,
        deadline: plan.deadline ?? null,
      },
      ...(plan.request ? { request: plan.request } : {}),
      progressDues: plan.progressDues,
      progressReports: r.progressReports,
      steps: plan.steps.map((s) => ({
        key: s.key,
        kind: s.kind,
        track: s.track,
        level: s.level,
        at: s.at,
        urgency: s.urgency,
        positions: s.positions,
        state: done.has(s.key) ? 'done' : Date.parse(s.at) <= now.getTime() ? 'due' : 'planned',
      })),
      verified: plan.verified,
      warnings: plan.warnings,
    },
    history: r.history.map((h) => {
      const b = bodies.get(h.seq);
      return {
        ...h,
        ...(b?.note ? { note: b.note } : {}),
        ...(b && Object.keys(b.fields).length > 0 ? { fields: b.fields } : {}),
        ...(b?.newDeadline ? { newDeadline: b.newDeadline } : {}),
      };
    }),
    ...(notifications ? { notifications } : {}),
  };
}
