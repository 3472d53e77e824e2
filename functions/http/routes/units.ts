import { UNIT_KINDS } from '../../../workflows/catalog/schema.ts';
import { pageOf } from '../paging.ts';
import { listLeaders, listUnits } from '../../adapters/store.ts';
import {
  ROSTER_HEADER_ZH,
  decodeCsvBytes,
  importRoster,
  rosterRow,
  type RosterInput,
} from '../../core/roster-import.ts';
import { addressesStore } from '../../adapters/outbox-store.ts';
import {
  undeliverableMarks,
  deactivateUnit,
  requireLeader,
  requireUnit,
  saveLeader,
  saveUnit,
  patchLeader,
  patchUnit,
  type ChangeContext,
} from '../../core/units.ts';
import { shanghaiDateOf } from '../../../workflows/calendar.ts';
import { clock } from '../../core/clock.ts';
import { tableDownload } from '../table-export.ts';
import { leaderSchema, unitSchema } from '../../core/model.ts';
import { requireAdmin } from '../auth.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import {
  ROSTER_CSV_EXAMPLE,
  leaderBodySchema,
  leaderPatchSchema,
  unitPatchSchema,
  leaderParamsSchema,
  noQuerySchema,
  rosterImportSchema,
  rosterImportQuerySchema,
  XLSX_TYPE,
  unitBodySchema,
  leaderListQuerySchema,
  unitListQuerySchema,
  unitParamsSchema,
} from '../schemas.ts';
import type { ApiRequest } from '../types.ts';

/** The administrator acting, for audit entries: `admin:<name>` and the route template (as submissions record it). */
export function adminContext(req: ApiRequest): ChangeContext {
  return { actor: `admin:${requireAdmin(req).name}`, route: req.route };
}

/** Roster entries as the API shows them: with the positions whose address cannot be delivered to, if any. */
async function withMarks<T extends object>(
  entries: readonly T[],
  people: (e: T) => Parameters<typeof undeliverableMarks>[0],
): Promise<(T & { undeliverable?: ReturnType<typeof undeliverableMarks> })[]> {
  const known = await addressesStore.undeliverable();
  if (known.size === 0) return [...entries];
  return entries.map((e) => {
    const marks = undeliverableMarks(people(e), known);
    return marks.length > 0 ? { ...e, undeliverable: marks } : e;
  });
}
const unitPeople = (u: {
  contact: { email: string };
  principal: { email: string };
  staffRepresentative?: { email: string };
}) => ({
  contact: u.contact,
  principal: u.principal,
  staffRepresentative: u.staffRepresentative,
});
const leaderPeople = (l: { holder: { email: string } }) => ({ holder: l.holder });

const STATUS = { created: 201, updated: 200, unchanged: 200 } as const;
const tags = ['单位与县领导'];

