import type { Catalog } from '../../../workflows/catalog/index.ts';
import { shanghaiDateOf } from '../../../workflows/calendar.ts';
import { periodKeyOf } from '../../../workflows/periods.ts';
import { periodKindOfDuty } from '../../../workflows/plan.ts';
import { clock } from '../../core/clock.ts';
import { randomBytes } from 'node:crypto';
import { appendAudit } from '../../adapters/audit.ts';
import { startCycleExecution } from '../../adapters/cycle-starter.ts';
import { createAdhocDuty, getAdhocDuty, listAdhocDuties } from '../../adapters/duty-store.ts';
import { activeRoster, getUnit } from '../../adapters/store.ts';
import { adhocDutyBodySchema, buildAdhocDuty, requestDigest } from '../../core/adhoc-duties.ts';
import { auditKey } from '../../core/audit-subjects.ts';
import type { LiveCatalog } from '../../core/duty-catalog.ts';
import { createCycle } from '../../core/cycle.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
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

const tags = ['职责与周期'];

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
          { field: 'id', problem: 'unknown duty' },
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
      const { duty, body, responsibleCount } = await buildAdhocDuty(req.body ?? {}, {
        catalog,
        nowMs,
        newId: () =>
          `adhoc-${shanghaiDateOf(new Date(nowMs)).replace(/-/g, '')}-${randomBytes(2).toString('hex')}`,
        roster: {
          unit: getUnit,
          activeOfKinds: async (kinds) => (await activeRoster(kinds)).units,
        },
      });
      const periodKey = duty.once?.periodKey ?? '';
      const digest = requestDigest({ ...body, id: duty.id });
      const existing = await getAdhocDuty(duty.id);
      if (existing && existing.meta.requestDigest !== digest)
        throw new ConflictError(`duty ${duty.id} exists`, `职责编号已存在：${duty.id}`, [
          { field: 'id', problem: 'already exists' },
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
      // Planned once: the audit, the cycle record and the answer name the same deadline.
      const plan = planCycle(stored.duty, periodKey);
      if (!existing) {
        await createAdhocDuty(stored);
        await appendAudit({
          subject: auditKey({ kind: 'cycle', dutyId: duty.id, periodKey }),
          at: toShanghaiIso(new Date(nowMs)),
          actor: ctx.actor,
          action: 'adhoc-duty-created',
          route: ctx.route,
          details: { titleZh: duty.titleZh, deadline: plan.deadline, responsibleCount },
        });
      }
      if ('put' in catalog) catalog.put(stored.duty);
      // Written first, started second: a retry of a request whose start failed starts it (same name, once).
      // The record exists before the first step, so a unit can report the moment the duty is announced.
      await createCycle(stored.duty, plan, new Date(nowMs));
      await startCycleExecution(duty.id, periodKey);
      return json(existing ? 200 : 201, {
        ...withCurrentPeriod(stored.duty),
        ...stored.meta,
        periodKey,
        deadlineAt: plan.deadline,
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
          deadlineAt: planCycle(r.duty, r.duty.once?.periodKey ?? '').deadline,
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
