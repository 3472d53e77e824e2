import { z } from 'zod';
import { pageOf, pagingQuery } from '../paging.ts';
import { toShanghaiIso } from '../../../workflows/calendar.ts';
import { loadCaseTypes, type CaseTypes } from '../../../workflows/cases/index.ts';
import { getCase, listCaseEvents, listCasesByStatus, listCasesInTown } from '../../adapters/case-store.ts';
import { logger } from '../../handlers/common.ts';
import { clock } from '../../core/clock.ts';
import {
  applyCaseEvent,
  caseDetail,
  caseSummary,
  openCase,
  requireType,
  roleOf,
  type CasePrincipal,
} from '../../core/cases.ts';
import {
  caseEventBodySchema,
  caseIdSchema,
  listCasesQuerySchema,
  openCaseBodySchema,
  reconciliationQuerySchema,
  type CaseRecord,
} from '../../core/cases-model.ts';
import { caseOverdueSource, reconciliation } from '../../core/cases-overdue.ts';
import { ForbiddenError, NotFoundError } from '../../core/errors.ts';
import { caseItem } from '../../core/links.ts';
import { registerOverdueSource } from '../../core/overdue-ledger.ts';
import { requireAdmin, requireLink, requireLinkFor } from '../auth.ts';
import { getUnit } from '../../adapters/store.ts';
import { instantLabel } from '../../core/labels.ts';
import { casePage, EVENT_FIELD_LABELS, eventBodyFromForm } from '../case-page.ts';
import { escapeHtml, page, wantsHtml } from '../pages.ts';
import { html, json } from '../respond.ts';
import type { Router } from '../router.ts';
import type { ApiRequest } from '../types.ts';
import { noQuerySchema } from '../schemas.ts';

const tags = ['案件'];
const caseLog = {
  error: (message: string, extra: Record<string, unknown> = {}) => logger.error(message, extra),
};

export const caseParamsSchema = z
  .object({ id: caseIdSchema.meta({ example: 'mh-20230306-k3f9a1' }) })
  .strict();

/** A unit's signed case link may come as `?link=` (the URL in its email) or as the `x-safeduty-link` header. */
export const caseLinkQuerySchema = z
  .object({
    link: z
      .string()
      .min(1)
      .max(2_000)
      .optional()
      .meta({ description: 'the signed case link from an email (instead of the x-safeduty-link header)' }),
  })
  .strict();

/** The case page's address with the unit's link, and where its forms post. */
const caseLink = (caseId: string, token: string | undefined) =>
  `/cases/${encodeURIComponent(caseId)}${token ? `?link=${encodeURIComponent(token)}` : ''}`;
const eventsAction = (caseId: string, token: string | undefined) =>
  `/cases/${encodeURIComponent(caseId)}/events${token ? `?link=${encodeURIComponent(token)}` : ''}`;

/** Errors reach a unit's browser as a page, with the way back to the case page. */
const casePageDoc = {
  back: (req: ApiRequest) => ({ href: caseLink(req.params.id ?? '', req.query.link), text: '返回案件页面' }),
  labels: EVENT_FIELD_LABELS,
};

/** Who is asking: an administrator, or a unit through a link bound to this case. */
async function principalFor(
  req: ApiRequest,
  caseId: string,
  token: string | undefined,
): Promise<CasePrincipal> {
  const linkToken = token ?? req.headers['x-safeduty-link'];
  if (linkToken) {
    const link = await requireLink(linkToken);
    requireLinkFor(link, link.u, caseItem(caseId));
    return { kind: 'unit', unitId: link.u };
  }
  const admin = requireAdmin(req);
  return { kind: 'admin', name: admin.name, ...(admin.account ? { account: admin.account } : {}) };
}

async function requireCase(caseId: string): Promise<CaseRecord> {
  const c = await getCase(caseId);
  if (!c)
    throw new NotFoundError(`unknown case ${caseId}`, `案件不存在：${caseId}`, [
      { field: 'id', problem: '未知的案件' },
    ]);
  return c;
}

/** Case workflows: open a case, list them, see one with its timeline and history, send it events. */
/** The case filters, paged like every listing. */
const casesPageQuerySchema = listCasesQuerySchema.extend(pagingQuery);

