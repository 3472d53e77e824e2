import { parse } from '../main.ts';
import { COMMON, call, run, target } from '../api-client.ts';
import { UsageError, readJsonObject, type Io } from '../output.ts';

const USAGE = `用法：
  safeduty calendar status [--api 地址]               已有哪些年份的节假日安排、缺哪一年、因此暂未启动的工作
  safeduty calendar show <年份> [--api 地址]          一年的放假日和调休上班日
  safeduty calendar load <安排.json> [--dry-run] [--api 地址]   载入国务院办公厅公布的一年节假日安排
      安排文件（JSON）：{"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知",
        "festivals": [{"name": "元旦", "rest": {"from": "2027-01-01", "to": "2027-01-03"}, "workdays": []},
                      {"name": "春节", "rest": {"from": "…", "to": "…"}, "workdays": ["…"]}, …]}
      七个节日（元旦、春节、清明、劳动节、端午、中秋、国庆节）各一项；workdays 为调休上班的周六、周日。`;

interface Status {
  builtIn: { from: number; to: number };
  loaded: {
    year: number;
    source: string;
    daysOff: number;
    workingWeekends: number;
    loadedAt: string;
    loadedBy: string;
  }[];
  missing: number[];
  heldCycles: number;
}

/** The official holiday arrangement on the deployment: what it has, one year's days, loading a year. */
export async function calendarAdminCommand(sub: string, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON, 'dry-run': { type: 'boolean' } });
  if (sub === 'status') {
    if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}\n${USAGE}`);
    const t = target(values);
    return run(io, async () => {
      const r = await call(t, 'GET', '/calendar');
      if (values.json) return io.out(r.text);
      const s = r.json as unknown as Status;
      io.out(`内置节假日安排：${s.builtIn.from}—${s.builtIn.to} 年`);
      for (const y of s.loaded)
        io.out(
          `已载入：${y.year} 年（${y.source}；放假 ${y.daysOff} 天，调休上班 ${y.workingWeekends} 天；${y.loadedBy}，${y.loadedAt.slice(0, 16).replace('T', ' ')}）`,
        );
      if (s.missing.length > 0)
        io.out(
          `缺少：${s.missing.join('、')} 年。截止日期落在这些年份的工作暂不启动，请在安排公布后用 safeduty calendar load 载入。`,
        );
      if (s.heldCycles > 0) io.out(`因此暂未启动的工作：${s.heldCycles} 项`);
    });
  }
  if (sub === 'show') {
    const [year, ...extra] = positionals;
    if (!year || extra.length > 0 || !/^20\d{2}$/.test(year))
      throw new UsageError(`请给出四位年份，如 safeduty calendar show 2027\n${USAGE}`);
    const t = target(values);
    return run(io, async () => {
      const r = await call(t, 'GET', `/calendar/${year}`);
      if (values.json) return io.out(r.text);
      const y = r.json as {
        verified: boolean;
        daysOff: { date: string; reasonZh: string }[];
        workingWeekends: { date: string; reasonZh: string }[];
      };
      if (!y.verified) return io.out(`${year} 年的节假日安排尚未载入。`);
      io.out(`${year} 年放假 ${y.daysOff.length} 天：`);
      for (const d of y.daysOff) io.out(`  ${d.date}  ${d.reasonZh}`);
      io.out(`调休上班 ${y.workingWeekends.length} 天：`);
      for (const d of y.workingWeekends) io.out(`  ${d.date}  ${d.reasonZh}`);
    });
  }
  // load
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0)
    throw new UsageError(`请给出安排文件：safeduty calendar load <安排.json>\n${USAGE}`);
  const body = readJsonObject(file, '节假日安排');
  if (typeof body.year !== 'number' || !/^20\d{2}$/.test(String(body.year)))
    throw new UsageError('安排文件中的 year 应为四位年份（数字），如 "year": 2027');
  const t = target(values);
  return run(io, async () => {
    const r = await call(
      t,
      'PUT',
      `/calendar/${body.year as number}${values['dry-run'] ? '?dryRun=true' : ''}`,
      {
        body: JSON.stringify(body),
        idempotent: true,
      },
    );
    if (values.json) return io.out(r.text);
    const a = r.json as {
      year: number;
      daysOff: number;
      workingWeekends: number;
      started?: number;
      stillHeld?: number;
    };
    if (values['dry-run'])
      return io.out(
        `检查通过（未写入）：${a.year} 年放假 ${a.daysOff} 天，调休上班 ${a.workingWeekends} 天。去掉 --dry-run 即载入。`,
      );
    io.out(`已载入 ${a.year} 年节假日安排：放假 ${a.daysOff} 天，调休上班 ${a.workingWeekends} 天。`);
    if (a.started) io.out(`此前因缺少安排暂未启动的工作已启动 ${a.started} 项。`);
  });
}
