import { addDays, parseDate, shanghaiDateOf, toShanghaiIso } from '../../../workflows/calendar.ts';
import type { Catalog } from '../../../workflows/catalog/index.ts';
import { planCycle } from '../../../workflows/plan.ts';
import { queryDeliveries, type DeliveryCursor } from '../../adapters/outbox-store.ts';
import { dutyRoster, getCycle, listSubmissions } from '../../adapters/store.ts';
import { clock } from '../../core/clock.ts';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { instantLabel, periodLabel } from '../../core/labels.ts';
import type { UnitRecord } from '../../core/model.ts';
import { escalationLevelReached, workdaysOverdue } from '../../core/overdue.ts';
import { escalates } from '../../notices/cycle-notices.ts';
import { requireAdmin, requireLink } from '../auth.ts';
import { escapeHtml, page, wantsHtml } from '../pages.ts';
import { html, json } from '../respond.ts';
import type { Router } from '../router.ts';
import { DELIVERY_PAGE_MAX, deliveryQuerySchema, escalationParamsSchema } from '../schemas.ts';

/** The longest span one listing covers. */
const MAX_SPAN_DAYS = 92;

function encodeCursor(c: DeliveryCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(s: string): DeliveryCursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as DeliveryCursor;
    if (typeof c !== 'object' || c === null) throw new Error('not an object');
    return c;
  } catch {
    throw new ValidationError('bad cursor', '翻页参数 cursor 无效，请从第一页重新查询', [
      { field: 'cursor', problem: '应为上一页返回的 next' },
    ]);
  }
}

function checkDate(field: 'from' | 'to', v: string): void {
  try {
    parseDate(v);
  } catch {
    throw new ValidationError(`bad ${field} date`, '日期有误', [
      { field, problem: '不是有效日期（YYYY-MM-DD）' },
    ]);
  }
}

/** Who an escalation's overdue link was for, and the units it may show. */
function inScope(scope: string, u: UnitRecord): boolean {
  const [kind, id] = scope.split(':');
  if (kind === 'department') return u.supervisingDepartmentId === id;
  if (kind === 'leader') return u.leaderInChargeId === id;
  return kind === 'office';
}

