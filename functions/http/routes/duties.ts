import type { Catalog } from '../../../workflows/catalog/index.ts';
import { shanghaiDateOf } from '../../../workflows/calendar.ts';
import { periodKeyOf } from '../../../workflows/periods.ts';
import { periodKindOfDuty } from '../../../workflows/plan.ts';
import { clock } from '../../core/clock.ts';
import { randomBytes } from 'node:crypto';
import { appendAudit } from '../../adapters/audit.ts';
import { startCycleExecution } from '../../adapters/cycle-starter.ts';
import {
  createAdhocDuty,
  getAdhocDuty,
  listAdhocDuties,
  replaceAdhocDuty,
} from '../../adapters/duty-store.ts';
import { dutyRoster, getCycle, getUnit, reviseCycle } from '../../adapters/store.ts';
import { startExecutionOnce } from '../../adapters/executions.ts';
import { cycleExecutionName } from '../../core/dispatch.ts';
import { dutySchema, type Duty } from '../../../workflows/catalog/schema.ts';
import { adhocTemplates } from '../../core/adhoc-templates.ts';
import {
  adhocDutyBodySchema,
  buildAdhocDuty,
  cancelBodySchema,
  cancelDuty,
  changeDutyUnits,
  extendBodySchema,
  extendDuty,
  changePeriod,
  requestDigest,
  unitsChangeBodySchema,
  type Revision,
} from '../../core/adhoc-duties.ts';
import { auditKey } from '../../core/audit-subjects.ts';
import type { LiveCatalog } from '../../core/duty-catalog.ts';
import { createCycle } from '../../core/cycle.ts';
import { ConflictError, NotFoundError, ValidationError, fieldPath } from '../../core/errors.ts';
import { toShanghaiIso } from '../../../workflows/calendar.ts';
import { planCycle } from '../../../workflows/plan.ts';
import { adminContext } from './units.ts';
import { requireAdmin } from '../auth.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import { pageOf, pagingQuery } from '../paging.ts';
import { dutyParamsSchema, noQuerySchema } from '../schemas.ts';
import { z } from 'zod';

const adhocListQuerySchema = z.object({ ...pagingQuery }).strict();
const templatesQuerySchema = z
  .object({
    year: z
      .string()
      .regex(/^\d{4}$/, '应为四位年份，如 2023')
      .transform(Number)
      .optional()
      .meta({ example: '2023' }),
  })
  .strict();

const tags = ['职责与周期'];

/** Where an ad-hoc duty's audit entries go: its one period, or a recurring duty's first. */
function auditPeriod(duty: Duty, nowMs: number): string {
  if (duty.once) return duty.once.periodKey;
  const first = duty.activeDates?.from ?? shanghaiDateOf(new Date(nowMs));
  return periodKeyOf(periodKindOfDuty(duty), first);
}