export function registerCaseRoutes(router: Router, types: CaseTypes = loadCaseTypes()): void {
  registerOverdueSource(caseOverdueSource(types));

  router.add(
    'POST',
    '/cases',
    async (req) => {
      const admin = requireAdmin(req);
      const body = openCaseBodySchema.parse(req.body ?? {});
      const result = await openCase(types, body, `admin:${admin.name}`, req.route, caseLog);
      const type = requireType(types, result.record.typeId);
      return json(201, {
        ...caseSummary(type, result.record, clock.now()),
        workflowStarted: result.workflowStarted,
      });
    },
    {
      summary: 'Open a case and start its workflow',
      description:
        'Opens a case of a type (`major-hazard-rectification`, `self-built-house-rectification`, `accident-follow-up`, ' +
        '`whistle-blower-report`): checks the units ' +
        'against the type, writes the case and starts its Step Functions execution, which sends the opening ' +
        'notices (双报告 at listing) and then reminds and escalates at each stage deadline. The term is a date ' +
        '(`{ "until": "YYYY-MM-DD" }`, ending at 18:00) or a number of days (`{ "days": N }`). `fields` holds the ' +
        "type's open fields; a self-built house names its owner and occupant there (`ownerName`, `ownerPhone`, " +
        '`ownerEmail`, `occupantName`…), a phone being a mobile number a text message reaches (a 400 names the field).',
      tags,
      auth: 'admin',
      body: openCaseBodySchema,
      responses: { 201: { description: 'the case summary, with `workflowStarted`' } },
      errors: [404, 409, 422],
    },
  );

  router.add(
    'GET',
    '/cases',
    async (req) => {
      requireAdmin(req);
      const q = casesPageQuerySchema.parse(req.query);
      if (q.type) requireType(types, q.type);
      let cases: CaseRecord[];
      if (q.type && q.town) cases = (await listCasesInTown(q.type, q.town)).cases;
      else cases = (await listCasesByStatus(q.status ? [q.status] : ['open', 'closed'], q.type)).cases;
      const now = clock.now();
      const rows = cases
        .filter((c) => !q.status || c.status === q.status)
        .filter((c) => !q.town || c.townId === q.town)
        .filter((c) => !q.stage || c.stage === q.stage)
        .filter((c) => !q.unit || c.responsibleUnitId === q.unit || c.supervisingUnitId === q.unit)
        .flatMap((c) => {
          const type = types.get(c.typeId);
          return type ? [caseSummary(type, c, now)] : [];
        })
        .filter((s) => q.overdue === undefined || (q.overdue === 'true') === (s.overdue !== null));
      const page = pageOf(rows, (s) => `${s.openedAt} ${s.caseId}`, q);
      return json(200, { count: page.items.length, total: page.total, next: page.next, cases: page.items });
    },
    {
      summary: 'List cases',
      description:
        'Filters: `type`, `status` (open / closed), `stage`, `town`, `unit` (responsible or supervising), ' +
        '`overdue=true|false`. Without `status`, open and closed cases.',
      tags,
      auth: 'admin',
      query: casesPageQuerySchema,
      responses: { 200: { description: '`{ count, cases }`' } },
    },
  );

  // Before /cases/{id}: "reconciliation" is a reserved word, never a case id.
  router.add(
    'GET',
    '/case-types',
    async (req) => {
      requireAdmin(req);
      noQuerySchema.parse(req.query);
      return json(200, {
        types: types.types.map((t) => ({
          id: t.id,
          titleZh: t.titleZh,
          responsibleKinds: t.responsibleKinds,
          supervisingKinds: t.supervisingKinds,
          termLabelZh: t.termLabelZh,
          openFields: t.openFields,
          stages: t.stages.map((s) => ({ id: s.id, titleZh: s.titleZh })),
          events: t.events.map((e) => ({
            id: e.id,
            titleZh: e.titleZh,
            from: e.from,
            by: e.by,
            fields: e.fields,
            person: e.person,
            newDeadline: e.newDeadline,
            ...(e.fieldsRuleZh ? { fieldsRuleZh: e.fieldsRuleZh } : {}),
          })),
        })),
      });
    },
    {
      summary: 'The case types: what opening a case asks, the stages, and the events with their fields',
      description:
        'What a form needs to open a case or send an event: the fields (label, required, longest value), the ' +
        'kinds of unit that may be responsible or supervising, the stages in order, and for each event the ' +
        'stages it is accepted in and who may send it.',
      tags,
      auth: 'admin',
      responses: { 200: { description: '`{ types }`' } },
    },
  );

  router.add(
    'GET',
    '/cases/reconciliation',
    async (req) => {
      requireAdmin(req);
      const q = reconciliationQuerySchema.parse(req.query);
      const now = clock.now();
      return json(200, { asOf: toShanghaiIso(now), ...(await reconciliation(types, q.type, q.town, now)) });
    },
    {
      summary: 'Reconciliation per town (对账销号)',
      description:
        'For a case type, per town: cases listed, rectified (completion reported or accepted), accepted (销号), ' +
        'and overdue; `town` narrows to one town.',
      tags,
      auth: 'admin',
      query: reconciliationQuerySchema,
      responses: {
        200: {
          description: '`{ type, towns: [{ townId, listed, rectified, accepted, overdue, … }], total }`',
        },
      },
    },
  );

  router.add(
    'GET',
    '/cases/{id}',
    async (req) => {
      const { id } = caseParamsSchema.parse(req.params);
      const q = caseLinkQuerySchema.parse(req.query);
      const principal = await principalFor(req, id, q.link);
      const c = await requireCase(id);
      if (
        principal.kind === 'unit' &&
        principal.unitId !== c.responsibleUnitId &&
        principal.unitId !== c.supervisingUnitId
      )
        throw new ForbiddenError('link is for another unit', '该链接不能用于此案件');
      const type = requireType(types, c.typeId);
      if (wantsHtml(req)) {
        const unitId = principal.kind === 'unit' ? principal.unitId : undefined;
        const unit = unitId ? await getUnit(unitId) : undefined;
        const unitName = unitId ? (unit?.name ?? unitId) : '管理员';
        const people = unit
          ? [
              { name: unit.principal.name, roleZh: '主要负责人' },
              ...(unit.contact.name !== unit.principal.name
                ? [{ name: unit.contact.name, roleZh: '联络人' }]
                : []),
            ]
          : undefined;
        return html(
          200,
          casePage({
            type,
            record: c,
            now: clock.now(),
            role: roleOf(c, principal),
            unitName,
            action: eventsAction(id, q.link),
            ...(people ? { people } : {}),
          }),
        );
      }
      const events = await listCaseEvents(id);
      return json(
        200,
        await caseDetail(type, c, events, clock.now(), { notifications: principal.kind === 'admin' }),
      );
    },
    {
      summary: 'A case: its stage, plan (timeline), history and notifications',
      description:
        'The current stage and its deadline, every reminder and escalation of the current stage with its state ' +
        '(done / due / planned), the events so far with their bodies, the events allowed now, and (for ' +
        'administrators) every notification sent. A unit may read its own case with its link. A browser ' +
        '(`Accept: text/html`, as when a unit opens the link in its email) gets the case page instead: the case, ' +
        'its history, and a form for each event its side may send now.',
      tags,
      auth: 'admin-or-link',
      params: caseParamsSchema,
      query: caseLinkQuerySchema,
      responses: { 200: { description: 'the case (JSON), or the case page (text/html) for a browser' } },
      errors: [404, 410],
      page: casePageDoc,
    },
  );

  router.add(
    'POST',
    '/cases/{id}/events',
    async (req) => {
      const { id } = caseParamsSchema.parse(req.params);
      const q = caseLinkQuerySchema.parse(req.query);
      const principal = await principalFor(req, id, q.link);
      const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const body = caseEventBodySchema.parse(isForm ? eventBodyFromForm(req.rawBody) : (req.body ?? {}));
      const result = await applyCaseEvent(types, id, body, principal, req.route, caseLog);
      const type = requireType(types, result.record.typeId);
      if (isForm) {
        const back = caseLink(id, q.link);
        const title = type.events.find((e) => e.id === result.entry.event)?.titleZh ?? result.entry.event;
        return html(
          201,
          page(
            '已办理',
            `<p>已记录${result.entry.person ? `${escapeHtml(result.entry.person.name)}` : ''}“${escapeHtml(title)}”（${escapeHtml(instantLabel(result.entry.at))}）。谢谢！</p>` +
              `<p><a href="${escapeHtml(back)}">返回案件页面</a></p>`,
          ),
        );
      }
      return json(201, {
        event: result.entry,
        case: caseSummary(type, result.record, clock.now()),
        ...(result.restarted ? { workflowRestarted: result.workflowStarted } : {}),
      });
    },
    {
      summary: 'Send an event to a case',
      description:
        'Takes effect at once. Administrators send any event; a unit sends the events its side may send, with the ' +
        'signed link of its case emails (`x-safeduty-link` header or `?link=`). Refused, with nothing changed: an ' +
        'event not allowed in the current stage (409), a plan missing any of its required parts (400), an ' +
        'extension requested too late (422), an acceptance by the person who reported completion (403), an ' +
        'event the sender may not send (403), an unknown case (404).',
      tags,
      auth: 'admin-or-link',
      params: caseParamsSchema,
      query: caseLinkQuerySchema,
      body: caseEventBodySchema,
      altBodies: [
        {
          contentType: 'application/x-www-form-urlencoded',
          example:
            'event=progress-reported&field.progress=%E5%AE%89%E5%85%A8%E9%98%80%E5%B7%B2%E6%9B%B4%E6%8D%A2&note=',
          description:
            'a form of the case page: `event`, `field.<key>` per text field, `personName`, `personEmail`, ' +
            '`newDeadline`, `note`; answered with a page',
        },
      ],
      responses: { 201: { description: '`{ event, case }`, or a page for the form' } },
      errors: [404, 410],
      page: casePageDoc,
    },
  );
}
