import { z } from 'zod';
import type { Catalog } from '../../../workflows/catalog/index.ts';
import { loadCaseTypes, type CaseTypes } from '../../../workflows/cases/index.ts';
import { gatherAssessment } from '../../core/assessment-data.ts';
import { clock } from '../../core/clock.ts';
import { NotFoundError } from '../../core/errors.ts';
import { assessmentPage, assessmentWorkbook } from '../assessment-export.ts';
import { requireAdmin } from '../auth.ts';
import { pageOf, pagingQuery } from '../paging.ts';
import { binary, html, json } from '../respond.ts';
import type { Router } from '../router.ts';
import { XLSX_TYPE, unitParamsSchema } from '../schemas.ts';

const tags = ['考核'];

const yearSchema = z
  .string()
  .regex(/^20\d{2}$/, '应为四位年份，如 2023')
  .transform(Number)
  .meta({ example: '2023' });

const assessmentQuerySchema = z
  .object({
    year: yearSchema,
    format: z
      .enum(['json', 'xlsx'])
      .default('json')
      .meta({ description: '`xlsx`: the workbook to download' }),
    ...pagingQuery,
  })
  .strict();
const unitAssessmentQuerySchema = z
  .object({
    year: yearSchema,
    format: z.enum(['json', 'html']).default('json').meta({ description: '`html`: the page to print' }),
  })
  .strict();

/** 安委办's annual assessment (考核), as figures, a workbook, and a printable page per unit. */
export function registerAssessmentRoutes(
  router: Router,
  catalog: Catalog,
  types: CaseTypes = loadCaseTypes(),
): void {
  router.add(
    'GET',
    '/assessment',
    async (req) => {
      requireAdmin(req);
      const q = assessmentQuerySchema.parse(req.query);
      const a = await gatherAssessment(catalog, types, q.year, clock.now());
      if (q.format === 'xlsx')
        return binary(200, await assessmentWorkbook(a), XLSX_TYPE, {
          'content-disposition': `attachment; filename="assessment-${q.year}.xlsx"; filename*=UTF-8''${encodeURIComponent(`${q.year}年度安全生产工作考核.xlsx`)}`,
        });
      const page = pageOf(a.units, (u) => u.unit.id, q);
      return json(200, {
        year: a.year,
        asOf: a.asOf,
        count: page.items.length,
        total: page.total,
        next: page.next,
        units: page.items,
      });
    },
    {
      summary: 'The annual assessment of every unit',
      description:
        'Per unit and year: for each duty the periods owed (deadline passed), done on time, late, and not done, ' +
        'with the on-time rate and the late and missed periods; its cases with their terms (kept, missed, ' +
        'running); its contacts mail cannot reach. A period counts once its deadline has passed; cancelled ' +
        'periods, and periods due before the unit joined or the duty was tracked, do not count. Paged by unit ' +
        '(`limit`, `cursor`); `format=xlsx` downloads the whole year as a workbook (汇总, 职责明细, 案件, 无法送达).',
      tags,
      auth: 'admin',
      query: assessmentQuerySchema,
      responses: { 200: { description: '`{ year, asOf, count, total, next, units }`, or the workbook' } },
    },
  );

  router.add(
    'GET',
    '/assessment/{id}',
    async (req) => {
      requireAdmin(req);
      const { id } = unitParamsSchema.parse(req.params);
      const q = unitAssessmentQuerySchema.parse(req.query);
      const a = await gatherAssessment(catalog, types, q.year, clock.now());
      const u = a.units.find((x) => x.unit.id === id);
      if (!u)
        throw new NotFoundError(`no active unit ${id}`, `未知或已停用的单位：${id}`, [
          { field: 'id', problem: '未知或已停用的单位' },
        ]);
      if (q.format === 'html') return html(200, assessmentPage(a, u));
      return json(200, { year: a.year, asOf: a.asOf, ...u });
    },
    {
      summary: "One unit's annual assessment",
      description: 'As in GET /assessment; `format=html` is the page to print (A4, in Chinese).',
      tags,
      auth: 'admin',
      params: unitParamsSchema,
      query: unitAssessmentQuerySchema,
      responses: { 200: { description: "the unit's assessment, or its page" } },
      errors: [404],
    },
  );
}
