import { parseDate } from '../../../workflows/calendar.ts';
import type { Catalog } from '../../../workflows/catalog/index.ts';
import { planCycle } from '../../../workflows/plan.ts';
import { listAudit } from '../../adapters/audit.ts';
import { auditKey, parseAuditSubject, publicSubject } from '../../core/audit-subjects.ts';
import { ValidationError } from '../../core/errors.ts';
import { requireAdmin } from '../auth.ts';
import { cursorKey, cursorOf, pageLimit } from '../paging.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import { auditQuerySchema } from '../schemas.ts';

/** Who did what to a subject, when, and through which route. */
export function registerAuditRoutes(router: Router, catalog: Catalog): void {
  router.add(
    'GET',
    '/audit',
    async (req) => {
      requireAdmin(req);
      const q = auditQuerySchema.parse(req.query);
      const subject = parseAuditSubject(q.subject);
      if (subject.kind === 'cycle') {
        // An unknown duty is 404, a period key that is not one of the duty's periods 400.
        subject.periodKey = planCycle(catalog.require(subject.dutyId), subject.periodKey).periodKey;
      }
      for (const field of ['from', 'to'] as const) {
        const v = q[field];
        if (v === undefined) continue;
        try {
          parseDate(v);
        } catch {
          throw new ValidationError(`bad ${field} date`, '日期有误', [
            { field, problem: '不是有效日期（YYYY-MM-DD）' },
          ]);
        }
      }
      if (q.from && q.to && q.from > q.to)
        throw new ValidationError('from after to', '起始日期晚于结束日期', [
          { field: 'from', problem: '不能晚于结束日期（to）' },
        ]);
      const after = cursorKey(q);
      // A cursor from a listing with another range would resume outside this one.
      if (after !== undefined && ((q.from && after < q.from) || (q.to && after > `${q.to}~`)))
        throw new ValidationError(
          'cursor outside the range',
          '翻页参数 cursor 与日期范围不符，请从第一页重新查询',
          [{ field: 'cursor', problem: '应来自相同起止日期的上一页' }],
        );
      const page = await listAudit(auditKey(subject), {
        limit: pageLimit(q),
        ...(q.from ? { from: q.from } : {}),
        ...(q.to ? { to: q.to } : {}),
        ...(after !== undefined ? { after } : {}),
      });
      return json(200, {
        subject: q.subject,
        count: page.entries.length,
        next: page.next !== undefined ? cursorOf(page.next) : null,
        entries: page.entries.map((e) => ({ ...e, subject: publicSubject(e.subject) })),
      });
    },
    {
      summary: 'Audit entries of a subject',
      description:
        'Subjects: `cycle:<dutyId>:<periodKey>` (submissions), `unit:<id>` and `leader:<id>` (roster changes), ' +
        '`case:<id>` (case events). Each entry has the instant, the actor (`admin:<name>`, `unit-link:<unit>`), ' +
        'the action, the route and details; oldest first, paged (`limit`, default 200, at most 1000; `cursor` = ' +
        "the previous page's `next`), and narrowed by day with `from`/`to`.",
      tags: ['逾期与审计'],
      auth: 'admin',
      query: auditQuerySchema,
      responses: { 200: { description: '`{ subject, count, next, entries }`' } },
      errors: [404],
    },
  );
}
