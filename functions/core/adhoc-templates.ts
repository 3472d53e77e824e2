// Templates for the ad-hoc duties a county starts every year (节前安全检查 before Spring Festival, 五一 and 国庆; the
// pre-flood-season check), with their dates computed from the official calendar of the year. A template is a
// request body the administrator can edit before creating the duty; nothing here writes anything.
import { z } from 'zod';
import {
  CalendarError,
  addWorkdays,
  festivalRest,
  shanghaiDateOf,
  shanghaiInstant,
  type Festival,
} from '../../workflows/calendar.ts';
import type { AdhocDutyBody } from './adhoc-duties.ts';
import { ValidationError } from './errors.ts';

/** Reports are due this many working days before the day the rest (or the season) begins, at DUE_TIME. */
const WORKDAYS_BEFORE = 2;
const DUE_TIME = '18:00';
/** The main flood season opens on 1 June (the catalog's flood-season window, 06-01 to 09-30). */
const FLOOD_SEASON_OPENS = '06-01';

interface TemplateDef {
  id: string;
  nameZh: string;
  /** What the check is before: a festival's rest, or the flood season. */
  before: Festival | 'flood-season';
  titleZh: string;
  subjectZh: string;
}

const TEMPLATES: readonly TemplateDef[] = [
  {
    id: 'spring-festival-check',
    nameZh: '春节节前检查',
    before: 'Spring Festival',
    titleZh: '春节前安全生产大检查',
    subjectZh: '春节前安全生产大检查',
  },
  {
    id: 'labour-day-check',
    nameZh: '五一节前检查',
    before: 'Labour Day',
    titleZh: '“五一”节前安全生产大检查',
    subjectZh: '“五一”节前安全生产大检查',
  },
  {
    id: 'national-day-check',
    nameZh: '国庆节前检查',
    before: 'National Day',
    titleZh: '国庆节前安全生产大检查',
    subjectZh: '国庆节前安全生产大检查',
  },
  {
    id: 'pre-flood-check',
    nameZh: '汛前检查',
    before: 'flood-season',
    titleZh: '汛前安全生产检查',
    subjectZh: '汛前安全检查（防汛隐患排查整治）',
  },
];

export const templateIdSchema = z.enum(TEMPLATES.map((t) => t.id) as [string, ...string[]]);

export interface AdhocTemplate {
  id: string;
  nameZh: string;
  year: number;
  /** How the date was found, in the administrator's words. */
  ruleZh: string;
  /** The first day off (or of the season) the check comes before. */
  beforeDate: string;
  /** The request that creates the duty (POST /duties), ready to edit. */
  request: AdhocDutyBody;
}

const monthDayZh = (date: string) => `${Number(date.slice(5, 7))}月${Number(date.slice(8, 10))}日`;

function build(t: TemplateDef, year: number): AdhocTemplate {
  const beforeDate =
    t.before === 'flood-season' ? `${year}-${FLOOD_SEASON_OPENS}` : festivalRest(year, t.before).start;
  const due = addWorkdays(beforeDate, -WORKDAYS_BEFORE);
  const what =
    t.before === 'flood-season'
      ? `主汛期（${monthDayZh(beforeDate)}）开始`
      : `${t.nameZh.slice(0, -4)}放假（${monthDayZh(beforeDate)}）`;
  return {
    id: t.id,
    nameZh: t.nameZh,
    year,
    ruleZh: `${what}前第${WORKDAYS_BEFORE}个工作日${DUE_TIME}前报送`,
    beforeDate,
    request: {
      titleZh: t.titleZh,
      instructionZh:
        `各乡镇、各县直部门于${monthDayZh(due)}${DUE_TIME}前完成${t.subjectZh}，对辖区和行业领域内的重点单位、` +
        '重点部位开展检查，并报送检查情况（含发现的问题隐患及整改落实情况）。',
      evidenceZh: '检查情况报告（含发现的问题隐患及整改落实情况）',
      responsible: { kinds: ['town', 'county-department'] },
      deadline: { date: due, time: DUE_TIME },
    },
  };
}

/**
 * The templates for a year, or — without one — each for the first year (this or the next) whose deadline is still
 * ahead. A year without the official holiday arrangement cannot be dated: asked for, it is refused; otherwise the
 * templates it would take are listed as unavailable, with why.
 */
export function adhocTemplates(
  nowMs: number,
  year?: number,
): { templates: AdhocTemplate[]; unavailable: { id: string; nameZh: string; reasonZh: string }[] } {
  const thisYear = Number(shanghaiDateOf(new Date(nowMs)).slice(0, 4));
  const templates: AdhocTemplate[] = [];
  const unavailable: { id: string; nameZh: string; reasonZh: string }[] = [];
  for (const t of TEMPLATES) {
    const years = year !== undefined ? [year] : [thisYear, thisYear + 1];
    let built: AdhocTemplate | undefined;
    let reason: CalendarError | undefined;
    for (const y of years) {
      try {
        const candidate = build(t, y);
        const d = candidate.request.deadline as { date: string; time: string };
        if (year !== undefined || shanghaiInstant(d.date, d.time).getTime() > nowMs) {
          built = candidate;
          break;
        }
      } catch (err) {
        if (!(err instanceof CalendarError)) throw err;
        reason = err;
      }
    }
    if (built) templates.push(built);
    else if (year !== undefined && reason)
      throw new ValidationError(reason.message, `${reason.messageZh}，无法按官方日历计算日期`, [
        { field: 'year', problem: reason.messageZh },
      ]);
    else
      unavailable.push({
        id: t.id,
        nameZh: t.nameZh,
        reasonZh: `${reason?.messageZh ?? '尚无日历数据'}，暂无法计算日期`,
      });
  }
  return { templates, unavailable };
}

/** Template names as administrators write them (国庆节前检查) or their ids. */
export function templateByName(name: string): string | undefined {
  if (name.trim() === '') return undefined;
  return TEMPLATES.find((t) => t.id === name || t.nameZh === name || t.nameZh.startsWith(name))?.id;
}