/** Units (the roster) and county leaders: read, create or replace, deactivate, import. */
export function registerUnitRoutes(router: Router): void {
  router.add(
    'GET',
    '/units',
    async (req) => {
      requireAdmin(req);
      const q = unitListQuerySchema.parse(req.query);
      const all = await withMarks(
        await listUnits({
          kinds: q.kind ? [q.kind] : UNIT_KINDS,
          includeInactive: q.includeInactive === 'true',
        }),
        unitPeople,
      );
      const units = q.undeliverable === 'true' ? all.filter((u) => u.undeliverable) : all;
      if (q.format === 'csv' || q.format === 'xlsx') {
        const date = shanghaiDateOf(clock.now());
        return tableDownload(
          q.format,
          { title: `单位名册-${date}`, name: `roster-${date}` },
          ROSTER_HEADER_ZH,
          units.map(rosterRow),
        );
      }
      const page = pageOf(units, (u) => u.id, q);
      return json(200, { count: page.items.length, total: page.total, next: page.next, units: page.items });
    },
    {
      summary: 'List units (the roster)',
      description:
        'Active units by default; `includeInactive=true` adds deactivated ones; `undeliverable=true` keeps ' +
        'those with a position whose address cannot be delivered to (listed in `undeliverable`: position, ' +
        "address, reason, since). Sorted by id, paged (`limit`, `cursor` = the previous page's `next`). " +
        '`format=csv|xlsx` gives the whole list as a roster file, headed in Chinese, that the import reads back.',
      tags,
      auth: 'admin',
      query: unitListQuerySchema,
      responses: { 200: { description: '`{ count, total, next, units }`, or the CSV or workbook' } },
    },
  );

  router.add(
    'GET',
    '/units/{id}',
    async (req) => {
      requireAdmin(req);
      const { id } = unitParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const [unit] = await withMarks([await requireUnit(id)], unitPeople);
      return json(200, unit);
    },
    {
      summary: 'One unit',
      tags,
      auth: 'admin',
      params: unitParamsSchema,
      responses: { 200: { description: 'the unit', schema: unitSchema } },
      errors: [404],
    },
  );

  router.add(
    'PUT',
    '/units/{id}',
    async (req) => {
      const ctx = adminContext(req);
      const { id } = unitParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const body = unitBodySchema.parse(req.body ?? {});
      const r = await saveUnit(id, body, ctx);
      return json(STATUS[r.status], r.unit);
    },
    {
      summary: 'Create or replace a unit',
      description:
        'The body is the whole unit; `id` may be left out and must match the path when given. The parent, ' +
        'supervising department and leader in charge must exist (400 naming the field otherwise). A change ' +
        'appends an audit entry (`unit:<id>`); an identical unit is not written again.',
      tags,
      auth: 'admin',
      params: unitParamsSchema,
      body: unitBodySchema,
      responses: {
        200: { description: 'replaced (or unchanged)', schema: unitSchema },
        201: { description: 'created', schema: unitSchema },
      },
      errors: [409],
    },
  );

  router.add(
    'PATCH',
    '/units/{id}',
    async (req) => {
      const ctx = adminContext(req);
      const { id } = unitParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const patch = unitPatchSchema.parse(req.body ?? {});
      const r = await patchUnit(id, patch, ctx);
      const [unit] = await withMarks([r.unit], unitPeople);
      return json(200, unit);
    },
    {
      summary: 'Change some fields of a unit',
      description:
        'A JSON merge patch (RFC 7396): only the fields given change, a person merges field by field ' +
        '(`{"contact":{"email":"…"}}` keeps the name), and `null` removes an optional field. The result is ' +
        'checked whole, as a PUT (400 naming the field), and audited as `unit:<id>`. A corrected address clears ' +
        "its undeliverable mark. Use it to change one contact's email without sending the whole unit.",
      tags,
      auth: 'admin',
      params: unitParamsSchema,
      body: unitPatchSchema,
      responses: { 200: { description: 'the unit as saved', schema: unitSchema } },
      errors: [404, 409],
    },
  );

  router.add(
    'DELETE',
    '/units/{id}',
    async (req) => {
      const ctx = adminContext(req);
      const { id } = unitParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const r = await deactivateUnit(id, ctx);
      return json(200, r.unit);
    },
    {
      summary: 'Deactivate a unit',
      description:
        'The unit leaves every roster from the next sweep on; its record, submissions and audit history stay. ' +
        'PUT it with `active: true` to bring it back. The safety office cannot be deactivated (409).',
      tags,
      auth: 'admin',
      params: unitParamsSchema,
      responses: { 200: { description: 'the deactivated unit', schema: unitSchema } },
      errors: [404, 409],
    },
  );

  router.add(
    'POST',
    '/units/import',
    async (req) => {
      const ctx = adminContext(req);
      const q = rosterImportQuerySchema.parse(req.query);
      const type = (req.headers['content-type'] ?? '').toLowerCase();
      const input: RosterInput = type.startsWith('text/csv')
        ? { kind: 'csv', text: decodeCsvBytes(req.rawBytes, type) }
        : type.startsWith(XLSX_TYPE)
          ? { kind: 'xlsx', bytes: req.rawBytes }
          : { kind: 'json', body: req.body ?? {} };
      return json(200, await importRoster(input, ctx, { dryRun: q.dryRun === 'true' }));
    },
    {
      summary: 'Import a roster (JSON, CSV or Excel)',
      description:
        'Everything is validated in one pass — fields, duplicate ids, and references against the file and the ' +
        'stored roster — and nothing is written if any row is wrong: 400 listing every problem with its `row` ' +
        '(CSV or worksheet line, header = 1) or path (JSON) and field. `dryRun=true` stops there and answers what ' +
        'would be written. Then leaders and new or changed units are written in batches, with an audit entry ' +
        'each. Units not in the file are not touched. The answer lists each created or updated record ' +
        '(`changes`), with the people an update replaces on an existing unit (`contacts`, counted in ' +
        '`contactsReplaced`). CSV and Excel columns, in Chinese or English: ' +
        '单位编号/id, 单位名称/name, 单位类型/kind (企业, 乡镇… or the code), 上级单位/parent, 主管部门/supervisingDepartment, ' +
        '分管县领导/leaderInCharge, 联络人/contactName, 联络人邮箱/contactEmail, 联络人电话/contactPhone, 主要负责人/principalName, ' +
        '主要负责人邮箱/principalEmail, 主要负责人电话/principalPhone, 职工代表/staffName, 职工代表邮箱/staffEmail, ' +
        '单位属性/attributes (several separated by 、); an optional column the file does not have leaves a stored ' +
        "unit's value as it is; " +
        'they hold units only (leaders must exist) and every unit in them is active. A CSV may be UTF-8 (with or ' +
        'without a byte order mark) or GB18030/GBK, as Chinese Excel saves it: declared by `charset=gbk` or ' +
        'detected. An Excel workbook is read from its first worksheet.',
      tags,
      auth: 'admin',
      query: rosterImportQuerySchema,
      body: rosterImportSchema,
      altBodies: [
        {
          contentType: 'text/csv',
          example: ROSTER_CSV_EXAMPLE,
          description: 'UTF-8 (BOM allowed) or GB18030/GBK (`charset=gbk`, or detected)',
        },
        {
          contentType: XLSX_TYPE,
          example: '（.xlsx 工作簿：第一个工作表，第 1 行为表头，列与 CSV 相同）',
          description: 'Excel workbook, first worksheet',
          binary: true,
        },
      ],
      responses: {
        200: {
          description:
            '`{ dryRun, units, leaders, contactsReplaced, changes, changesTotal }`: counts `{ created, updated, ' +
            'unchanged }` and each record written (or, in a dry run, that would be)',
        },
      },
    },
  );

  router.add(
    'GET',
    '/leaders',
    async (req) => {
      requireAdmin(req);
      const q = leaderListQuerySchema.parse(req.query);
      const page = pageOf(await withMarks(await listLeaders(), leaderPeople), (l) => l.id, q);
      return json(200, { count: page.items.length, total: page.total, next: page.next, leaders: page.items });
    },
    {
      summary: 'List county leaders',
      description:
        'Sorted by id, paged (`limit`, `cursor`). A holder whose address cannot be delivered to is listed in ' +
        '`undeliverable`.',
      tags,
      auth: 'admin',
      query: leaderListQuerySchema,
      responses: { 200: { description: '`{ count, total, next, leaders }`' } },
    },
  );

  router.add(
    'GET',
    '/leaders/{id}',
    async (req) => {
      requireAdmin(req);
      const { id } = leaderParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const [leader] = await withMarks([await requireLeader(id)], leaderPeople);
      return json(200, leader);
    },
    {
      summary: 'One county leader',
      tags,
      auth: 'admin',
      params: leaderParamsSchema,
      responses: { 200: { description: 'the leader', schema: leaderSchema } },
      errors: [404],
    },
  );

  router.add(
    'PUT',
    '/leaders/{id}',
    async (req) => {
      const ctx = adminContext(req);
      const { id } = leaderParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const body = leaderBodySchema.parse(req.body ?? {});
      const r = await saveLeader(id, body, ctx);
      return json(STATUS[r.status], r.leader);
    },
    {
      summary: 'Create or replace a county leader (分管县领导)',
      // (PATCH below changes some fields.)
      description:
        'A leader record is a position and who holds it; a change of person is a PUT here, with no change to ' +
        'units or workflows. Audited as `leader:<id>`.',
      tags,
      auth: 'admin',
      params: leaderParamsSchema,
      body: leaderBodySchema,
      responses: {
        200: { description: 'replaced (or unchanged)', schema: leaderSchema },
        201: { description: 'created', schema: leaderSchema },
      },
    },
  );

  router.add(
    'PATCH',
    '/leaders/{id}',
    async (req) => {
      const ctx = adminContext(req);
      const { id } = leaderParamsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const patch = leaderPatchSchema.parse(req.body ?? {});
      const r = await patchLeader(id, patch, ctx);
      const [leader] = await withMarks([r.leader], leaderPeople);
      return json(200, leader);
    },
    {
      summary: "Change a county leader's title or holder",
      description:
        'A JSON merge patch: `{"holder":{"email":"…"}}` changes the address and keeps the name. Checked whole and ' +
        'audited as `leader:<id>`.',
      tags,
      auth: 'admin',
      params: leaderParamsSchema,
      body: leaderPatchSchema,
      responses: { 200: { description: 'the leader as saved', schema: leaderSchema } },
      errors: [404],
    },
  );
}
