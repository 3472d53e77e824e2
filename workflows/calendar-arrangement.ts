// A year's holiday arrangement as the State Council publishes it (国务院办公厅关于XXXX年部分节假日安排的通知), written
// as data by an administrator for a year the built-in calendar does not cover yet. One entry per festival: the
// days off (放假调休，共N天) and the weekend days worked instead (X月X日（周六）上班).
import { z } from 'zod';
import {
  ARRANGEMENT_FESTIVALS,
  addDays,
  builtInYear,
  compareDates,
  dayOfWeek,
  diffDays,
  type OfficialYear,
} from './calendar.ts';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '应为日期，格式如 2027-01-01');

export const arrangementSchema = z
  .object({
    year: z.number().int().min(2000).max(2100),
    /** The notice it is copied from, e.g. 国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕X号）. */
    source: z.string().trim().min(4).max(200),
    festivals: z
      .array(
        z
          .object({
            name: z.string(),
            rest: z.object({ from: date, to: date }).strict(),
            /** The weekend days worked in exchange (调休上班), possibly none. */
            workdays: z.array(date).max(4).default([]),
          })
          .strict(),
      )
      .min(1)
      .max(10),
  })
  .strict();
export type Arrangement = z.infer<typeof arrangementSchema>;

export interface ArrangementIssue {
  field: string;
  problem: string;
}

const NAMES = Object.keys(ARRANGEMENT_FESTIVALS);
/** The longest rest the State Council has arranged (春节 and 国庆 reach 8–9 days). */
const LONGEST_REST = 10;

function realDate(d: string): boolean {
  try {
    return addDays(d, 0) === d;
  } catch {
    return false;
  }
}

/**
 * Checks an arrangement whole (every problem at once, named by field, in Chinese) and turns it into the
 * calendar's form. Dates lie in the year; a festival whose rest begins in December of the year before (元旦)
 * lists only its days in this year, the others being that year's.
 */
export function checkArrangement(
  a: Arrangement,
): { year: OfficialYear; issues?: undefined } | { issues: ArrangementIssue[] } {
  const issues: ArrangementIssue[] = [];
  const y = String(a.year);
  if (builtInYear(a.year))
    issues.push({ field: 'year', problem: `${a.year} 年的安排已内置在系统中，无需载入` });
  const seen = new Set<string>();
  const holidays: Record<string, string> = {};
  const workdays: Record<string, string> = {};
  a.festivals.forEach((f, i) => {
    const at = (k: string) => `festivals[${i}].${k}`;
    if (!NAMES.includes(f.name)) {
      issues.push({ field: at('name'), problem: `应为${NAMES.join('、')}之一` });
      return;
    }
    if (seen.has(f.name)) issues.push({ field: at('name'), problem: `${f.name}重复` });
    seen.add(f.name);
    const { from, to } = f.rest;
    let restOk = true;
    for (const [k, d] of [
      ['rest.from', from],
      ['rest.to', to],
    ] as const) {
      if (!realDate(d)) {
        issues.push({ field: at(k), problem: `日期无效：${d}` });
        restOk = false;
      } else if (!d.startsWith(`${y}-`)) {
        issues.push({ field: at(k), problem: `应在 ${y} 年内` });
        restOk = false;
      }
    }
    if (restOk) {
      const days = diffDays(from, to) + 1;
      if (days < 1) issues.push({ field: at('rest.to'), problem: '不能早于放假开始日期' });
      else if (days > LONGEST_REST)
        issues.push({ field: at('rest.to'), problem: `放假不应超过${LONGEST_REST}天` });
      else
        for (let d = from; compareDates(d, to) <= 0; d = addDays(d, 1)) {
          if (holidays[d] !== undefined)
            issues.push({ field: at('rest'), problem: `${d} 已在${holidays[d]}假期中` });
          holidays[d] = f.name;
        }
    }
    f.workdays.forEach((d, j) => {
      const field = `festivals[${i}].workdays[${j}]`;
      if (!realDate(d)) issues.push({ field, problem: `日期无效：${d}` });
      else if (!d.startsWith(`${y}-`)) issues.push({ field, problem: `应在 ${y} 年内` });
      else if (dayOfWeek(d) < 6) issues.push({ field, problem: `${d} 不是周末，调休上班日应为周六或周日` });
      else workdays[d] = f.name;
    });
  });
  const missing = NAMES.filter((n) => !seen.has(n));
  if (missing.length > 0) issues.push({ field: 'festivals', problem: `缺少：${missing.join('、')}` });
  for (const d of Object.keys(workdays))
    if (holidays[d] !== undefined)
      issues.push({ field: 'festivals', problem: `${d} 既是放假日又是调休上班日` });
  if (issues.length > 0) return { issues };
  return { year: { year: a.year, source: a.source, holidays, workdays } };
}
