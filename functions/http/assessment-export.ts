// The assessment as 安委办 hands it on: a workbook (汇总, 职责明细, 案件, 无法送达) and a printable page per unit.
// Everything a person reads is Chinese: kinds, periods and dates in the words of the notice.
import ExcelJS from 'exceljs';
import { UNIT_KIND_ZH } from '../../workflows/catalog/schema.ts';
import {
  onTimeRateZh,
  type Assessment,
  type CaseTermResult,
  type UnitAssessment,
} from '../core/assessment.ts';
import { escapeHtml } from '../core/html.ts';
import { dateLabel, instantLabel, periodLabel } from '../core/labels.ts';

const POSITION_ZH: Record<string, string> = {
  contact: '单位联络人',
  principal: '单位主要负责人',
  staffRepresentative: '职工代表',
  holder: '领导',
};
const TERM_ZH: Record<CaseTermResult, string> = { kept: '按期完成', missed: '逾期', running: '期限未到' };
const STATUS_ZH = { open: '办理中', closed: '已办结' } as const;

const dateOf = (iso: string | undefined) => (iso ? dateLabel(iso.slice(0, 10)) : '');
const periods = (keys: readonly string[]) => keys.map((k) => periodLabel(k)).join('、');

/** Town and department names, for the columns that place each unit. */
function namesOf(a: Assessment): Map<string, string> {
  return new Map(a.units.map((u) => [u.unit.id, u.unit.name]));
}

export const SUMMARY_HEADER = [
  '单位编号',
  '单位名称',
  '单位类型',
  '上级单位',
  '主管部门',
  '应报期数',
  '按时完成',
  '逾期补报',
  '未报',
  '按时率',
  '案件数',
  '整改逾期案件',
  '无法送达的联系人',
] as const;

export const DETAIL_HEADER = [
  '单位编号',
  '单位名称',
  '职责',
  '应报期数',
  '按时完成',
  '逾期补报',
  '未报',
  '按时率',
  '逾期补报的期次',
  '未报的期次',
] as const;

export const CASE_HEADER = [
  '案件编号',
  '案件类型',
  '事项',
  '责任单位',
  '立案日期',
  '整改期限',
  '当前阶段',
  '状态',
  '办结日期',
  '期限执行',
] as const;

export const UNDELIVERABLE_HEADER = ['单位编号', '单位名称', '职务', '邮箱', '原因', '起始时间'] as const;

/** The workbook of a year's assessment; rates are numbers formatted as percentages, so they sort and sum. */
export async function assessmentWorkbook(a: Assessment): Promise<Buffer> {
  const names = namesOf(a);
  const wb = new ExcelJS.Workbook();
  wb.creator = '襄垣县安全生产工作提醒系统（safeduty）';
  wb.title = `${a.year}年度安全生产工作考核`;
  // What the workbook is and how it was counted, first, for whoever opens it later.
  const about = wb.addWorksheet('说明');
  about.columns = [{ width: 16 }, { width: 90 }];
  about.addRow([`${a.year}年度安全生产工作考核`]).font = { bold: true, size: 14 };
  for (const [k, v] of [
    ['统计截至', instantLabel(a.asOf)],
    ['计入范围', '截止时间已过的各期；已取消的各期，以及单位列入名册或职责开始跟踪之前截止的各期不计入'],
    ['按时完成', '截止时间前报送'],
    ['逾期补报', '截止时间后报送（延期的专项工作按延期后的截止时间）'],
    ['未报', '统计时仍未报送'],
    ['按时率', '按时完成 ÷ 应报期数'],
    ['案件期限执行', '按期完成：整改期限前办结；逾期：期限后办结或期限已过仍未办结；期限未到：尚在期限内'],
  ])
    about.addRow([k, v]);
  const sheet = (name: string, header: readonly string[], widths: number[]) => {
    const ws = wb.addWorksheet(name, {
      views: [{ state: 'frozen', ySplit: 1 }],
      // Printed on A4 across, as wide as the page, the header repeated on every sheet of paper.
      pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
    });
    ws.addRow([...header]).font = { bold: true };
    ws.columns.forEach((c, i) => (c.width = widths[i] ?? 12));
    ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: header.length } };
    ws.pageSetup.printTitlesRow = '1:1';
    return ws;
  };
  const percent = (ws: ExcelJS.Worksheet, column: number) => (ws.getColumn(column).numFmt = '0.0%');

  const summary = sheet('汇总', SUMMARY_HEADER, [20, 24, 10, 14, 18, 10, 10, 10, 8, 9, 8, 12, 30]);
  percent(summary, 10);
  for (const u of a.units) {
    summary.addRow([
      u.unit.id,
      u.unit.name,
      UNIT_KIND_ZH[u.unit.kind],
      u.unit.parentId ? (names.get(u.unit.parentId) ?? u.unit.parentId) : '',
      u.unit.supervisingDepartmentId
        ? (names.get(u.unit.supervisingDepartmentId) ?? u.unit.supervisingDepartmentId)
        : '',
      u.totals.owed,
      u.totals.onTime,
      u.totals.late,
      u.totals.missed,
      u.totals.onTimeRate,
      u.cases.length,
      u.cases.filter((c) => c.termResult === 'missed').length,
      u.undeliverable.map((m) => `${POSITION_ZH[m.position] ?? m.position} ${m.address}`).join('；'),
    ]);
  }

  const detail = sheet('职责明细', DETAIL_HEADER, [20, 24, 30, 10, 10, 10, 8, 9, 40, 40]);
  percent(detail, 8);
  for (const u of a.units)
    for (const d of u.duties)
      detail.addRow([
        u.unit.id,
        u.unit.name,
        d.titleZh,
        d.owed,
        d.onTime,
        d.late,
        d.missed,
        d.onTimeRate,
        periods(d.latePeriods),
        periods(d.missedPeriods),
      ]);

  const cases = sheet('案件', CASE_HEADER, [22, 20, 30, 24, 16, 16, 16, 8, 16, 10]);
  for (const u of a.units)
    for (const c of u.cases)
      cases.addRow([
        c.caseId,
        c.typeTitleZh,
        c.title,
        u.unit.name,
        dateOf(c.openedAt),
        dateOf(c.term),
        c.stageTitleZh,
        STATUS_ZH[c.status],
        dateOf(c.closedAt),
        TERM_ZH[c.termResult],
      ]);

  const undeliverable = sheet('无法送达', UNDELIVERABLE_HEADER, [20, 24, 16, 30, 30, 22]);
  for (const u of a.units)
    for (const m of u.undeliverable)
      undeliverable.addRow([
        u.unit.id,
        u.unit.name,
        POSITION_ZH[m.position] ?? m.position,
        m.address,
        m.reasonZh,
        instantLabel(m.since),
      ]);

  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** One unit's assessment as a page to print (A4), with what it owed, what it did and what is still open. */
