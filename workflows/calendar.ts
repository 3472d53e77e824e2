// Working-day calendar for mainland China, in Asia/Shanghai civil time (UTC+08:00, no DST).
//
// Dates are plain 'YYYY-MM-DD' strings; internally they are day numbers (days since 1970-01-01) computed
// with integer arithmetic, so nothing here reads the machine's time zone.
//
// Holiday data comes from the chinese-days package, but from its bundled JSON table (documented in its
// README) rather than its functions, for two reasons. Its functions depend on the machine's time zone: it
// parses 'YYYY-M-D' as UTC midnight and formats in local time, so west of UTC even the tables it builds at
// load time are one day early (2023-01-02 comes out a working day). And for years without data they silently
// answer "Monday–Friday = working day"; the JSON tells us which years are actually covered.
import chineseDaysData from 'chinese-days/dist/chinese-days.json' with { type: 'json' };

export type CalendarErrorCode = 'invalid-date' | 'unverified-year' | 'invalid-period';

export class CalendarError extends Error {
  override readonly name = 'CalendarError';
  readonly code: CalendarErrorCode;
  /** Message for end users, in Simplified Chinese. */
  readonly messageZh: string;

  constructor(code: CalendarErrorCode, message: string, messageZh: string) {
    super(message);
    this.code = code;
    this.messageZh = messageZh;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Plain date arithmetic

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian), valid for years >= 0.
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(dayNumber: number): [year: number, month: number, day: number] {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d];
}

const MIN_DAY = daysFromCivil(1, 1, 1);
const MAX_DAY = daysFromCivil(9999, 12, 31);

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function shown(input: unknown): string {
  if (typeof input !== 'string') return String(input);
  if (input === '') return '(empty)';
  return input.length > 40 ? `${input.slice(0, 40)}…` : input;
}

function invalidDate(input: unknown): CalendarError {
  return new CalendarError(
    'invalid-date',
    `Invalid date "${shown(input)}": expected a real calendar date YYYY-MM-DD (years 0001–9999)`,
    `日期无效：${input === '' ? '（空）' : shown(input)}（应为 YYYY-MM-DD）`,
  );
}

function outOfRange(what: string): CalendarError {
  return new CalendarError(
    'invalid-date',
    `Date out of the supported range 0001-01-01..9999-12-31: ${what}`,
    `日期超出支持范围（0001-01-01 至 9999-12-31）：${what}`,
  );
}

