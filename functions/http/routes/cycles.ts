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
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.ts';
import { cycleItem } from '../../core/links.ts';
import { clock } from '../../core/clock.ts';
import { escalationLevelReached, workdaysOverdue } from '../../core/overdue.ts';
import { shanghaiDateOf } from '../../../workflows/calendar.ts';
import { downloadUrl, newAttachmentKey, uploadOrigin, uploadUrl } from '../../adapters/attachments.ts';
import { ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES, attachmentProblem } from '../../core/report-form.ts';
import { checkUnitReport } from '../../core/report-check.ts';
import { reportPage, reportRecordedPage } from '../report-page.ts';
import { requireAdmin, requireLink, requireLinkFor } from '../auth.ts';
import { html, json } from '../respond.ts';
import type { Router } from '../router.ts';
import {
  cycleListQuerySchema,
  cycleParamsSchema,
  cycleUnitsQuerySchema,
  linkParamsSchema,
  attachmentRequestSchema,
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
  labels: {
    note: '完成情况',
    'evidence.minutes': '会议纪要或记录',
    'evidence.attendees': '参会人员',
    'evidence.attachments': '附件',
  },
};
const cycleTags = ['职责与周期'];

/** Unit links (the pages a reminder email points to), submissions and cycle status. */
/** Both submission routes answer alike: 201 for a new record, 200 with the first record for a repeat. */
const submissionResponses = {
  201: { description: 'recorded', schema: submissionSchema },
  200: { description: 'already recorded: the first record', schema: submissionSchema },
};

