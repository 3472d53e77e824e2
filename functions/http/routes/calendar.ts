import { z } from 'zod';
import example from '../../../examples/holiday-arrangement-example.json' with { type: 'json' };
import type { Catalog } from '../../../workflows/catalog/index.ts';
import { arrangementSchema, checkArrangement } from '../../../workflows/calendar-arrangement.ts';
import {
  addDays,
  builtInYear,
  checkWorkday,
  hasOfficialData,
  officialDataRange,
  toShanghaiIso,
} from '../../../workflows/calendar.ts';
import { appendAudit } from '../../adapters/audit.ts';
import { listOfficialYears, putOfficialYear } from '../../adapters/calendar-store.ts';
import { getDispatchState } from '../../adapters/store.ts';
import { auditKey } from '../../core/audit-subjects.ts';
import { clock } from '../../core/clock.ts';
import { dispatchThrough } from '../../core/dispatch-run.ts';
import { ValidationError } from '../../core/errors.ts';
import { requireAdmin } from '../auth.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import { noQuerySchema } from '../schemas.ts';
import { adminContext } from './units.ts';

const tags = ['节假日安排'];

const yearParamsSchema = z
  .object({
    year: z
      .string()
      .regex(/^20\d{2}$/, '应为四位年份，如 2027')
      .transform(Number)
      .meta({ example: '2027' }),
  })
  .strict();
const loadQuerySchema = z
  .object({
    dryRun: z
      .enum(['true', 'false'])
      .default('false')
      .meta({ description: '`true`: check the arrangement and show what it gives, write nothing' }),
  })
  .strict();

/** The shape of an arrangement, with made-up dates (the example says so; the real one is the State Council's). */
const EXAMPLE = example;

function lastBuiltIn(lastYear: number): number {
  let y = lastYear;
  while (!builtInYear(y)) y--;
  return y;
}

/** What the calendar knows: the years built in, the years administrators loaded, and what is missing. */
async function calendarStatus() {
  const { firstYear, lastYear } = officialDataRange();
  const loaded = await listOfficialYears();
  const today = toShanghaiIso(clock.now()).slice(0, 10);
  const thisYear = Number(today.slice(0, 4));
  // The coming year counts as missing from November, when 安委办 starts being told (dispatch-run).
  const watched = today.slice(5) >= '11-01' ? [thisYear, thisYear + 1] : [thisYear];
  const { held } = await getDispatchState();
  return {
    builtIn: { from: firstYear, to: lastBuiltIn(lastYear) },
    loaded: loaded.map((y) => ({
      year: y.year,
      source: y.source,
      daysOff: Object.keys(y.holidays).length,
      workingWeekends: Object.keys(y.workdays).length,
      loadedAt: y.loadedAt,
      loadedBy: y.loadedBy,
    })),
    missing: watched.filter((y) => !hasOfficialData(y)),
    heldCycles: held.length,
  };
}

/** A year's days off and working weekends, as the calendar now has them. */
function yearDays(year: number) {
  const daysOff: { date: string; reasonZh: string }[] = [];
  const workingWeekends: { date: string; reasonZh: string }[] = [];
  // Without the arrangement both lists stay empty: the law's fixed dates alone would read as the year's holidays.
  const verified = hasOfficialData(year);
  if (verified)
    for (let date = `${year}-01-01`; date.startsWith(`${year}-`); date = addDays(date, 1)) {
      const c = checkWorkday(date);
      if (c.reason.startsWith('法定节假日')) daysOff.push({ date, reasonZh: c.reason });
      if (c.reason.startsWith('调休上班')) workingWeekends.push({ date, reasonZh: c.reason });
    }
  return { year, verified, daysOff, workingWeekends };
}

/**
 * The official holiday arrangement per year: shown, and loaded by an administrator for a year the built-in data does
 * not cover. Loading dispatches at once, so cycles held for want of the year start.
 */
