import type { Catalog } from '../../../workflows/catalog/index.ts';
import { pageOf } from '../paging.ts';
import { shanghaiDateOf, toShanghaiIso } from '../../../workflows/calendar.ts';
import { clock } from '../../core/clock.ts';
import { cycleOverdueSource } from '../../core/overdue-cycles.ts';
import { listOverdue, overdueCsv, registerOverdueSource } from '../../core/overdue-ledger.ts';
import { requireAdmin } from '../auth.ts';
import { json, text } from '../respond.ts';
import type { Router } from '../router.ts';
import { overdueQuerySchema } from '../schemas.ts';

/** The overdue ledger (一个不放心名单) across cycles and cases, as JSON or as CSV for Excel. */
export function registerOverdueRoutes(router: Router, catalog: Catalog): void {
  registerOverdueSource(cycleOverdueSource(catalog));

  router.add(
    'GET',
    '/overdue',
    async (req) => {
      requireAdmin(req);
      const q = overdueQuerySchema.parse(req.query);
      const now = clock.now();
      const items = await listOverdue(now);
      if (q.format === 'csv') {
        return text(200, overdueCsv(items), 'text/csv; charset=utf-8', {
          'content-disposition': `attachment; filename="overdue-${shanghaiDateOf(now)}.csv"`,
        });
      }
      // Most overdue first, then the highest level, then by unit and item: a stable order for the cursor.
      const page = pageOf(
        items,
        (i) =>
          `${String(99_999 - i.workdaysOverdue).padStart(5, '0')} ${String(99 - i.escalationLevel).padStart(2, '0')} ${i.unitId} ${i.item}`,
        q,
      );
      return json(200, {
        asOf: toShanghaiIso(now),
        count: page.items.length,
        total: page.total,
        next: page.next,
        items: page.items,
      });
    },
    {
      summary: 'The overdue ledger (一个不放心名单)',
      description:
        'Every open overdue item: units that have not done a duty cycle past its deadline (open cycles, and the ' +
        'defaulters of cycles whose deadline is at most 31 days old), and open overdue case items. Each with the ' +
        'unit, the item, working days overdue and the escalation level reached; most overdue first. ' +
        '`format=csv` gives a UTF-8 CSV with a byte order mark, so Excel shows the Chinese correctly.',
      tags: ['逾期与审计'],
      auth: 'admin',
      query: overdueQuerySchema,
      responses: {
        200: { description: '`{ asOf, count, items }`, or the CSV (`format=csv`)' },
      },
    },
  );
}
