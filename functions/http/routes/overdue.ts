import type { Catalog } from '../../../workflows/catalog/index.ts';
import { pageOf } from '../paging.ts';
import { shanghaiDateOf, toShanghaiIso } from '../../../workflows/calendar.ts';
import { clock } from '../../core/clock.ts';
import { cycleOverdueSource } from '../../core/overdue-cycles.ts';
import {
  OVERDUE_CSV_HEADER,
  filterOverdue,
  listOverdue,
  overdueRows,
  placeOverdue,
  registerOverdueSource,
} from '../../core/overdue-ledger.ts';
import { UNIT_KINDS } from '../../../workflows/catalog/schema.ts';
import { listUnits } from '../../adapters/store.ts';
import { tableDownload } from '../table-export.ts';
import { requireAdmin } from '../auth.ts';
import { json } from '../respond.ts';
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
      const [all, units] = await Promise.all([
        listOverdue(now),
        listUnits({ kinds: UNIT_KINDS, includeInactive: true }),
      ]);
      const placed = placeOverdue(all, new Map(units.map((u) => [u.id, u])));
      const items = filterOverdue(placed, {
        ...q,
        level: q.level === undefined ? undefined : Number(q.level),
      });
      if (q.format === 'csv' || q.format === 'xlsx') {
        const date = shanghaiDateOf(now);
        return tableDownload(
          q.format,
          { title: `逾期清单-${date}`, name: `overdue-${date}` },
          OVERDUE_CSV_HEADER,
          overdueRows(items),
        );
      }
      const byLevel: Record<string, number> = {};
      for (const i of items) byLevel[i.escalationLevel] = (byLevel[i.escalationLevel] ?? 0) + 1;
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
        byLevel,
        next: page.next,
        items: page.items,
      });
    },
    {
      summary: 'The overdue ledger (一个不放心名单)',
      description:
        'Every open overdue item: units that have not done a duty cycle past its deadline (open cycles, and the ' +
        'defaulters of cycles whose deadline is at most 31 days old), and open overdue case items. Each with the ' +
        'unit, its town and supervising department, the item, working days overdue and the escalation level ' +
        'reached; most overdue first. Filters: `town`, `department`, `duty`, `period`, `level`, `kind`, `unit` ' +
        '(`byLevel` counts the filtered items per level). `format=csv` gives a UTF-8 CSV with a byte order ' +
        'mark, so Excel shows the Chinese correctly, and `format=xlsx` a workbook; both with the town and ' +
        'department columns and dates written in Chinese.',
      tags: ['逾期与审计'],
      auth: 'admin',
      query: overdueQuerySchema,
      responses: {
        200: { description: '`{ asOf, count, total, byLevel, next, items }`, or the CSV or workbook' },
      },
    },
  );
}
