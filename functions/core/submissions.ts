import { inDutyScope, UNIT_KIND_ZH } from '../../workflows/catalog/schema.ts';
import type { Catalog } from '../../workflows/catalog/index.ts';
import { planCycle } from '../../workflows/plan.ts';
import { toShanghaiIso } from '../../workflows/calendar.ts';
import { getCycle, getUnit, putSubmission, supervisorsOfMarked } from '../adapters/store.ts';
import { appendAudit } from '../adapters/audit.ts';
import { clock } from './clock.ts';
import { NotFoundError, UnprocessableError } from './errors.ts';
import type { Evidence, Submission } from './model.ts';
import { cycleSubject } from './cycle.ts';

export interface SubmissionRequest {
  dutyId: string;
  periodKey: string;
  unitId: string;
  note: string;
  evidence: Evidence;
  recordedBy: string;
  route: string;
}

/**
 * Records that a unit did its duty for a cycle. Late submissions are accepted and marked late (escalation stops
 * for the unit at the next sweep). A repeat for the same unit and cycle returns the first record unchanged.
 */
export async function recordSubmission(
  catalog: Catalog,
  req: SubmissionRequest,
): Promise<{ created: boolean; submission: Submission }> {
  const duty = catalog.get(req.dutyId);
  if (!duty)
    throw new NotFoundError(`unknown duty ${req.dutyId}`, `未知的职责：${req.dutyId}`, [
      { field: 'dutyId', problem: '未知的职责' },
    ]);
  const plan = planCycle(duty, req.periodKey);
  const cycle = await getCycle(duty.id, plan.periodKey);
  if (!cycle) {
    throw new NotFoundError(
      `no cycle ${duty.id} ${plan.periodKey}`,
      `该周期尚未开始：${duty.titleZh} ${plan.periodKey}`,
      [{ field: 'periodKey', problem: '该周期尚未开始' }],
    );
  }
  const unit = await getUnit(req.unitId);
  if (!unit || !unit.active) {
    throw new NotFoundError(`unknown unit ${req.unitId}`, `未知或已停用的单位：${req.unitId}`, [
      { field: 'unitId', problem: '未知或已停用的单位' },
    ]);
  }
  const supervisors = duty.scope?.supervisorsOf
    ? await supervisorsOfMarked(duty.scope.supervisorsOf)
    : undefined;
  if (!inDutyScope(duty, unit, supervisors)) {
    throw new UnprocessableError(
      `unit ${unit.id} is not responsible for ${duty.id}`,
      `${unit.name}不是“${duty.titleZh}”的责任单位`,
      [{ field: 'unitId', problem: `${UNIT_KIND_ZH[unit.kind]}不承担此项职责` }],
    );
  }
  const now = clock.now();
  const submission: Submission = {
    dutyId: duty.id,
    periodKey: plan.periodKey,
    unitId: unit.id,
    submittedAt: toShanghaiIso(now),
    late: now.getTime() > Date.parse(plan.deadline),
    note: req.note,
    evidence: req.evidence,
    recordedBy: req.recordedBy,
  };
  const result = await putSubmission(submission);
  if (result.created) {
    await appendAudit({
      subject: cycleSubject(duty.id, plan.periodKey),
      at: submission.submittedAt,
      actor: req.recordedBy,
      action: submission.late ? 'submission-late' : 'submission',
      route: req.route,
      details: { unitId: unit.id },
    });
  }
  return result;
}
