// Chinese labels for instants, dates, periods and the notice a clause is quoted from: shared by emails and pages.

/** The notice every clause is quoted from. */
export const NOTICE_TITLE_ZH = '《襄垣县人民政府关于做好2023年安全生产工作的通知》（襄政发〔2023〕1号）';
/** The sender's name under every email. */
export const SIGNATURE = '襄垣县安全生产工作提醒系统（safeduty）';
const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];
const QUARTERS = ['一', '二', '三', '四'];

/** `2023-02-28T18:00:00+08:00` → `2023年2月28日（星期二）18:00`; input is always Shanghai time. */
export function instantLabel(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!m) return iso;
  const [, y, mo, d, h, mi] = m;
  const weekday = new Date(`${y}-${mo}-${d}T00:00:00Z`).getUTCDay();
  return `${y}年${Number(mo)}月${Number(d)}日（星期${WEEKDAYS[weekday]}）${h}:${mi}`;
}

/** `2023-03-04T18:00:00+08:00` → `2023年3月4日 18:00`, for tables (no weekday); input is always Shanghai time. */
export function minuteLabel(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日 ${m[4]}:${m[5]}` : iso;
}

export function dateLabel(date: string): string {
  const [y, mo, d] = date.split('-');
  return `${y}年${Number(mo)}月${Number(d)}日`;
}

/** `2023-W06` → `2023年第6周（2月6日至2月12日）`, `2023-Q1` → `2023年第一季度`, `2023` → `2023年度`. */
export function periodLabel(periodKey: string, start?: string, end?: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-W(\d{2})$/.exec(periodKey))) {
    const span =
      start && end
        ? `（${Number(start.slice(5, 7))}月${Number(start.slice(8))}日至${Number(end.slice(5, 7))}月${Number(end.slice(8))}日）`
        : '';
    return `${m[1]}年第${Number(m[2])}周${span}`;
  }
  if ((m = /^(\d{4})-Q([1-4])$/.exec(periodKey))) return `${m[1]}年第${QUARTERS[Number(m[2]) - 1]}季度`;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(periodKey))) return dateLabel(periodKey);
  if ((m = /^(\d{4})-(\d{2})$/.exec(periodKey))) return `${m[1]}年${Number(m[2])}月`;
  if (/^\d{4}$/.test(periodKey)) return `${periodKey}年度`;
  return periodKey;
}

/** `依据：《…》“section”部分：“quote”` */
export function clauseText(clause: { section: string; quote: string }): string {
  return `依据：${NOTICE_TITLE_ZH}“${clause.section}”部分：“${clause.quote}”`;
}

export function overdueText(workdays: number): string {
  return workdays > 0 ? `已逾期${workdays}个工作日` : '已逾期（不足1个工作日）';
}
