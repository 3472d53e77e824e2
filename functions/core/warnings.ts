// Warnings (预警叫应): issuing one opens a warning-response case per unit, whose clock runs in minutes; the warning
// itself is the list those cases answer to, and its view says who answered when.
import { randomBytes } from 'node:crypto';
import { shanghaiDateOf, toShanghaiIso } from '../../workflows/calendar.ts';
import type { CaseTypes } from '../../workflows/cases/index.ts';
import { planCase } from '../../workflows/cases/plan.ts';
import { CASE_POSITION_ZH } from '../../workflows/cases/schema.ts';
import { warningLevel } from '../../workflows/warnings/index.ts';
import { appendAudit } from '../adapters/audit.ts';
import { getCase } from '../adapters/case-store.ts';
import { getUnit } from '../adapters/store.ts';
import { getWarning, putWarning } from '../adapters/warning-store.ts';
import { applyCaseEvent, openCase, requireType, snapshotOf, type CasePrincipal } from './cases.ts';
import type { CaseRecord } from './cases-model.ts';
import { clock } from './clock.ts';
import { safetyOfficeUnitId } from './directory.ts';
import {
  ConflictError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  type FieldIssue,
} from './errors.ts';
import { instantLabel } from './labels.ts';
import { auditKey } from './audit-subjects.ts';
import type { IssueWarningBody, WarningRecord } from './warnings-model.ts';
import { UNIT_KIND_ZH } from '../../workflows/catalog/unit-kinds.ts';

export const WARNING_CASE_TYPE = 'warning-response';

/** Who acted, as the audit and the warning record say: `admin:<name>`, or `integration:<client>` for a system. */
export function warningActor(principal: { name: string }): string {
  return principal.name.startsWith('integration:') ? principal.name : `admin:${principal.name}`;
}
/** Cases opened at once per issue: enough to reach a county's towns in seconds without a burst on the table. */
const OPEN_CONCURRENCY = 8;

interface Log {
  error(message: string, extra?: Record<string, unknown>): void;
}

function newWarningId(now: Date): string {
  const suffix = randomBytes(4).readUInt32BE(0).toString(36).padStart(6, '0').slice(-6);
  return `yj-${shanghaiDateOf(now).replace(/-/g, '')}-${suffix}`;
}

/** The same warning as one already issued: what a retry of the same request would carry. */
function sameWarning(w: WarningRecord, body: IssueWarningBody, issuedBy: string, units: string[]): boolean {
  return (
    w.level === body.level &&
    w.title === body.title &&
    w.text === body.text &&
    w.issuedBy === issuedBy &&
    Date.parse(w.validUntil) === Date.parse(body.validUntil) &&
    w.units.length === units.length &&
    w.units.every((u, i) => u.unitId === units[i])
  );
}

