import { UNIT_KINDS } from '../../../workflows/catalog/schema.ts';
import { pageOf } from '../paging.ts';
import { listLeaders, listUnits } from '../../adapters/store.ts';
import { importRoster } from '../../core/roster-import.ts';
import { addressesStore } from '../../adapters/outbox-store.ts';
import {
  undeliverableMarks,
  deactivateUnit,
  requireLeader,
  requireUnit,
  saveLeader,
  saveUnit,
  type ChangeContext,
} from '../../core/units.ts';
import { leaderSchema, unitSchema } from '../../core/model.ts';
import { requireAdmin } from '../auth.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import {
  ROSTER_CSV_EXAMPLE,
  leaderBodySchema,
  leaderParamsSchema,
  noQuerySchema,
  rosterImportSchema,
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
      const page = pageOf(units, (u) => u.id, q);
      return json(200, { count: page.items.length, total: page.total, next: page.next, units: page.items });
    },
    {
      summary: 'List units (the roster)',
      description:
        'Active units by default; `includeInactive=true` adds deactivated ones; `undeliverable=true` keeps ' +
        'those with a position whose address cannot be delivered to (listed in `undeliverable`: position, ' +
        "address, reason, since). Sorted by id, paged (`limit`, `cursor` = the previous page's `next`).",
      tags,
      auth: 'admin',
      query: unitListQuerySchema,
      responses: { 200: { description: '`{ count, total, next, units }`' } },
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
      noQuerySchema.parse(req.query);
      const type = (req.headers['content-type'] ?? '').toLowerCase();
      const summary = type.startsWith('text/csv')
        ? await importRoster({ kind: 'csv', text: req.rawBody }, ctx)
        : await importRoster({ kind: 'json', body: req.body ?? {} }, ctx);
      return json(200, summary);
    },
    {
      summary: 'Import a roster (JSON or CSV)',
      description:
        'Everything is validated first — fields, duplicate ids, and references against the file and the stored ' +
        'roster — and nothing is written if any row is wrong: 400 listing each problem with its `row` (CSV line, ' +
        'header = 1) or path (JSON) and field. Then leaders and new or changed units are written in batches, ' +
        'with an audit entry each. Units not in the file are not touched. CSV header: ' +
        '`id,name,kind,parent,supervisingDepartment,leaderInCharge,contactName,contactEmail,principalName,principalEmail[,staffName,staffEmail]`; ' +
        'CSV holds units only (leaders must exist) and every unit in it is active.',
      tags,
      auth: 'admin',
      body: rosterImportSchema,
      altBodies: [
        { contentType: 'text/csv', example: ROSTER_CSV_EXAMPLE, description: 'UTF-8, BOM allowed' },
      ],
      responses: { 200: { description: '`{ units, leaders }`, each `{ created, updated, unchanged }`' } },
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
}