function requireInteger(name: string, n: number): void {
  // A non-integer count is a programming error, not bad user input.
  if (!Number.isSafeInteger(n)) throw new RangeError(`${name} must be an integer, got ${n}`);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonthUnchecked(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function requireYearMonth(year: number, month: number): void {
  if (
    !Number.isInteger(year) ||
    year < 1 ||
    year > 9999 ||
    !Number.isInteger(month) ||
    month < 1 ||
    month > 12
  ) {
    throw new CalendarError(
      'invalid-date',
      `Invalid month ${year}-${month}: expected year 1..9999 and month 1..12`,
      `月份无效：${year} 年 ${month} 月`,
    );
  }
}

/** Number of days in a month (month 1..12). */
export function daysInMonth(year: number, month: number): number {
  requireYearMonth(year, month);
  return daysInMonthUnchecked(year, month);
}

/** Days since 1970-01-01 for a validated 'YYYY-MM-DD' date; throws CalendarError('invalid-date'). */
export function toDayNumber(date: string): number {
  const m = typeof date === 'string' ? DATE_RE.exec(date) : null;
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const d = Number(m[3]);
    if (y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonthUnchecked(y, mo)) {
      return daysFromCivil(y, mo, d);
    }
  }
  throw invalidDate(date);
}

/** Inverse of toDayNumber. */
export function fromDayNumber(dayNumber: number): string {
  if (!Number.isInteger(dayNumber) || dayNumber < MIN_DAY || dayNumber > MAX_DAY) {
    throw outOfRange(`day number ${dayNumber}`);
  }
  const [y, m, d] = civilFromDays(dayNumber);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** Validates a calendar date 'YYYY-MM-DD' (real date, Gregorian leap years) and returns it unchanged. */
export function parseDate(s: string): string {
  toDayNumber(s);
  return s;
}

export function addDays(date: string, n: number): string {
  requireInteger('addDays: n', n);
  const result = toDayNumber(date) + n;
  if (result < MIN_DAY || result > MAX_DAY) throw outOfRange(`${date} + ${n} days`);
  return fromDayNumber(result);
}

/** Whole days from `from` to `to` (positive when `to` is later). */
export function diffDays(from: string, to: string): number {
  return toDayNumber(to) - toDayNumber(from);
}

function weekdayOf(dayNumber: number): number {
  // 1970-01-01 was a Thursday (ISO 4).
  return ((((dayNumber + 3) % 7) + 7) % 7) + 1;
}

/** ISO day of week: 1 = Monday … 7 = Sunday. */
export function dayOfWeek(date: string): number {
  return weekdayOf(toDayNumber(date));
}

export function compareDates(a: string, b: string): -1 | 0 | 1 {
  const da = toDayNumber(a);
  const db = toDayNumber(b);
  return da < db ? -1 : da > db ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Official working-day data

interface ChineseDaysData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
  inLieuDays: Record<string, string>;
}

const builtIn: ChineseDaysData = chineseDaysData;
/** The built-in table, plus the years an administrator loaded (setLoadedYears). */
let data: ChineseDaysData = builtIn;
let loadedSignature = '';

/**
 * A year's State Council arrangement as an administrator loaded it, for a year the package does not cover:
 * each day off and each 调休 working day, with the festival's Chinese name (元旦, 春节 …).
 */
export interface OfficialYear {
  year: number;
  /** Where it comes from, e.g. 国务院办公厅关于2027年部分节假日安排的通知. */
  source: string;
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

/** The festivals of an arrangement, Chinese name → the name chinese-days uses (festivalRest reads those). */
export const ARRANGEMENT_FESTIVALS: Record<string, string> = {
  元旦: "New Year's Day",
  春节: 'Spring Festival',
  清明: 'Tomb-sweeping Day',
  劳动节: 'Labour Day',
  端午: 'Dragon Boat Festival',
  中秋: 'Mid-autumn Festival',
  国庆节: 'National Day',
};

/** Years the package itself covers (an administrator cannot load over them). */
export function builtInYear(year: number): boolean {
  return Object.keys(builtIn.holidays).some((d) => d.startsWith(`${year}-`));
}

/**
 * Makes the loaded years exactly these (replacing what was loaded before; built-in years are never replaced).
 * Cheap when nothing changed, so every function can call it with what the table holds before it plans.
 */
export function setLoadedYears(years: readonly OfficialYear[]): void {
  const usable = years.filter((y) => !builtInYear(y.year)).sort((a, b) => a.year - b.year);
  const signature = JSON.stringify(usable);
  if (signature === loadedSignature) return;
  const entry = (name: string) => `${ARRANGEMENT_FESTIVALS[name] ?? name},${name},0`;
  const holidays = { ...builtIn.holidays };
  const workdays = { ...builtIn.workdays };
  for (const y of usable) {
    for (const [d, name] of Object.entries(y.holidays)) holidays[d] = entry(name);
    for (const [d, name] of Object.entries(y.workdays)) workdays[d] = entry(name);
  }
  data = { ...builtIn, holidays, workdays };
  loadedSignature = signature;
  coverageCache = undefined;
}

let coverageCache: Coverage | undefined;

const UNVERIFIED = 0;
const OFF = 1;
const WORK = 2;

interface Coverage {
  years: ReadonlySet<number>;
  firstYear: number;
  lastYear: number;
  firstDay: number;
  /** UNVERIFIED / OFF / WORK for each day from firstDay. */
  status: Uint8Array;
  /** workPrefix[i] = working days among status[0..i-1]; likewise for unverified days. */
  workPrefix: Int32Array;
  unverifiedPrefix: Int32Array;
}

// Built once, on first use: a flat table over every covered day makes each lookup O(1), which matters
// because simulations ask hundreds of thousands of times.
function coverage(): Coverage {
  if (coverageCache) return coverageCache;
  // A year counts as covered when the package lists at least one official holiday in it; every year the
  // State Council publishes an arrangement has some.
  const years = new Set(Object.keys(data.holidays).map((d) => Number(d.slice(0, 4))));
  if (years.size === 0) throw new Error('chinese-days holiday table is empty');
  const firstYear = Math.min(...years);
  const lastYear = Math.max(...years);
  const firstDay = daysFromCivil(firstYear, 1, 1);
  const length = daysFromCivil(lastYear, 12, 31) - firstDay + 1;
  const status = new Uint8Array(length);
  const workPrefix = new Int32Array(length + 1);
  const unverifiedPrefix = new Int32Array(length + 1);
  for (let i = 0; i < length; i++) {
    const dn = firstDay + i;
    const date = fromDayNumber(dn);
    let s: number;
    if (!years.has(Number(date.slice(0, 4)))) s = UNVERIFIED;
    else if (date in data.workdays) s = WORK;
    else if (date in data.holidays) s = OFF;
    else s = weekdayOf(dn) <= 5 ? WORK : OFF;
    status[i] = s;
    workPrefix[i + 1] = (workPrefix[i] ?? 0) + (s === WORK ? 1 : 0);
    unverifiedPrefix[i + 1] = (unverifiedPrefix[i] ?? 0) + (s === UNVERIFIED ? 1 : 0);
  }
  coverageCache = { years, firstYear, lastYear, firstDay, status, workPrefix, unverifiedPrefix };
  return coverageCache;
}

function statusOf(dayNumber: number): number {
  const c = coverage();
  return c.status[dayNumber - c.firstDay] ?? UNVERIFIED;
}

function unverifiedError(dayNumber: number): CalendarError {
  const c = coverage();
  const date = fromDayNumber(dayNumber);
  const year = Number(date.slice(0, 4));
  return new CalendarError(
    'unverified-year',
    `No official holiday data for ${year} (chinese-days covers ${c.firstYear}–${c.lastYear}); ` +
      `cannot tell whether ${date} is a working day`,
    `${year} 年没有官方节假日数据，无法确认 ${date} 是否为工作日`,
  );
}

function isWorkdayNumber(dayNumber: number): boolean {
  const s = statusOf(dayNumber);
  if (s === UNVERIFIED) throw unverifiedError(dayNumber);
  return s === WORK;
}

/** Years for which chinese-days has the State Council's holiday arrangement (2004–2026 in 1.5.7). */
export function officialDataRange(): { firstYear: number; lastYear: number } {
  const { firstYear, lastYear } = coverage();
  return { firstYear, lastYear };
}

export function hasOfficialData(year: number): boolean {
  return coverage().years.has(year);
}

/** Whether `date` is a working day; throws CalendarError('unverified-year') for years without data. */
export function isWorkday(date: string): boolean {
  return isWorkdayNumber(toDayNumber(date));
}

export interface WorkdayCheck {
  workday: boolean;
  /** False when the year has no official data and the answer is the Monday–Friday guess. */
  verified: boolean;
  /** Short Chinese description, e.g. '法定节假日：春节', '调休上班：春节', '周末', '工作日'. */
  reason: string;
}

/**
 * The statutory holidays on fixed dates (《全国年节及纪念日放假办法》 as amended in 2024): a guess for a year without
 * the arrangement still keeps 元旦, 劳动节 and 国庆节 off. 春节, 清明, 端午 and 中秋 follow the lunar calendar (and
 * 清明 the solar terms), and every rest is reshaped by 调休, so the rest of the year stays a guess.
 */
const FIXED_HOLIDAYS: Record<string, string> = {
  '01-01': '元旦',
  '05-01': '劳动节',
  '05-02': '劳动节',
  '10-01': '国庆节',
  '10-02': '国庆节',
  '10-03': '国庆节',
};

function festivalName(entry: string): string {
  // Entries look like "Spring Festival,春节,3" (English, Chinese, statutory days).
  return entry.split(',')[1] ?? entry;
}

/**
 * Like isWorkday, with a reason. With `allowUnverified`, years without data fall back to Monday–Friday
 * and report verified: false instead of throwing.
 */
export function checkWorkday(date: string, options: { allowUnverified?: boolean } = {}): WorkdayCheck {
  const dn = toDayNumber(date);
  const s = statusOf(dn);
  const weekend = weekdayOf(dn) >= 6;
  if (s === UNVERIFIED) {
    if (!options.allowUnverified) throw unverifiedError(dn);
    // The days the law itself fixes are off whatever the State Council arranges; the lunar festivals are not known.
    const fixed = FIXED_HOLIDAYS[date.slice(5)];
    if (fixed !== undefined)
      return { workday: false, verified: false, reason: `法定节假日：${fixed}（按放假办法推定，未核实）` };
    return {
      workday: !weekend,
      verified: false,
      reason: `${weekend ? '周末' : '工作日'}（无官方节假日数据，按周一至周五推定）`,
    };
  }
  const makeUp = data.workdays[date];
  if (makeUp !== undefined)
    return { workday: true, verified: true, reason: `调休上班：${festivalName(makeUp)}` };
  const holiday = data.holidays[date];
  if (holiday !== undefined) {
    return { workday: false, verified: true, reason: `法定节假日：${festivalName(holiday)}` };
  }
  return { workday: s === WORK, verified: true, reason: weekend ? '周末' : '工作日' };
}

function nextWorkdayFrom(dayNumber: number): number {
  let dn = dayNumber;
  while (!isWorkdayNumber(dn)) dn++;
  return dn;
}

function previousWorkdayFrom(dayNumber: number): number {
  let dn = dayNumber;
  while (!isWorkdayNumber(dn)) dn--;
  return dn;
}

/**
 * n > 0: the n-th working day after `date`; n < 0: the |n|-th working day before it; n = 0: `date` itself if
 * it is a working day, otherwise the next working day. `date` itself need not be a working day. Throws
 * CalendarError('unverified-year') as soon as the walk reaches a day in a year without official data.
 */
export function addWorkdays(date: string, n: number): string {
  requireInteger('addWorkdays: n', n);
  let dn = toDayNumber(date);
  if (n === 0) return fromDayNumber(nextWorkdayFrom(dn));
  const step = n > 0 ? 1 : -1;
  let left = Math.abs(n);
  while (left > 0) {
    dn += step;
    if (isWorkdayNumber(dn)) left--;
  }
  return fromDayNumber(dn);
}

/** The festivals whose rest the State Council arranges each year, as chinese-days names them. */
export const FESTIVALS = {
  'Spring Festival': '春节',
  'Labour Day': '劳动节',
  'National Day': '国庆节',
} as const;
export type Festival = keyof typeof FESTIVALS;

/**
 * The rest around a festival in a year: the run of days off that contains its official holidays, with rest days
 * next to them (2023's 中秋 on 09-29 and the weekend make National Day's rest 09-29 to 10-06). Throws
 * CalendarError('unverified-year') for a year without the official arrangement.
 */
export function festivalRest(year: number, festival: Festival): { start: string; end: string } {
  if (!hasOfficialData(year)) throw unverifiedError(daysFromCivil(year, 1, 1));
  const days = Object.entries(data.holidays)
    .filter(([d, v]) => d.startsWith(`${year}-`) && v.startsWith(`${festival},`))
    .map(([d]) => d)
    .sort();
  const first = days[0];
  const last = days.at(-1);
  if (!first || !last)
    throw new CalendarError(
      'invalid-date',
      `no ${festival} in ${year}`,
      `${year} 年没有${FESTIVALS[festival]}假期安排`,
    );
  let start = first;
  let end = last;
  while (!isWorkday(addDays(start, -1))) start = addDays(start, -1);
  while (!isWorkday(addDays(end, 1))) end = addDays(end, 1);
  return { start, end };
}

export function nextWorkdayOnOrAfter(date: string): string {
  return fromDayNumber(nextWorkdayFrom(toDayNumber(date)));
}

export function previousWorkdayOnOrBefore(date: string): string {
  return fromDayNumber(previousWorkdayFrom(toDayNumber(date)));
}

function noWorkdayInMonth(year: number, month: number): CalendarError {
  // Cannot happen with real arrangements (the longest break is 9 days); guard rather than leave the month.
  return new CalendarError(
    'invalid-period',
    `Month ${year}-${pad(month, 2)} has no working days`,
    `${year} 年 ${month} 月没有工作日`,
  );
}

export function firstWorkdayOfMonth(year: number, month: number): string {
  requireYearMonth(year, month);
  const dn = nextWorkdayFrom(daysFromCivil(year, month, 1));
  if (dn > daysFromCivil(year, month, daysInMonthUnchecked(year, month))) throw noWorkdayInMonth(year, month);
  return fromDayNumber(dn);
}

export function lastWorkdayOfMonth(year: number, month: number): string {
  requireYearMonth(year, month);
  const dn = previousWorkdayFrom(daysFromCivil(year, month, daysInMonthUnchecked(year, month)));
  if (dn < daysFromCivil(year, month, 1)) throw noWorkdayInMonth(year, month);
  return fromDayNumber(dn);
}

/**
 * Working days in (fromExclusive, toInclusive] — e.g. how many working days a deadline is overdue.
 * Returns 0 when toInclusive is not after fromExclusive. O(1) via prefix sums.
 */
export function workdaysBetween(fromExclusive: string, toInclusive: string): number {
  const from = toDayNumber(fromExclusive);
  const to = toDayNumber(toInclusive);
  if (to <= from) return 0;
  const c = coverage();
  const lo = from + 1 - c.firstDay;
  const hi = to - c.firstDay;
  if (lo < 0) throw unverifiedError(from + 1);
  if (hi >= c.status.length) throw unverifiedError(to);
  const unverified = (c.unverifiedPrefix[hi + 1] ?? 0) - (c.unverifiedPrefix[lo] ?? 0);
  if (unverified > 0) {
    let dn = from + 1;
    while (statusOf(dn) !== UNVERIFIED) dn++;
    throw unverifiedError(dn);
  }
  return (c.workPrefix[hi + 1] ?? 0) - (c.workPrefix[lo] ?? 0);
}

// ---------------------------------------------------------------------------------------------------------
// Instants (Asia/Shanghai is a fixed UTC+08:00 offset, so no tz database is needed)

function invalidInstant(input: unknown, expected: string): CalendarError {
  return new CalendarError(
    'invalid-date',
    `Invalid time "${shown(input)}": expected ${expected}`,
    `时间无效：${input === '' ? '（空）' : shown(input)}（应为 ${expected}）`,
  );
}

function requireValidDate(instant: Date): number {
  const ms = instant instanceof Date ? instant.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw invalidInstant(String(instant), 'a valid Date');
  return ms;
}

/** Formats an instant in Shanghai time, e.g. '2023-02-06T18:00:00+08:00' (seconds, no milliseconds). */
export function toShanghaiIso(instant: Date): string {
  const shifted = requireValidDate(instant) + SHANGHAI_OFFSET_MS;
  const dn = Math.floor(shifted / MS_PER_DAY);
  const secondOfDay = Math.floor((shifted - dn * MS_PER_DAY) / 1000);
  const h = Math.floor(secondOfDay / 3600);
  const m = Math.floor((secondOfDay % 3600) / 60);
  const s = secondOfDay % 60;
  return `${fromDayNumber(dn)}T${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}+08:00`;
}

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** The instant at wall-clock `time` ('HH:MM') on `date` in Shanghai. */
export function shanghaiInstant(date: string, time: string): Date {
  const dn = toDayNumber(date);
  const m = TIME_RE.exec(time);
  if (!m) throw invalidInstant(time, 'HH:MM');
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return new Date(dn * MS_PER_DAY + minutes * 60_000 - SHANGHAI_OFFSET_MS);
}

/** The Shanghai calendar date of an instant. */
export function shanghaiDateOf(instant: Date): string {
  return fromDayNumber(Math.floor((requireValidDate(instant) + SHANGHAI_OFFSET_MS) / MS_PER_DAY));
}

const INSTANT_RE =
  /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?(?:(Z)|([+-])([01]\d|2[0-3]):([0-5]\d))$/;
const INSTANT_FORM = 'ISO 8601 with Z or ±hh:mm offset, e.g. 2023-02-06T18:00:00+08:00';

/**
 * Parses an ISO 8601 instant with an explicit offset ('Z' or '±hh:mm'); seconds and fraction optional.
 * Strict on purpose: Date.parse accepts offset-less strings and reads them in the machine's time zone.
 */
export function parseInstant(s: string): Date {
  const m = typeof s === 'string' ? INSTANT_RE.exec(s) : null;
  if (!m) throw invalidInstant(s, INSTANT_FORM);
  let dn: number;
  try {
    dn = toDayNumber(m[1] ?? '');
  } catch {
    throw invalidInstant(s, INSTANT_FORM);
  }
  const millis = Number((m[5] ?? '').padEnd(3, '0').slice(0, 3));
  const local = ((Number(m[2]) * 60 + Number(m[3])) * 60 + Number(m[4] ?? 0)) * 1000 + millis;
  const offsetMinutes = m[6] ? 0 : (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return new Date(dn * MS_PER_DAY + local - offsetMinutes * 60_000);
}