export function registerCycleRoutes(router: Router, catalog: Catalog): void {
  /** The unit, duty and cycle a link is for, and what the page shows about them. */
  const linkTarget = async (token: string) => {
    const link = await requireLink(token);
    const ids = parseCycleItem(link.i);
    if (!ids) throw new NotFoundError('unknown item', '事项不存在');
    const duty = catalog.require(ids.dutyId);
    const plan = planCycle(duty, ids.periodKey);
    const unit = await getUnit(link.u);
    if (!unit) throw new NotFoundError('unknown unit', '单位不存在');
    const now = clock.now();
    const overdueDays =
      now.getTime() > Date.parse(plan.deadline)
        ? workdaysOverdue(plan.deadline, shanghaiDateOf(now))
        : undefined;
    const pageInput = {
      duty,
      plan,
      unitName: unit.name,
      ...(overdueDays !== undefined ? { overdueDays } : {}),
    };
    return { link, duty, plan, unit, pageInput };
  };

  router.add(
    'GET',
    '/links/{token}',
    async (req) => {
      const { duty, plan, unit, pageInput } = await linkTarget(req.params.token ?? '');
      const existing = (await listSubmissions(duty.id, plan.periodKey)).find((s) => s.unitId === unit.id);
      return html(200, reportPage(pageInput, existing), { uploadsTo: uploadOrigin() });
    },
    {
      summary: 'The page a reminder email links to',
      description:
        "An HTML page for the unit and cycle the signed link is bound to, laid out for phones: the duty's own " +
        'report form (its fields, required ones marked; files where the duty asks for them), a banner once the ' +
        'deadline has passed, or what was recorded if the unit has reported. No login: the link is the ' +
        'credential (403 forged or tampered, 410 expired).',
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
    '/links/{token}/attachments',
    async (req) => {
      const { link, duty, plan } = await linkTarget(req.params.token ?? '');
      noQuerySchema.parse(req.query);
      const file = attachmentRequestSchema.parse(req.body ?? {});
      // Files are for a report still to be sent: a link keeps working after it, but not for uploads.
      if ((await listSubmissions(duty.id, plan.periodKey)).some((s) => s.unitId === link.u))
        throw new ConflictError('already reported', '本单位已报送此事项，不能再上传文件', [
          { field: 'token', problem: '已报送' },
        ]);
      const problem = attachmentProblem(file);
      if (problem)
        throw new ValidationError('attachment refused', problem, [{ field: 'contentType', problem }]);
      const key = newAttachmentKey(link.i, link.u, file.contentType);
      return json(201, {
        key,
        uploadUrl: await uploadUrl(key, file.contentType, file.size),
        method: 'PUT',
        headers: { 'content-type': file.contentType },
      });
    },
    {
      summary: 'Where to upload a file for a report',
      description:
        'For a photo or PDF the unit is about to attach (its name, type and size): an S3 address valid for 15 ' +
        'minutes that takes exactly that file by PUT (with the given `content-type`), and the `key` to name in ' +
        `the report's \`evidence.attachments\`. Types: ${Object.keys(ATTACHMENT_TYPES).join(', ')}; at most ` +
        `${ATTACHMENT_MAX_BYTES / 1024 / 1024} MB each. The report is checked against what arrived.`,
      tags: linkTags,
      auth: 'link',
      params: linkParamsSchema,
      body: attachmentRequestSchema,
      responses: { 201: { description: '`{ key, uploadUrl, method, headers }`' } },
      errors: [403, 404, 410],
    },
  );

  router.add(
    'POST',
    '/links/{token}',
    async (req) => {
      const { link, duty, plan, unit, pageInput } = await linkTarget(req.params.token ?? '');
      const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const parsed = linkSubmissionBodySchema.parse(isForm ? reportFromForm(req.rawBody) : (req.body ?? {}));
      await checkUnitReport(duty, { item: link.i, unitId: unit.id }, parsed.note, parsed.evidence);
      const result = await recordSubmission(catalog, {
        dutyId: duty.id,
        periodKey: plan.periodKey,
        unitId: link.u,
        note: parsed.note,
        evidence: parsed.evidence,
        recordedBy: `unit-link:${link.u}`,
        route: req.route,
      });
      if (isForm)
        return html(
          result.created ? 201 : 200,
          reportRecordedPage(pageInput, result.submission, result.created),
        );
      return json(result.created ? 201 : 200, result.submission);
    },
    {
      summary: 'Record completion through a unit link',
      description:
        "The unit and the cycle come from the signed link. The report must fill the duty's form (`evidence." +
        'fields`: the required fields, numbers as numbers) and carry the files it asks for, each uploaded first ' +
        '(`POST /links/{token}/attachments`); a duty without a form needs a `note`. Every problem is listed at ' +
        'once (400) and nothing is recorded. JSON, or the HTML form of the link page ' +
        '(`application/x-www-form-urlencoded`: `f.<field>`, `note`, `attachments` as JSON), which gets the ' +
        'confirmation page. A repeat returns the first record (200); a late report is accepted and marked late.',
      tags: linkTags,
      auth: 'link',
      params: linkParamsSchema,
      body: linkSubmissionBodySchema,
      altBodies: [
        {
          contentType: 'application/x-www-form-urlencoded',
          example:
            'f.risks=%E8%8A%82%E5%90%8E%E5%A4%8D%E5%B7%A5&f.measures=%E9%80%90%E4%B8%80%E6%A3%80%E6%9F%A5&f.owner=%E9%99%88%E6%99%93%E7%87%95&note=&attachments=%5B%5D',
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
      const item = cycleItem(params.dutyId, params.periodKey);
      if (link) requireLinkFor(link, body.unitId, item);
      // A unit's report meets its form whichever route it takes; files are the unit's own, uploaded, as declared.
      await checkUnitReport(
        catalog.require(params.dutyId),
        { item, unitId: body.unitId },
        body.note,
        body.evidence,
        {
          form: link !== undefined,
        },
      );
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
      // The files of this page's reports, each with an address to download it (valid 15 minutes).
      const shown = await Promise.all(
        unitPage.items.map(async (u) => {
          const files = u.evidence?.attachments;
          if (!files?.length) return u;
          const withUrls = await Promise.all(
            files.map(async (f) => (f.key ? { ...f, url: await downloadUrl(f.key, f.name) } : f)),
          );
          return { ...u, evidence: { ...u.evidence, attachments: withUrls } };
        }),
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
        units: shown,
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

/** The link page's form as a report: `f.<key>` fields, the note, and the uploaded files (JSON the page's script wrote). */
export function reportFromForm(raw: string): unknown {
  const form = new URLSearchParams(raw);
  const fields: Record<string, string> = {};
  for (const [k, v] of form) if (k.startsWith('f.') && v.trim()) fields[k.slice(2)] = v.trim();
  let attachments: unknown = [];
  try {
    attachments = JSON.parse(form.get('attachments') || '[]');
  } catch {
    throw new ValidationError('bad attachments', '附件信息有误，请重新选择文件', [
      { field: 'evidence.attachments', problem: '附件信息有误' },
    ]);
  }
  return {
    note: form.get('note') ?? '',
    evidence: {
      ...(Object.keys(fields).length > 0 ? { fields } : {}),
      ...(Array.isArray(attachments) && attachments.length > 0 ? { attachments } : {}),
    },
  };
}
