import type { Catalog } from '../../../workflows/catalog/index.ts';
import { shanghaiDateOf } from '../../../workflows/calendar.ts';
import { periodKeyOf } from '../../../workflows/periods.ts';
import { periodKindOfDuty } from '../../../workflows/plan.ts';
import { clock } from '../../core/clock.ts';
import { NotFoundError } from '../../core/errors.ts';
import { requireAdmin } from '../auth.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import { dutyParamsSchema, noQuerySchema } from '../schemas.ts';

const tags = ['职责与周期'];

/** The duty catalog, as loaded (built-in duties of the notice, plus a deployment's own file). */
export function registerDutyRoutes(router: Router, catalog: Catalog): void {
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
}