/** The duty catalog, as loaded (built-in duties of the notice, plus a deployment's own file). */
export function registerDutyRoutes(router: Router, catalog: Catalog | LiveCatalog): void {
  const withCurrentPeriod = <T extends Parameters<typeof periodKindOfDuty>[0]>(d: T) => ({
    ...d,
    currentPeriodKey: periodKeyOf(periodKindOfDuty(d), shanghaiDateOf(clock.now())),
  });

  router.add(
    'GET',
    '/duties',
    async (req) => {
      requireAdmin(req);
      noQuerySchema.parse(req.query);
      return json(200, { count: catalog.duties.length, duties: catalog.duties.map(withCurrentPeriod) });
    },
    {
      summary: 'The duty catalog',
      description:
        'Every duty with the clause of the notice it comes from, and the key of its current period.',
      tags,
      auth: 'admin',
      responses: { 200: { description: '`{ count, duties }`' } },
    },
  );

  router.add(
    'GET',
    '/duties/{id}',
    async (req) => {
      requireAdmin(req);
      const { id } = dutyParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const duty = catalog.get(id);
      if (!duty)
        throw new NotFoundError(`unknown duty ${id}`, `未知的职责：${id}`, [
          { field: 'id', problem: '未知的职责' },
        ]);
      return json(200, withCurrentPeriod(duty));
    },
    {
      summary: 'One duty',
      tags,
      auth: 'admin',
      params: dutyParamsSchema,
      responses: { 200: { description: 'the duty, with `currentPeriodKey`' } },
      errors: [404],
    },
  );

  router.add(
    'POST',
    '/duties',
    async (req) => {
      const ctx = adminContext(req);
      noQuerySchema.parse(req.query);
      const nowMs = clock.nowMs();
      const built = await buildAdhocDuty(req.body ?? {}, {
        catalog,
        nowMs,
        newId: () =>
          `adhoc-${shanghaiDateOf(new Date(nowMs)).replace(/-/g, '')}-${randomBytes(2).toString('hex')}`,
        roster: { unit: getUnit, responsible: async (d) => (await dutyRoster(d)).units },
      });
      const { duty, body, responsibleCount, periodKey } = built;
      const digest = requestDigest({ ...body, id: duty.id });
      const existing = await getAdhocDuty(duty.id);
      if (existing && existing.meta.requestDigest !== digest)
        throw new ConflictError(`duty ${duty.id} exists`, `职责编号已存在：${duty.id}`, [
          { field: 'id', problem: '编号已存在' },
        ]);
      const stored = existing ?? {
        duty,
        meta: {
          instructionZh: body.instructionZh,
          ...(body.documentNo ? { documentNo: body.documentNo } : {}),
          createdAt: toShanghaiIso(new Date(nowMs)),
          createdBy: ctx.actor,
          status: 'active' as const,
          requestDigest: digest,
          version: 1,
        },
      };
      // Planned once: the audit, the cycle record and the answer name the same deadline. A recurring duty whose
      // first period has not begun (or whose current deadline has passed) starts with the dispatcher.
      const plan = periodKey ? planCycle(stored.duty, periodKey) : undefined;
      if (!existing) {
        await createAdhocDuty(stored);
        await appendAudit({
          subject: auditKey({ kind: 'cycle', dutyId: duty.id, periodKey: auditPeriod(stored.duty, nowMs) }),
          at: toShanghaiIso(new Date(nowMs)),
          actor: ctx.actor,
          action: 'adhoc-duty-created',
          route: ctx.route,
          details: {
            titleZh: duty.titleZh,
            ...(plan ? { deadline: plan.deadline } : {}),
            ...(duty.activeDates ? { activeDates: duty.activeDates } : {}),
            responsibleCount,
          },
        });
      }
      if ('put' in catalog) catalog.put(stored.duty);
      if (plan && periodKey) {
        // Written first, started second: a retry of a request whose start failed starts it (same name, once).
        // The record exists before the first step, so a unit can report the moment the duty is announced.
        await createCycle(stored.duty, plan, new Date(nowMs));
        await startCycleExecution(duty.id, periodKey);
      }
      return json(existing ? 200 : 201, {
        ...withCurrentPeriod(stored.duty),
        ...stored.meta,
        periodKey: periodKey ?? null,
        deadlineAt: plan?.deadline ?? null,
        responsibleCount,
      });
    },
    {
      summary: 'Create an ad-hoc duty (专项工作) and start its cycle',
      description:
        'A one-off duty outside the catalog: title, instruction, document number, who is responsible (unit ' +
        'kinds, narrowed to towns, departments or named units), the deadline (a date and time, or a number of ' +
        'working days from today) and optionally its own reminders and escalation ladder (default: reminders two ' +
        'working days and four hours before; escalations 1, 2 and 3 working days after, up to 安委办). It runs as ' +
        'a cycle like every catalog duty, with period `<year of the deadline>`. Everything is checked before ' +
        'anything is written; the same request again returns the same duty (200).',
      tags,
      auth: 'admin',
      body: adhocDutyBodySchema,
      responses: {
        201: { description: 'the duty, its deadline and the number of responsible units' },
        200: { description: 'the same request again: the duty as created' },
      },
      errors: [409],
    },
  );

  /**
   * One change to a running ad-hoc duty: the duty is rewritten over the version read (the truth), audited, and
   * its cycle record revised with a new execution generation, started at once so the units are told now; the
   * waiting execution ends at its next wake. The same request again (a retry after a failure half-way) finds the
   * change applied and does the rest.
   */
  const revise = async (
    req: Parameters<typeof adminContext>[0],
    action: 'adhoc-duty-extended' | 'adhoc-duty-cancelled' | 'adhoc-duty-units-changed',
    apply: (duty: Duty, nowMs: number) => Promise<Revision | undefined>,
  ) => {
    const ctx = adminContext(req);
    noQuerySchema.parse(req.query);
    const { id } = dutyParamsSchema.parse(req.params);
    const nowMs = clock.nowMs();
    const current = await getAdhocDuty(id);
    if (!current)
      throw new NotFoundError(`unknown ad-hoc duty ${id}`, `未知的专项工作：${id}`, [
        { field: 'id', problem: '未知的专项工作' },
      ]);
    const periodKey = changePeriod(current.duty, nowMs);
    const found = await getCycle(id, periodKey);
    const cancelling = action === 'adhoc-duty-cancelled';
    if (current.meta.status === 'cancelled' && !cancelling)
      throw new ConflictError(`duty ${id} cancelled`, '该专项工作已取消，不能再修改', [
        { field: 'id', problem: '已取消' },
      ]);
    const running = found && (found.status === 'open' || found.status === 'cancelled') ? found : undefined;
    // A one-off duty is its one cycle; a recurring duty changes for its later periods whatever its current one.
    if (current.duty.once && !running)
      throw new ConflictError(`cycle of ${id} not open`, '该专项工作已经结束，不能再修改', [
        { field: 'id', problem: '已结束' },
      ]);
    const revision = await apply(current.duty, nowMs);
    let stored = current;
    if (revision) {
      // Checked like every stored duty before it is written: one bad record would stop every reader of the catalog.
      const checked = dutySchema.safeParse(revision.duty);
      if (!checked.success)
        throw new ValidationError('invalid change', '修改后的专项工作设置有误', [
          ...checked.error.issues.map((i) => ({ field: fieldPath(i.path), problem: i.message })),
        ]);
      stored = {
        duty: revision.duty,
        meta: {
          ...current.meta,
          version: current.meta.version + 1,
          ...(revision.duty.adhoc?.cancelled
            ? {
                status: 'cancelled' as const,
                cancelledAt: revision.duty.adhoc.cancelled.at,
                cancelReasonZh: revision.duty.adhoc.cancelled.reasonZh,
              }
            : {}),
        },
      };
      await replaceAdhocDuty(stored, current.meta.version);
      await appendAudit({
        subject: auditKey({ kind: 'cycle', dutyId: id, periodKey }),
        at: toShanghaiIso(new Date(nowMs)),
        actor: ctx.actor,
        action,
        route: ctx.route,
        details: { changes: revision.changes },
      });
    }
    if ('put' in catalog) catalog.put(stored.duty);
    const plan = planCycle(stored.duty, periodKey);
    const cancelled = stored.duty.adhoc?.cancelled;
    if (running) {
      const generation = running.generation + 1;
      await reviseCycle(id, periodKey, {
        deadline: plan.deadline,
        revision: stored.duty.once?.revision ?? 1,
        generation,
        ...(cancelled ? { cancelledAt: cancelled.at } : {}),
      });
      await startExecutionOnce('CYCLE_STATE_MACHINE_ARN', cycleExecutionName(id, periodKey, generation), {
        dutyId: id,
        periodKey,
      });
    }
    return json(200, {
      ...stored.meta,
      ...withCurrentPeriod(stored.duty),
      periodKey,
      deadlineAt: plan.deadline,
      applied: revision?.changes ?? [],
    });
  };
  const changeDoc = {
    tags,
    auth: 'admin' as const,
    params: dutyParamsSchema,
    errors: [404, 409],
  };

  router.add(
    'POST',
    '/adhoc-duties/{id}/units',
    (req) =>
      revise(req, 'adhoc-duty-units-changed', (duty, nowMs) =>
        changeDutyUnits(duty, req.body ?? {}, {
          nowMs,
          unit: getUnit,
          responsible: async (d) => (await dutyRoster(d)).units,
        }),
      ),
    {
      ...changeDoc,
      summary: 'Add units to an ad-hoc duty or remove them',
      description:
        'Units added (any kind, before the deadline) are told and then reminded like the others; units removed ' +
        'are told they need not report, and nothing further is sent to them.',
      body: unitsChangeBodySchema,
      responses: { 200: { description: 'the duty as changed' } },
    },
  );

  router.add(
    'POST',
    '/adhoc-duties/{id}/extend',
    (req) =>
      revise(req, 'adhoc-duty-extended', async (duty, nowMs) => extendDuty(duty, req.body ?? {}, nowMs)),
    {
      ...changeDoc,
      summary: "Extend an ad-hoc duty's deadline",
      description:
        'A later deadline in the same year. Reminders and escalations are planned anew from it; those of the old ' +
        'deadline still pending are not sent. The units that have not reported are told once.',
      body: extendBodySchema,
      responses: { 200: { description: 'the duty as changed, with `applied` (empty: already applied)' } },
    },
  );

  router.add(
    'POST',
    '/adhoc-duties/{id}/cancel',
    (req) =>
      revise(req, 'adhoc-duty-cancelled', async (duty, nowMs) => cancelDuty(duty, req.body ?? {}, nowMs)),
    {
      ...changeDoc,
      summary: 'Cancel an ad-hoc duty',
      description:
        'With a reason. The cycle closes as cancelled (no defaulters), nothing further is sent, and the units ' +
        'that have not reported are told once, with the reason.',
      body: cancelBodySchema,
      responses: { 200: { description: 'the duty as cancelled' } },
    },
  );

  router.add(
    'GET',
    '/adhoc-templates',
    async (req) => {
      requireAdmin(req);
      const q = templatesQuerySchema.parse(req.query);
      const { templates, unavailable } = adhocTemplates(clock.nowMs(), q.year);
      return json(200, { count: templates.length, templates, unavailable });
    },
    {
      summary: 'Templates for the usual ad-hoc duties',
      description:
        '节前安全检查 before Spring Festival, 五一 and 国庆, and the pre-flood-season check, each with the request ' +
        'that creates it (POST /duties) and its deadline computed from the official calendar: the second working ' +
        'day before the rest (or the season) begins, 18:00. Without `year`, each for the first year whose ' +
        'deadline is still ahead; a year without the official holiday arrangement is refused.',
      tags,
      auth: 'admin',
      query: templatesQuerySchema,
      responses: { 200: { description: '`{ count, templates }`' } },
    },
  );

  router.add(
    'GET',
    '/adhoc-duties',
    async (req) => {
      requireAdmin(req);
      const q = adhocListQuerySchema.parse(req.query);
      const page = pageOf(await listAdhocDuties(), (r) => r.duty.id, q);
      return json(200, {
        count: page.items.length,
        total: page.total,
        next: page.next,
        duties: page.items.map((r) => ({
          ...r.meta,
          ...withCurrentPeriod(r.duty),
          deadlineAt: r.duty.once ? planCycle(r.duty, r.duty.once.periodKey).deadline : null,
        })),
      });
    },
    {
      summary: 'The ad-hoc duties administrators created',
      description:
        'With their instruction, document number, status and deadline; by id, paged (`limit`, `cursor`).',
      tags,
      query: adhocListQuerySchema,
      auth: 'admin',
      responses: { 200: { description: '`{ count, duties }`' } },
    },
  );
}
