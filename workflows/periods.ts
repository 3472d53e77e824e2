// Reporting periods (daily, ISO weekly, monthly, quarterly, yearly) identified by string keys, over the plain
// 'YYYY-MM-DD' dates of calendar.ts.
import {
  CalendarError,
  addDays,
  dayOfWeek,
  daysInMonth,
  fromDayNumber,
  isLeapYear,
  toDayNumber,
} from './calendar.ts';
import type { Season } from './catalog/schema.ts';

export const PERIOD_KINDS = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export interface Period {
  kind: PeriodKind;
  key: string;
  /** First date, YYYY-MM-DD. */
  start: string;
  /** Last date, inclusive. */
  end: string;
}

const FORMS: Record<PeriodKind, { form: string; example: string; zh: string; re: RegExp }> = {
  daily: { form: 'YYYY-MM-DD', example: '2023-02-06', zh: '日期', re: /^(\d{4})-(\d{2})-(\d{2})$/ },
  weekly: {
    form: 'YYYY-Www (ISO 8601 week)',
    example: '2023-W06',
    zh: 'ISO 周编号',
    re: /^(\d{4})-W(\d{2})$/,
  },
  monthly: { form: 'YYYY-MM', example: '2023-02', zh: '月份', re: /^(\d{4})-(\d{2})$/ },
  quarterly: { form: 'YYYY-Qn', example: '2023-Q1', zh: '季度编号', re: /^(\d{4})-Q(\d)$/ },
  yearly: { form: 'YYYY', example: '2023', zh: '年份', re: /^(\d{4})$/ },
};

const ALL_FORMS_EN = PERIOD_KINDS.map((k) => `${FORMS[k].form} (${k})`).join(', ');
const ALL_FORMS_ZH = 'YYYY-MM-DD、YYYY-Www、YYYY-MM、YYYY-Qn 或 YYYY';

function shown(key: unknown): string {
  if (typeof key !== 'string') return String(key);
  return key.length > 40 ? `${key.slice(0, 40)}…` : key;
}

function invalidPeriod(key: unknown, detail: string, detailZh: string): CalendarError {
  return new CalendarError(
    'invalid-period',
    `Invalid period key "${shown(key)}": ${detail}`,
    `周期编号无效：${key === '' ? '（空）' : shown(key)}（${detailZh}）`,
  );
}