/** The delivery record, and the read-only overdue list an escalation email links to. */
export function registerDeliveryRoutes(router: Router, catalog: Catalog): void {
  router.add(
    'GET',
    '/deliveries',
    async (req) => {
      requireAdmin(req);
      const q = deliveryQuerySchema.parse(req.query);
      const to = q.to ?? shanghaiDateOf(clock.now());
      const from = q.from ?? addDays(to, -6);
      checkDate('from', from);
      checkDate('to', to);
      if (from > to)
        throw new ValidationError('from after to', '起始日期晚于结束日期', [
          { field: 'from', problem: '不能晚于结束日期（to）' },
        ]);
      if (addDays(from, MAX_SPAN_DAYS - 1) < to)
        throw new ValidationError('span too long', `查询时间跨度不能超过 ${MAX_SPAN_DAYS} 天`, [
          { field: 'from', problem: `起止日期相隔不能超过 ${MAX_SPAN_DAYS} 天` },
        ]);
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (limit < 1 || limit > DELIVERY_PAGE_MAX)
        throw new ValidationError('bad limit', `每页条数应为 1 到 ${DELIVERY_PAGE_MAX}`, [
          { field: 'limit', problem: `应为1至${DELIVERY_PAGE_MAX}` },
        ]);
      const page = await queryDeliveries({
        from,
        to,
        limit,
        ...(q.recipient ? { recipient: q.recipient } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.subject ? { subject: q.subject } : {}),
        ...(q.cursor ? { cursor: decodeCursor(q.cursor) } : {}),
      });
      return json(200, {
        from,
        to,
        count: page.records.length,
        deliveries: page.records,
        next: page.cursor ? encodeCursor(page.cursor) : null,
      });
    },
    {
      summary: 'The delivery record: every email sent, refused or suppressed',
      description:
        'Newest first. Each email has its recipient, the virtual (locally) or real send time, status (`sent`, ' +
        '`failed`: the mail service refused it for good, `suppressed`: not sent to an address known to be ' +
        'undeliverable), the provider message id, its subject line and the notices it carried. Narrow by ' +
        '`recipient`, `status`, `subject` (`CYCLE#<duty>#<period>`, `CASE#<id>`) and days `from`..`to` (at most ' +
        `${MAX_SPAN_DAYS}); page with \`limit\` and \`cursor\` (the previous page's \`next\`).`,
      tags: ['逾期与审计'],
      auth: 'admin',
      query: deliveryQuerySchema,
      responses: { 200: { description: '`{ from, to, count, deliveries, next }`' } },
    },
  );

  router.add(
    'GET',
    '/escalations/{token}',
    async (req) => {
      const params = escalationParamsSchema.parse(req.params);
      const link = await requireLink(params.token);
      const m = /^overdue:([^:]+):([^:]+)$/.exec(link.i);
      if (!m) throw new NotFoundError('not an escalation link', '该链接不是逾期清单链接');
      const duty = catalog.require(m[1] as string);
      const plan = planCycle(duty, m[2] as string);
      const [cycle, roster, subs] = await Promise.all([
        getCycle(duty.id, plan.periodKey),
        dutyRoster(duty),
        listSubmissions(duty.id, plan.periodKey),
      ]);
      if (!cycle) throw new NotFoundError('no such cycle', '周期不存在');
      const now = clock.nowMs();
      const submitted = new Set(subs.map((s) => s.unitId));
      const today = shanghaiDateOf(new Date(now));
      const overdue = Date.parse(plan.deadline) < now ? workdaysOverdue(plan.deadline, today) : 0;
      const units = roster.units
        .filter(
          (u) =>
            !submitted.has(u.id) && inScope(link.u, u) && escalates(u, plan.deadline, cycle.trackedSince),
        )
        .filter(() => Date.parse(plan.deadline) < now)
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((u) => ({
          unitId: u.id,
          name: u.name,
          contactName: u.contact.name,
          contactPhone: u.contact.phone ?? null,
          principalName: u.principal.name,
          workdaysOverdue: overdue,
          escalationLevel: escalationLevelReached(
            plan,
            cycle.stagesDone,
            u,
            undefined,
            cycle.trackedSince,
            now,
          ),
        }));
      const title = `${duty.titleZh}（${periodLabel(plan.periodKey, plan.period.start, plan.period.end)}）`;
      if (!wantsHtml(req))
        return json(200, {
          dutyId: duty.id,
          periodKey: plan.periodKey,
          titleZh: title,
          deadline: plan.deadline,
          units,
        });
      const rows = units
        .map(
          (u, i) =>
            `<tr><td>${i + 1}</td><td>${escapeHtml(u.name)}</td><td>${escapeHtml(u.contactName)}</td><td>${escapeHtml(u.contactPhone ?? '未登记')}</td><td>${escapeHtml(u.principalName)}</td><td>${u.workdaysOverdue}</td><td>第${u.escalationLevel}级</td></tr>`,
        )
        .join('');
      const body =
        `<p>${escapeHtml(title)}<br>截止时间：${escapeHtml(instantLabel(plan.deadline))}</p>` +
        (units.length === 0
          ? '<p>目前没有逾期未完成的单位。</p>'
          : `<p>截至${escapeHtml(instantLabel(toShanghaiIso(new Date(now))))}，以下${units.length}个单位尚未完成：</p>` +
            '<table border="1" cellpadding="5" style="border-collapse:collapse;font-size:.95rem">' +
            '<tr><th>序号</th><th>单位</th><th>联系人</th><th>联系电话</th><th>主要负责人</th><th>逾期工作日</th><th>督办级别</th></tr>' +
            `${rows}</table>`) +
        '<p style="color:#666">本页只读，内容随单位提交实时更新。</p>';
      return html(200, page('逾期单位清单', body));
    },
    {
      summary: 'The overdue list an escalation email links to (read-only)',
      description:
        'The units of the cycle that have not done it, as far as the reader supervises them (their department, ' +
        "the county leader's sector, or all for 安委办), with contacts, working days overdue and the level reached. " +
        'A browser gets a page, API clients JSON. No login: the signed link is the credential (403 forged, 410 ' +
        'expired).',
      tags: ['单位链接'],
      auth: 'link',
      params: escalationParamsSchema,
      responses: { 200: { description: 'the list', contentType: 'text/html' } },
      errors: [403, 404, 410],
      page: { back: () => ({ href: '/', text: '返回' }) },
    },
  );
}