export function registerCalendarRoutes(router: Router, catalog: Catalog): void {
  router.add(
    'GET',
    '/calendar',
    async (req) => {
      requireAdmin(req);
      noQuerySchema.parse(req.query);
      return json(200, await calendarStatus());
    },
    {
      summary: 'Which years have the official holiday arrangement',
      description:
        'The years built in (from the chinese-days package), the years administrators loaded (with source, who and ' +
        'when), this year or the next when missing, and the number of cycles held because their deadline falls in ' +
        'a year without an arrangement.',
      tags,
      auth: 'admin',
      query: noQuerySchema,
      responses: { 200: { description: '`{ builtIn, loaded, missing, heldCycles }`' } },
    },
  );

  router.add(
    'GET',
    '/calendar/{year}',
    async (req) => {
      requireAdmin(req);
      noQuerySchema.parse(req.query);
      const { year } = yearParamsSchema.parse(req.params);
      return json(200, yearDays(year));
    },
    {
      summary: "A year's days off and working weekends",
      description:
        'Every statutory day off and every weekend day worked instead (调休上班), with the festival; `verified` is ' +
        'false for a year without the official arrangement (then both lists are empty: Monday to Friday would be ' +
        'a guess).',
      tags,
      auth: 'admin',
      params: yearParamsSchema,
      query: noQuerySchema,
      responses: { 200: { description: '`{ year, verified, daysOff, workingWeekends }`' } },
    },
  );

  router.add(
    'PUT',
    '/calendar/{year}',
    async (req) => {
      const ctx = adminContext(req);
      const { year } = yearParamsSchema.parse(req.params);
      const q = loadQuerySchema.parse(req.query);
      const body = arrangementSchema.parse(req.body);
      if (body.year !== year)
        throw new ValidationError(
          'year differs from the path',
          `请求体中的年份（${body.year}）与地址中的年份（${year}）不一致`,
          [{ field: 'year', problem: `应为 ${year}` }],
        );
      const checked = checkArrangement(body);
      if (checked.issues)
        throw new ValidationError(
          'invalid arrangement',
          `节假日安排有误，共${checked.issues.length}处：${checked.issues.map((i) => `${i.field} ${i.problem}`).join('；')}`,
          checked.issues,
        );
      const summary = {
        year,
        source: body.source,
        daysOff: Object.keys(checked.year.holidays).length,
        workingWeekends: Object.keys(checked.year.workdays).length,
      };
      if (q.dryRun === 'true') return json(200, { ...summary, dryRun: true });
      await putOfficialYear(checked.year, ctx.actor);
      await appendAudit({
        subject: auditKey({ kind: 'calendar', id: String(year) }),
        at: toShanghaiIso(clock.now()),
        actor: ctx.actor,
        action: 'calendar-loaded',
        route: ctx.route,
        details: summary,
      });
      // The cycles held for want of this year start now, not at tomorrow's dispatch.
      const dispatched = await dispatchThrough(catalog.duties, clock.now());
      return json(200, { ...summary, started: dispatched.started, stillHeld: dispatched.held });
    },
    {
      summary: "Load a year's official holiday arrangement",
      description:
        'For a year the built-in calendar does not cover: the State Council arrangement as data, one entry per ' +
        'festival (元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆节) with its days off (`rest.from`..`rest.to`) and the ' +
        'weekend days worked instead (`workdays`). Checked whole: all seven festivals once, dates in the year, rests ' +
        'that do not overlap, working days on weekends; every problem is listed. `?dryRun=true` checks only. A ' +
        'corrected arrangement replaces the earlier one. Loading starts the cycles held for want of the year.',
      tags,
      auth: 'admin',
      params: yearParamsSchema,
      query: loadQuerySchema,
      body: arrangementSchema.meta({ id: 'HolidayArrangement', example: EXAMPLE }),
      responses: {
        200: {
          description: '`{ year, source, daysOff, workingWeekends, started, stillHeld }` (or `dryRun: true`)',
        },
      },
    },
  );
}