function checkedDay(y: number, m: number, d: number): number {
  return toDayNumber(
    `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
  );
}

/** ISO 8601: a year has 53 weeks when it starts on a Thursday, or is a leap year starting on a Wednesday. */
export function isoWeeksInYear(year: number): 52 | 53 {
  const jan1 = isoWeekday(toDayNumber(`${String(year).padStart(4, '0')}-01-01`));
  return jan1 === 4 || (jan1 === 3 && isLeapYear(year)) ? 53 : 52;
}

function isoWeekday(dayNumber: number): number {
  return ((((dayNumber + 3) % 7) + 7) % 7) + 1;
}

function isoWeekOneMonday(year: number): number {
  // Week 1 is the week containing 4 January.
  const jan4 = toDayNumber(`${String(year).padStart(4, '0')}-01-04`);
  return jan4 - (isoWeekday(jan4) - 1);
}

function fromDayOrInvalid(key: string, dayNumber: number): string {
  try {
    return fromDayNumber(dayNumber);
  } catch {
    throw invalidPeriod(key, 'outside the supported date range 0001..9999', '超出支持的日期范围');
  }
}

function detectKind(key: string): PeriodKind | undefined {
  return PERIOD_KINDS.find((k) => FORMS[k].re.test(key));
}

/**
 * Parses and validates a period key. With `expected`, a key of another kind is rejected too.
 * Throws CalendarError('invalid-period').
 */
export function parsePeriodKey(key: string, expected?: PeriodKind): Period {
  const kind = typeof key === 'string' ? detectKind(key) : undefined;
  if (kind === undefined || (expected !== undefined && kind !== expected)) {
    if (expected !== undefined) {
      const { form, example, zh } = FORMS[expected];
      throw invalidPeriod(
        key,
        `expected a ${expected} key ${form}, e.g. ${example}`,
        `应为${zh}，例如 ${example}`,
      );
    }
    throw invalidPeriod(key, `expected one of ${ALL_FORMS_EN}`, `应为 ${ALL_FORMS_ZH} 格式`);
  }
  const m = FORMS[kind].re.exec(key) ?? [];
  const year = Number(m[1]);
  const part = Number(m[2]);
  if (year < 1) throw invalidPeriod(key, 'year must be 0001..9999', '年份应为 0001–9999');
  let start: number;
  let end: number;
  switch (kind) {
    case 'daily': {
      const day = Number(m[3]);
      if (part < 1 || part > 12 || day < 1 || day > daysInMonth(year, part)) {
        throw invalidPeriod(key, 'not a real calendar date (expected YYYY-MM-DD)', '日期不存在');
      }
      start = end = checkedDay(year, part, day);
      break;
    }
    case 'weekly': {
      const weeks = isoWeeksInYear(year);
      if (part < 1 || part > weeks) {
        throw invalidPeriod(
          key,
          `${year} has ${weeks} ISO weeks (expected YYYY-Www with ww in 01..${weeks})`,
          part === 53 ? `${year} 年只有 52 个 ISO 周` : `周序号应为 01–${weeks}`,
        );
      }
      start = isoWeekOneMonday(year) + (part - 1) * 7;
      end = start + 6;
      break;
    }
    case 'monthly':
      if (part < 1 || part > 12)
        throw invalidPeriod(key, 'month must be 01..12 (expected YYYY-MM)', '月份应为 01–12');
      start = checkedDay(year, part, 1);
      end = checkedDay(year, part, daysInMonth(year, part));
      break;
    case 'quarterly':
      if (part < 1 || part > 4)
        throw invalidPeriod(key, 'quarter must be Q1..Q4 (expected YYYY-Qn)', '季度应为 Q1–Q4');
      start = checkedDay(year, part * 3 - 2, 1);
      end = checkedDay(year, part * 3, daysInMonth(year, part * 3));
      break;
    case 'yearly':
      start = checkedDay(year, 1, 1);
      end = checkedDay(year, 12, 31);
      break;
  }
  return { kind, key, start: fromDayOrInvalid(key, start), end: fromDayOrInvalid(key, end) };
}

export function periodKindOf(key: string): PeriodKind {
  return parsePeriodKey(key).kind;
}

/** Key of the period of `kind` containing `date`. Weekly keys use the ISO week-numbering year. */
export function periodKeyOf(kind: PeriodKind, date: string): string {
  const dn = toDayNumber(date);
  const y = date.slice(0, 4);
  const month = Number(date.slice(5, 7));
  switch (kind) {
    case 'daily':
      return date;
    case 'weekly': {
      // The ISO week belongs to the year that contains its Thursday.
      const thursday = fromDayNumber(dn + 4 - isoWeekday(dn));
      const isoYear = Number(thursday.slice(0, 4));
      const week = Math.floor((toDayNumber(thursday) - isoWeekOneMonday(isoYear)) / 7) + 1;
      return `${thursday.slice(0, 4)}-W${String(week).padStart(2, '0')}`;
    }
    case 'monthly':
      return date.slice(0, 7);
    case 'quarterly':
      return `${y}-Q${Math.ceil(month / 3)}`;
    case 'yearly':
      return y;
    default:
      throw invalidPeriod(
        kind,
        `unknown period kind (expected ${PERIOD_KINDS.join(', ')})`,
        '未知的周期类型',
      );
  }
}

/** The period of `kind` containing `date`. */
export function periodOf(kind: PeriodKind, date: string): Period {
  return parsePeriodKey(periodKeyOf(kind, date), kind);
}

export function nextPeriodKey(key: string): string {
  const p = parsePeriodKey(key);
  return periodKeyOf(p.kind, fromDayOrInvalid(key, toDayNumber(p.end) + 1));
}

export function previousPeriodKey(key: string): string {
  const p = parsePeriodKey(key);
  return periodKeyOf(p.kind, fromDayOrInvalid(key, toDayNumber(p.start) - 1));
}

/** Keys, in order, of every period of `kind` overlapping [fromDate, toDate]; empty when toDate < fromDate. */
export function periodsBetween(kind: PeriodKind, fromDate: string, toDate: string): string[] {
  const to = toDayNumber(toDate);
  const keys: string[] = [];
  let date = fromDate;
  while (toDayNumber(date) <= to) {
    const p = periodOf(kind, date);
    keys.push(p.key);
    if (toDayNumber(p.end) >= to) break;
    date = fromDayNumber(toDayNumber(p.end) + 1);
  }
  return keys;
}

const WEEKDAY_ZH = ['', '一', '二', '三', '四', '五', '六', '日'];

/** A seasonal window's dates in one year: fixed month-days, or the week containing a date (moves every year). */
export function seasonWindow(season: Season, year: number): { start: string; end: string } {
  if ('from' in season) return { start: `${year}-${season.from}`, end: `${year}-${season.to}` };
  const anchor = `${year}-${season.weekContaining}`;
  const back = (dayOfWeek(anchor) - season.weekStartsOn + 7) % 7;
  const start = addDays(anchor, -back);
  return { start, end: addDays(start, 6) };
}

/** `每年05-06至05-12`, or `每年5月12日所在的星期六至星期五`. */
export function seasonRuleZh(season: Season): string {
  if ('from' in season) return `每年${season.from}至${season.to}`;
  const [m, d] = season.weekContaining.split('-');
  const last = ((season.weekStartsOn + 5) % 7) + 1;
  return `每年${Number(m)}月${Number(d)}日所在的星期${WEEKDAY_ZH[season.weekStartsOn]}至星期${WEEKDAY_ZH[last]}`;
}
