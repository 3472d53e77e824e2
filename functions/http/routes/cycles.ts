import type { Catalog } from '../../../workflows/catalog/index.ts';
import { pageOf } from '../paging.ts';
import { planCycle } from '../../../workflows/plan.ts';
import { parsePeriodKey } from '../../../workflows/periods.ts';
import {
  dutyRoster,
  defaulterCount,
  getCycle,
  getUnit,
  listCycles,
  listDefaulters,
  listSubmissions,
} from '../../adapters/store.ts';
import { submissionSchema, type CycleRecord } from '../../core/model.ts';
import { recordSubmission } from '../../core/submissions.ts';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { cycleItem } from '../../core/links.ts';
import { clock } from '../../core/clock.ts';
import { escalationLevelReached } from '../../core/overdue.ts';
import { instantLabel, periodLabel } from '../../core/labels.ts';
import { requireAdmin, requireLink, requireLinkFor } from '../auth.ts';
import { escapeHtml, page } from '../pages.ts';
import { html, json } from '../respond.ts';
import type { Router } from '../router.ts';
import {
  cycleListQuerySchema,
  cycleParamsSchema,
  cycleUnitsQuerySchema,
  linkParamsSchema,
  linkSubmissionBodySchema,
  noQuerySchema,
  submissionBodySchema,
} from '../schemas.ts';
import type { ApiRequest } from '../types.ts';

/** `cycle:<dutyId>:<periodKey>` → its parts. */
function parseCycleItem(item: string): { dutyId: string; periodKey: string } | undefined {
  const m = /^cycle:([^:]+):([^:]+)$/.exec(item);
  return m ? { dutyId: m[1] as string, periodKey: m[2] as string } : undefined;
}

const linkTags = ['单位链接'];
/** Errors of the link page reach a browser as a page, with the way back to the link. */
const linkPage = {
  back: (req: ApiRequest) => ({ href: req.path, text: '返回填报页面' }),
  labels: { note: '完成情况说明', 'evidence.minutes': '会议纪要或记录', 'evidence.attendees': '参会人员' },
};
const cycleTags = ['职责与周期'];

/** Unit links (the pages a reminder email points to), submissions and cycle status. */
/** Both submission routes answer alike: 201 for a new record, 200 with the first record for a repeat. */
const submissionResponses = {
  201: { description: 'recorded', schema: submissionSchema },
  200: { description: 'already recorded: the first record', schema: submissionSchema },
};

