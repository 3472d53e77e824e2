import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDate, compareDates } from '../../workflows/calendar.ts';
import { leaderSchema, unitSchema } from '../../functions/core/model.ts';
import { generateRoster, ROSTER_SIZES, type Roster } from '../../local/roster.ts';
import { simulate } from '../../local/simulate.ts';
import { parse } from '../main.ts';
import { EXIT, UsageError, type Io, fileProblemZh } from '../output.ts';

const rosterFileSchema = z
  .object({ units: z.array(unitSchema), leaders: z.array(leaderSchema).default([]) })
  .strict();

export function loadRosterOption(county: string, seed: number): Roster {
  if (county === 'small' || county === 'county' || county === 'city')
    return generateRoster(ROSTER_SIZES[county], seed);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(county, 'utf8'));
  } catch (err) {
    throw new UsageError(`无法读取名册文件 ${county}：${fileProblemZh(err)}`);
  }
  const r = rosterFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UsageError(`名册文件 ${county} 有误：${i ? `${i.path.join('.')}：${i.message}` : ''}`);
  }
  return r.data;
}

export async function simulateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    county: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  const from = parseDate(values.from ?? '2023-01-01');
  const to = parseDate(values.to ?? '2023-12-31');
  if (compareDates(from, to) > 0) throw new UsageError(`开始日期 ${from} 晚于结束日期 ${to}`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed 应为非负整数：${values.seed}`);
  const roster = loadRosterOption(values.county ?? 'county', seed);

  const tty = process.stderr.isTTY && !values.json;
  let lastDrawn = '';
  const report = await simulate({
    from,
    to,
    roster,
    seed,
    onProgress: (date, fraction) => {
      if (!tty) return;
      const width = 30;
      const filled = Math.round(fraction * width);
      const line = `\r模拟中 [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${date} ${Math.round(fraction * 100)}%`;
      if (line !== lastDrawn) process.stderr.write(line);
      lastDrawn = line;
    },
  });
  if (tty) process.stderr.write('\n');
  if (values.json) {
    io.out(JSON.stringify(report));
    return EXIT.ok;
  }
  io.out(`模拟区间：${report.from} 至 ${report.to}，单位 ${report.units} 个`);
  io.out(
    `  工作流执行：${report.executions} 次；状态转换：${report.stateTransitions} 次；函数调用：${report.invocations} 次`,
  );
  io.out(`  DynamoDB：读 ${report.dynamodb.reads} 项，写 ${report.dynamodb.writes} 项`);
  io.out(
    `  邮件：${report.emails.total} 封（每人每个投递时刻一封，合计通知事项 ${report.emails.notices.cycle + report.emails.notices.case} 项）；单个地址单日最多 ${report.emails.maxPerAddressDay.count} 封`,
  );
  io.out(`  提交：按时 ${report.submissions.onTime} 次，逾期 ${report.submissions.late} 次`);
  io.out(`  用时：${report.wallSeconds.toFixed(1)} 秒；内存峰值：${report.peakRssMb} MiB`);
  return EXIT.ok;
}