export function assessmentPage(a: Assessment, u: UnitAssessment): string {
  const names = namesOf(a);
  const title = `${u.unit.name} ${a.year}年度安全生产工作考核情况`;
  const place = [
    UNIT_KIND_ZH[u.unit.kind],
    u.unit.parentId ? `上级单位：${names.get(u.unit.parentId) ?? u.unit.parentId}` : '',
    u.unit.supervisingDepartmentId
      ? `主管部门：${names.get(u.unit.supervisingDepartmentId) ?? u.unit.supervisingDepartmentId}`
      : '',
  ]
    .filter(Boolean)
    .join('\u3000');
  const cell = (v: string | number) => `<td>${escapeHtml(String(v))}</td>`;
  const table = (head: readonly string[], rows: (string | number)[][]) =>
    rows.length === 0
      ? '<p>无。</p>'
      : `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
          .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
          .join('')}</tbody></table>`;
  const t = u.totals;
  const body = [
    `<p class="meta">单位编号：${escapeHtml(u.unit.id)}\u3000${escapeHtml(place)}<br>统计截至：${escapeHtml(instantLabel(a.asOf))}（截止时间已过的各期）</p>`,
    `<p class="total">应报 <b>${t.owed}</b> 期，按时完成 <b>${t.onTime}</b> 期，逾期补报 <b>${t.late}</b> 期，未报 <b>${t.missed}</b> 期，按时率 <b>${onTimeRateZh(t.onTimeRate)}</b>。</p>`,
    '<h2>一、各项职责完成情况</h2>',
    table(
      ['职责', '应报', '按时', '逾期补报', '未报', '按时率', '逾期补报的期次', '未报的期次'],
      u.duties.map((d) => [
        d.titleZh,
        d.owed,
        d.onTime,
        d.late,
        d.missed,
        onTimeRateZh(d.onTimeRate),
        periods(d.latePeriods) || '—',
        periods(d.missedPeriods) || '—',
      ]),
    ),
    '<h2>二、案件及整改期限</h2>',
    table(
      ['案件编号', '类型', '事项', '立案日期', '整改期限', '当前阶段', '状态', '期限执行'],
      u.cases.map((c) => [
        c.caseId,
        c.typeTitleZh,
        c.title,
        dateOf(c.openedAt),
        dateOf(c.term),
        c.stageTitleZh,
        STATUS_ZH[c.status],
        TERM_ZH[c.termResult],
      ]),
    ),
    '<h2>三、无法送达的联系人</h2>',
    table(
      ['职务', '邮箱', '原因', '起始时间'],
      u.undeliverable.map((m) => [
        POSITION_ZH[m.position] ?? m.position,
        m.address,
        m.reasonZh,
        instantLabel(m.since),
      ]),
    ),
    '<p class="sign">县安全生产委员会办公室\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日</p>',
  ].join('\n');
  const style = [
    'body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;line-height:1.6;color:#111}',
    'h1{font-size:1.4rem;text-align:center}h2{font-size:1.1rem;margin-top:1.4rem}',
    'table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #555;padding:.25rem .4rem;text-align:left;vertical-align:top}',
    'th{background:#eee}.meta{color:#333}.total{font-size:1.05rem}.sign{margin-top:3rem;text-align:right}',
    '@page{size:A4;margin:15mm}@media print{body{margin:0;max-width:none}th{background:#eee!important;-webkit-print-color-adjust:exact;print-color-adjust:exact}}',
  ].join('');
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${style}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}