export function registerCycleRoutes(router: Router, catalog: Catalog): void {
  router.add(
    'GET',
    '/links/{token}',
    async (req) => {
      const link = await requireLink(req.params.token ?? '');
      const ids = parseCycleItem(link.i);
      if (!ids) throw new NotFoundError('unknown item', '事项不存在');
      const duty = catalog.require(ids.dutyId);
      const plan = planCycle(duty, ids.periodKey);
      const unit = await getUnit(link.u);
      if (!unit) throw new NotFoundError('unknown unit', '单位不存在');
      const existing = (await listSubmissions(duty.id, plan.periodKey)).find((s) => s.unitId === unit.id);
      const head = `<p><strong>${escapeHtml(unit.name)}</strong></p><p>事项：${escapeHtml(duty.titleZh)}（${escapeHtml(periodLabel(plan.periodKey, plan.period.start, plan.period.end))}）<br>截止时间：${escapeHtml(instantLabel(plan.deadline))}<br>需提交：${escapeHtml(duty.evidenceZh)}</p>`;
      if (existing) {
        return html(
          200,
          page(
            '已记录',
            `${head}<p>本单位已于 ${escapeHtml(instantLabel(existing.submittedAt))} 记录完成${existing.late ? '（逾期提交）' : ''}，无需重复提交。</p>`,
          ),
        );
      }
      const form = `<form method="post"><p><label>完成情况说明<br><textarea name="note" rows="4" style="width:100%"></textarea></label></p><p><label>会议纪要或记录（可选）<br><textarea name="minutes" rows="6" style="width:100%"></textarea></label></p><p><label>参会人员（可选，以顿号或逗号分隔）<br><input name="attendees" style="width:100%"></label></p><p><button type="submit">确认已完成</button></p></form>`;
      return html(200, page('记录完成情况', head + form));
    },
    {
      summary: 'The page a reminder email links to',
      description:
        'An HTML page for the unit and cycle the signed link is bound to, with a form to record completion. ' +
        'No login: the link is the credential (403 forged or tampered, 410 expired).',
      tags: linkTags,
      auth: 'link',
      params: linkParamsSchema,
      responses: { 200: { description: 'the page', contentType: 'text/html' } },
      errors: [403, 404, 410],
      page: linkPage,
    },
  );

  router.add(
    'POST',
    '/links/{token}',
    async (req) => {
      const link = await requireLink(req.params.token ?? '');
      const ids = parseCycleItem(link.i);
      if (!ids) throw new NotFoundError('unknown item', '事项不存在');
      const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      let body: unknown = req.body ?? {};
      if (isForm) {
        const form = new URLSearchParams(req.rawBody);
        const attendees = (form.get('attendees') ?? '').split(/[、,，\s]+/).filter(Boolean);
        const minutes = form.get('minutes') ?? '';
        body = {
          note: form.get('note') ?? '',
          evidence: { ...(minutes ? { minutes } : {}), ...(attendees.length ? { attendees } : {}) },
        };
      }
      const parsed = linkSubmissionBodySchema.parse(body);
      const result = await recordSubmission(catalog, {
        ...ids,
        unitId: link.u,
        note: parsed.note,
        evidence: parsed.evidence,
        recordedBy: `unit-link:${link.u}`,
        route: req.route,
      });
      if (isForm) {
        const s = result.submission;
        return html(
          result.created ? 201 : 200,
          page(
            '已记录',
            `<p>已记录完成情况（${escapeHtml(instantLabel(s.submittedAt))}${s.late ? '，逾期提交' : ''}）。谢谢！</p>`,
          ),
        );
      }
      return json(result.created ? 201 : 200, result.submission);
    },
    {
      summary: 'Record completion through a unit link',
      description:
        'The unit and the cycle come from the signed link. JSON, or the HTML form of the link page ' +
        '(`application/x-www-form-urlencoded`: note, minutes, attendees), which gets an HTML answer. A repeat ' +
        'returns the first record (200); a late submission is accepted and marked late.',
      tags: linkTags,
      auth: 'link',
      params: linkParamsSchema,
      body: linkSubmissionBodySchema,
      altBodies: [
        {
          contentType: 'application/x-www-form-urlencoded',
          example: 'note=%E5%B7%B2%E5%AE%8C%E6%88%90&minutes=&attendees=',
          description: 'the form of the link page',
        },
      ],
      responses: submissionResponses,
      errors: [403, 404, 410, 422],
      page: linkPage,
    },
  );

  router.add(
    'POST',
    '/cycles/{dutyId}/{periodKey}/submissions',
    async (req) => {
      // Credentials first: a caller without them learns nothing about what a valid request looks like.
      const linkToken = req.headers['x-safeduty-link'];
      const link = linkToken ? await requireLink(linkToken) : undefined;
      const recordedBy = link ? `unit-link:${link.u}` : `admin:${requireAdmin(req).name}`;
      const params = cycleParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const body = submissionBodySchema.parse(req.body ?? {});
      if (link) requireLinkFor(link, body.unitId, cycleItem(params.dutyId, params.periodKey));
      const result = await recordSubmission(catalog, { ...params, ...body, recordedBy, route: req.route });
      return json(result.created ? 201 : 200, result.submission);
    },
    {
      summary: "Record a unit's completion of a cycle",
      description:
        'By an administrator, or by the unit itself with its signed link in the `x-safeduty-link` header (the ' +
        'link must be for this unit and this cycle: 403 otherwise). A repeat returns the first record (200); a ' +
        'late submission is accepted and marked late, and escalation stops for the unit at the next sweep.',
      tags: cycleTags,
      auth: 'admin-or-link',
      params: cycleParamsSchema,
      body: submissionBodySchema,
      responses: submissionResponses,
      errors: [403, 404, 410, 422],
    },
  );

  router.add(
    'GET',
    '/cycles',
    async (req) => {
      requireAdmin(req);
      const q = cycleListQuerySchema.parse(req.query);
      const duty = q.duty !== undefined ? catalog.require(q.duty) : undefined;
      // A bad period key is 400: checked against the duty's period kind when a duty is given.
      const period =
        q.period === undefined
          ? undefined
          : duty
            ? planCycle(duty, q.period).periodKey
            : parsePeriodKey(q.period).key;
      let cycles: CycleRecord[];
      if (duty && period) {
        const one = await getCycle(duty.id, period);
        cycles = one && (!q.status || one.status === q.status) ? [one] : [];
      } else {
        cycles = await listCycles({
          ...(duty ? { dutyId: duty.id } : {}),
          ...(q.status ? { status: q.status } : {}),
        });
        if (period) cycles = cycles.filter((c) => c.periodKey === period);
      }
      const page = pageOf(cycles, (c) => `${c.dutyId} ${c.periodKey}`, q);
      return json(200, {
        count: page.items.length,
        total: page.total,
        next: page.next,
        // Counts, never the lists of units: a listing must not grow with the roster (one cycle's page has them).
        cycles: page.items.map(({ defaulters: _list, ...c }) => ({
          ...c,
          ...(c.status === 'closed' ? { defaulterCount: defaulterCount({ ...c, defaulters: _list }) } : {}),
          titleZh: catalog.get(c.dutyId)?.titleZh ?? c.dutyId,
        })),
      });
    },
    {
      summary: 'List cycles',
      description:
        'Filter by duty, period key and status; without filters, every cycle. Sorted by duty and period, paged ' +
        '(`limit`, `cursor`); closed cycles carry the number of defaulters (one cycle marks them on its units).',
      tags: cycleTags,
      auth: 'admin',
      query: cycleListQuerySchema,
      responses: { 200: { description: '`{ count, total, next, cycles }`' } },
      errors: [404],
    },
  );

  router.add(
    'GET',
    '/cycles/{dutyId}/{periodKey}',
    async (req) => {
      requireAdmin(req);
      const q = cycleUnitsQuerySchema.parse(req.query);
      const params = cycleParamsSchema.parse(req.params);
      const duty = catalog.require(params.dutyId);
      const plan = planCycle(duty, params.periodKey);
      const cycle = await getCycle(duty.id, plan.periodKey);
      if (!cycle)
        throw new NotFoundError('no such cycle', `周期不存在：${duty.titleZh} ${plan.periodKey}`, [
          { field: 'periodKey', problem: '周期不存在' },
        ]);
      const [roster, subs, defaulters] = await Promise.all([
        dutyRoster(duty),
        listSubmissions(duty.id, plan.periodKey),
        cycle.status === 'closed' ? listDefaulters(cycle) : undefined,
      ]);
      const units = roster.units;
      const byUnit = new Map(subs.map((s) => [s.unitId, s]));
      const closedMissing = defaulters ? new Set(defaulters) : undefined;
      // A defaulter deactivated since the cycle closed is still one of its defaulters: listed, marked inactive.
      const active = new Set(units.map((u) => u.id));
      const gone = (
        await Promise.all((defaulters ?? []).filter((id) => !active.has(id)).map((id) => getUnit(id)))
      ).filter((u) => u !== undefined);
      const nowMs = clock.nowMs();
      const listed = [...units, ...gone.map((u) => ({ ...u, inactive: true as const }))];
      const states = listed.map((u) => {
        const s = byUnit.get(u.id);
        return {
          unitId: u.id,
          name: u.name,
          state: s ? (s.late ? 'late' : 'submitted') : ('missing' as 'late' | 'submitted' | 'missing'),
          submittedAt: s?.submittedAt,
          // What the unit recorded: its note and evidence (minutes, attendees, links, attachments).
          ...(s ? { note: s.note, evidence: s.evidence, recordedBy: s.recordedBy } : {}),
          ...(closedMissing ? { defaulter: closedMissing.has(u.id) } : {}),
          ...('inactive' in u ? { inactive: true } : {}),
          escalationLevel: escalationLevelReached(
            plan,
            cycle.stagesDone,
            u,
            s?.submittedAt,
            cycle.trackedSince,
            nowMs,
          ),
        };
      });
      const counts = { submitted: 0, late: 0, missing: 0 };
      for (const u of states) counts[u.state]++;
      const unitPage = pageOf(
        q.state ? states.filter((u) => u.state === q.state) : states,
        (u) => u.unitId,
        q,
      );
      // Records closed before defaulters became items of their own carry the list inline: one shape for all.
      const { defaulters: _inline, ...record } = cycle as CycleRecord & { defaulters?: unknown };
      return json(200, {
        ...record,
        ...(defaulters ? { defaulterCount: defaulters.length } : {}),
        titleZh: duty.titleZh,
        plan,
        counts,
        total: unitPage.total,
        next: unitPage.next,
        units: unitPage.items,
      });
    },
    {
      summary: "One cycle: every responsible unit's state",
      description:
        'The cycle record, its plan (deadline, stages), the number of units `submitted`, `late` and `missing`, ' +
        'and a page of the units of the active roster (by id; `state` narrows, `limit`/`cursor` page) with their ' +
        'state, the escalation level reached and, once closed, whether it is one of the defaulters.',
      tags: cycleTags,
      auth: 'admin',
      params: cycleParamsSchema,
      query: cycleUnitsQuerySchema,
      responses: { 200: { description: 'the cycle' } },
      errors: [404],
    },
  );
}

export function requireJsonObject(req: ApiRequest): void {
  if (
    req.body !== undefined &&
    (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body))
  ) {
    throw new ValidationError('body must be a JSON object', '请求体必须是 JSON 对象', [
      { field: '(body)', problem: '应为 JSON 对象' },
    ]);
  }
}
