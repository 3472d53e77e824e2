import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from '../main.ts';
import { COMMON, InputRejected, call, callAllPages, run, target } from '../api-client.ts';
import { UsageError, type Io } from '../output.ts';
import { onTimeRateZh, type DutyRecordOfUnit, type UnitAssessment } from '../../functions/core/assessment.ts';

const USAGE = `用法：
  safeduty assessment --year 2023                    各单位的年度考核汇总（截止时间已过的各期）
  safeduty assessment --year 2023 --xlsx 考核.xlsx    导出工作簿（汇总、职责明细、案件、无法送达）
  safeduty assessment --year 2023 --unit town-001 [--html 考核.html]   一个单位的明细，或可打印的页面`;

type Figures = Pick<DutyRecordOfUnit, 'owed' | 'onTime' | 'late' | 'missed' | 'onTimeRate'>;

const line = (r: Figures) =>
  `应报 ${r.owed}，按时 ${r.onTime}，逾期补报 ${r.late}，未报 ${r.missed}，按时率 ${onTimeRateZh(r.onTimeRate)}`;

/** 安委办's annual assessment: the summary, one unit's detail, the workbook or a unit's printable page. */
export async function assessmentCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    year: { type: 'string' },
    unit: { type: 'string' },
    xlsx: { type: 'string' },
    html: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}\n${USAGE}`);
  if (!values.year || !/^20\d{2}$/.test(values.year))
    throw new UsageError(`请用 --year 给出考核年度，如 --year 2023。\n${USAGE}`);
  if (values.html !== undefined && values.unit === undefined)
    throw new UsageError('可打印的页面按单位生成：请同时给出 --unit 单位ID');
  if (values.xlsx !== undefined && values.unit !== undefined)
    throw new UsageError('工作簿包含全部单位：--xlsx 不与 --unit 同用');
  const t = target(values);
  const year = values.year;
  return run(io, async () => {
    if (values.xlsx !== undefined) {
      const r = await call(t, 'GET', `/assessment?year=${year}&format=xlsx`);
      const file = resolve(values.xlsx);
      save(file, r.bytes);
      return io.out(`已导出 ${year} 年度考核工作簿：${file}`);
    }
    if (values.unit !== undefined) {
      const path = `/assessment/${encodeURIComponent(values.unit)}?year=${year}`;
      if (values.html !== undefined) {
        const r = await call(t, 'GET', `${path}&format=html`);
        const file = resolve(values.html);
        save(file, r.bytes);
        return io.out(`已生成 ${year} 年度考核页面（可用浏览器打开并打印）：${file}`);
      }
      const r = await call(t, 'GET', path);
      if (values.json) return io.out(r.text);
      const u = r.json as UnitAssessment & { asOf: string };
      io.out(
        `${u.unit.name}（${u.unit.id}）${year} 年度考核，统计截至 ${u.asOf.slice(0, 16).replace('T', ' ')}：`,
      );
      io.out(`  合计：${line(u.totals)}`);
      for (const d of u.duties) io.out(`  ${d.titleZh}：${line(d)}`);
      if (u.cases.length > 0)
        io.out(
          `  案件 ${u.cases.length} 件，整改逾期 ${u.cases.filter((c) => c.termResult === 'missed').length} 件`,
        );
      if (u.undeliverable.length > 0)
        io.out(`  无法送达：${u.undeliverable.map((m) => m.address).join('、')}`);
      return;
    }
    const { first, items } = await callAllPages(t, `/assessment?year=${year}`, 'units');
    if (values.json) return io.out(JSON.stringify({ ...first, count: items.length, units: items }));
    const units = items as UnitAssessment[];
    io.out(
      `${year} 年度考核，共 ${units.length} 个单位，统计截至 ${String(first.asOf).slice(0, 16).replace('T', ' ')}：`,
    );
    for (const u of units) io.out(`  ${u.unit.id}  ${u.unit.name}  ${line(u.totals)}`);
  });
}

function save(file: string, bytes: Uint8Array): void {
  try {
    writeFileSync(file, bytes);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new InputRejected(
      `无法写入 ${file}：${code === 'ENOENT' ? '所在文件夹不存在' : code === 'EACCES' || code === 'EPERM' ? '没有写入权限' : code === 'EISDIR' ? '这是一个文件夹' : '写入失败'}`,
      [],
    );
  }
}