async function inBatches<T>(items: readonly T[], size: number, f: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

export interface IssueResult {
  warning: WarningRecord;
  /** False when the same warning had been issued before (a retry): nobody was warned twice. */
  created: boolean;
}

/**
 * Issues a warning: checks every unit first (nothing is written when one is unknown or cannot answer), writes the
 * warning, then opens each unit's case under a fixed id (`<warningId>-<n>`), so a retry of the same request opens
 * only the cases still missing and warns nobody twice.
 */
export async function issueWarning(
  types: CaseTypes,
  body: IssueWarningBody,
  actor: string,
  route: string,
  log: Log,
): Promise<IssueResult> {
  const type = requireType(types, WARNING_CASE_TYPE);
  const level = warningLevel(body.level);
  const now = clock.now();
  const nowIso = toShanghaiIso(now);
  const respondBy = now.getTime() + level.ackMinutes * 60_000;
  if (Date.parse(body.validUntil) <= respondBy)
    throw new ValidationError('validity shorter than the response limit', '预警有效期过短', [
      {
        field: 'validUntil',
        problem: `应晚于叫应时限（${level.labelZh}预警${level.ackMinutes}分钟，即${instantLabel(toShanghaiIso(new Date(respondBy)))}）`,
      },
    ]);
  const unitIds = [...new Set(body.units)];
  const issuedBy = body.issuedBy ?? safetyOfficeUnitId();
  const [issuer, ...units] = await Promise.all([getUnit(issuedBy), ...unitIds.map((id) => getUnit(id))]);
  const unknown: FieldIssue[] = [];
  const unfit: FieldIssue[] = [];
  if (!issuer?.active) unknown.push({ field: 'issuedBy', problem: `未知或已停用的单位：${issuedBy}` });
  else if (!type.supervisingKinds.includes(issuer.kind))
    unfit.push({ field: 'issuedBy', problem: `${UNIT_KIND_ZH[issuer.kind]}不能发布预警` });
  units.forEach((u, i) => {
    const id = unitIds[i] ?? '';
    const field = `units[${body.units.indexOf(id)}]`;
    if (!u?.active) unknown.push({ field, problem: `未知或已停用的单位：${id}` });
    else if (!type.responsibleKinds.includes(u.kind))
      unfit.push({ field, problem: `${UNIT_KIND_ZH[u.kind]}（${u.name}）不能作为叫应单位` });
    else if (u.id === issuedBy) unfit.push({ field, problem: '不能是发布单位本身' });
  });
  if (unknown.length > 0)
    throw new NotFoundError(
      'unknown unit',
      `未知或已停用的单位：${unknown.map((i) => i.problem.split('：')[1]).join('、')}`,
      unknown,
    );
  if (unfit.length > 0)
    throw new UnprocessableError('units cannot answer a warning', '有单位不能接收此预警', unfit);

  const warningId = body.warningId ?? newWarningId(now);
  let warning = await getWarning(warningId);
  let created = false;
  if (warning) {
    if (!sameWarning(warning, body, issuedBy, unitIds))
      throw new ConflictError('another warning has this id', `预警编号已被另一条预警使用：${warningId}`, [
        { field: 'warningId', problem: '预警编号已存在，且内容不同' },
      ]);
  } else {
    warning = {
      warningId,
      level: body.level,
      title: body.title,
      text: body.text,
      issuedBy,
      issuedAt: nowIso,
      actor,
      validUntil: toShanghaiIso(new Date(body.validUntil)),
      respondBy: toShanghaiIso(new Date(respondBy)),
      units: unitIds.map((unitId, i) => ({ unitId, caseId: `${warningId}-${i + 1}` })),
      status: 'issuing',
      version: 1,
    };
    if (!(await putWarning(warning)))
      throw new ConflictError('warning exists', '预警正在发布，请稍后重试', [
        { field: 'warningId', problem: '同一编号的预警正在发布' },
      ]);
    created = true;
    await appendAudit({
      subject: auditKey({ kind: 'warning', id: warningId }),
      at: nowIso,
      actor,
      action: 'warning-issued',
      route,
      details: { level: body.level, units: unitIds.length, validUntil: warning.validUntil },
    });
  }
  if (warning.status === 'issued') return { warning, created };

  const w = warning;
  // The minutes count from the warning's issue, also for a case a retry opens later.
  const minutesLeft = Math.max(1, Math.ceil((Date.parse(w.respondBy) - now.getTime()) / 60_000));
  await inBatches(w.units, OPEN_CONCURRENCY, async ({ unitId, caseId }) => {
    try {
      await openCase(
        types,
        {
          type: WARNING_CASE_TYPE,
          caseId,
          title: `${warningLevel(w.level).labelZh}预警：${w.title}`,
          responsibleUnitId: unitId,
          supervisingUnitId: w.issuedBy,
          term: { minutes: minutesLeft },
          endsAt: w.validUntil,
          fields: {
            level: `${warningLevel(w.level).labelZh}预警`,
            warning: w.text,
            issuer: issuer?.name ?? w.issuedBy,
            validUntil: instantLabel(w.validUntil),
            warningId: w.warningId,
          },
        },
        actor,
        route,
        log,
      );
    } catch (err) {
      // Opened by an earlier try of this warning: nothing to do.
      if (!(err instanceof ConflictError)) throw err;
    }
  });
  const done: WarningRecord = { ...w, status: 'issued', version: w.version + 1 };
  // A concurrent retry may have finished first; either way every case is open.
  await putWarning(done, w.version);
  return { warning: done, created };
}

export interface WarningUnitRow {
  unitId: string;
  unitName: string;
  caseId: string;
  state: 'responded' | 'awaiting' | 'not-responded' | 'lifted';
  stateZh: string;
  respondedAt?: string;
  respondedBy?: string;
  /** Minutes from the issue to the answer. */
  minutesToRespond?: number;
  /** The highest escalation level reached while the unit had not answered (0: none), and to whom. */
  escalationLevel: number;
  escalatedToZh: string[];
}

const STATE_ZH: Record<WarningUnitRow['state'], string> = {
  responded: '已叫应',
  awaiting: '待叫应',
  'not-responded': '未叫应（预警已结束）',
  lifted: '预警解除前未叫应',
};

function rowOf(
  types: CaseTypes,
  w: WarningRecord,
  c: CaseRecord,
  unitName: string,
  now: Date,
): WarningUnitRow {
  const type = requireType(types, c.typeId);
  const answer = c.history.find((h) => h.event === 'acknowledged');
  const ended = c.history.find((h) => h.event === 'ended' || h.event === 'warning-lifted');
  const state: WarningUnitRow['state'] = answer
    ? 'responded'
    : ended
      ? ended.event === 'ended'
        ? 'not-responded'
        : 'lifted'
      : 'awaiting';
  // Escalations reached before the answer (or the end): the awaiting stage's plan, as the case ran it.
  const until = Date.parse(answer?.at ?? ended?.at ?? toShanghaiIso(now));
  const plan = planCase(type, {
    ...snapshotOf(c),
    stage: type.initialStage,
    visit: 1,
    stageEnteredAt: c.openedAt,
    outbox: [],
  });
  const reached = plan.steps.filter((s) => s.kind === 'escalation' && Date.parse(s.at) <= until);
  const top = reached.at(-1);
  return {
    unitId: c.responsibleUnitId,
    unitName,
    caseId: c.caseId,
    state,
    stateZh: STATE_ZH[state],
    ...(answer
      ? {
          respondedAt: answer.at,
          respondedBy: answer.person?.name ?? answer.actor,
          minutesToRespond: Math.round((Date.parse(answer.at) - Date.parse(w.issuedAt)) / 60_000),
        }
      : {}),
    escalationLevel: top?.level ?? 0,
    escalatedToZh: [...new Set(reached.flatMap((s) => s.positions.map((p) => CASE_POSITION_ZH[p])))],
  };
}

/** A warning with each unit's answer: who answered when, who has not, how far it escalated. */
export async function warningView(types: CaseTypes, warningId: string) {
  const w = await getWarning(warningId);
  if (!w)
    throw new NotFoundError(`unknown warning ${warningId}`, `预警不存在：${warningId}`, [
      { field: 'id', problem: '未知的预警' },
    ]);
  const now = clock.now();
  const rows = await Promise.all(
    w.units.map(async ({ unitId, caseId }) => {
      const [c, u] = await Promise.all([getCase(caseId), getUnit(unitId)]);
      return c ? rowOf(types, w, c, u?.name ?? unitId, now) : undefined;
    }),
  );
  const units = rows.filter((r): r is WarningUnitRow => r !== undefined);
  const count = (s: WarningUnitRow['state']) => units.filter((u) => u.state === s).length;
  return {
    ...w,
    levelZh: `${warningLevel(w.level).labelZh}预警`,
    ackMinutes: warningLevel(w.level).ackMinutes,
    counts: {
      units: w.units.length,
      responded: count('responded'),
      awaiting: count('awaiting'),
      notResponded: count('not-responded') + count('lifted'),
    },
    units,
  };
}

/**
 * Lifts a warning before its validity ends: every unit still to answer is released (its case ends, nothing more is
 * sent); what was answered stays.
 */
export async function liftWarning(
  types: CaseTypes,
  warningId: string,
  principal: CasePrincipal & { kind: 'admin' },
  route: string,
  log: Log,
  reason?: string,
): Promise<WarningRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const w = await getWarning(warningId);
    if (!w)
      throw new NotFoundError(`unknown warning ${warningId}`, `预警不存在：${warningId}`, [
        { field: 'id', problem: '未知的预警' },
      ]);
    if (w.endedAt) return w;
    const nowIso = toShanghaiIso(clock.now());
    await inBatches(w.units, OPEN_CONCURRENCY, async ({ caseId }) => {
      const c = await getCase(caseId);
      if (!c || c.stage !== requireType(types, WARNING_CASE_TYPE).initialStage) return;
      try {
        await applyCaseEvent(
          types,
          caseId,
          { event: 'warning-lifted', fields: {}, ...(reason ? { note: reason } : {}) },
          principal,
          route,
          log,
        );
      } catch (err) {
        // Answered (or ended) in the meantime: what happened stays.
        if (!(err instanceof ConflictError)) throw err;
      }
    });
    const actor = warningActor(principal);
    const ended: WarningRecord = {
      ...w,
      endedAt: nowIso,
      endedBy: actor,
      ...(reason ? { endedReason: reason } : {}),
      version: w.version + 1,
    };
    if (await putWarning(ended, w.version)) {
      await appendAudit({
        subject: auditKey({ kind: 'warning', id: warningId }),
        at: nowIso,
        actor,
        action: 'warning-lifted',
        route,
        details: reason ? { reason } : {},
      });
      return ended;
    }
  }
  throw new ConflictError('warning busy', '预警正在更新，请稍后重试');
}
