import { appendFileSync, mkdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join, resolve } from 'node:path';
import { sendLogsTo } from '../../functions/handlers/common.ts';
import { parseInstant, toShanghaiIso } from '../../workflows/calendar.ts';
import { DeliveryPolicyError } from '../../workflows/delivery/policy.ts';
import { FaultsFileError, readFaultsFile } from '../../local/faults.ts';
import { ClockBehindDataError, savedClock, startRuntime } from '../../local/runtime.ts';
import { parse } from '../main.ts';
import { EXIT, UsageError, type Io } from '../output.ts';

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`${name} 应为 0–65535 之间的端口号：${value}`);
  return Number(value);
}

export async function startCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    port: { type: 'string' },
    'ses-port': { type: 'string' },
    data: { type: 'string' },
    clock: { type: 'string' },
    speed: { type: 'string' },
    faults: { type: 'string' },
    verbose: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  const speed = values.speed === undefined ? 1 : Number(values.speed);
  if (!Number.isFinite(speed) || speed < 0 || speed > 1e7)
    throw new UsageError(`--speed 应为 0 到 10000000 之间的数：${values.speed}`);
  const clockStart = values.clock ? parseInstant(values.clock) : undefined;
  const dataDir = resolve(values.data ?? '.safeduty');
  let faults;
  try {
    faults = values.faults ? readFaultsFile(resolve(values.faults)) : undefined;
  } catch (err) {
    if (err instanceof FaultsFileError) throw new UsageError(err.messageZh);
    throw err;
  }
  // Without --clock the virtual clock continues where it stopped (saved in the data folder), never jumping to
  // today: a jump of days would send every reminder and escalation of the days in between at once.
  const saved = savedClock(dataDir);

  io.out('safeduty 正在启动（本地模式：无需 AWS 账号、Docker 或网络）……');
  // The handlers' and the runtime's own records (English, for whoever debugs) go to a file unless --verbose.
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'safeduty.log');
  // Written through at once, line by line: the last records before a crash (kill -9 included) are the ones wanted.
  const logStream = values.verbose
    ? undefined
    : new Writable({
        write(chunk: Buffer, _encoding, done) {
          appendFileSync(logFile, chunk);
          done();
        },
      });
  if (logStream) sendLogsTo(logStream);
  const log = (m: string) => (logStream ? logStream.write(`${new Date().toISOString()} ${m}\n`) : io.err(m));
  let runtime;
  try {
    runtime = await startRuntime({
      dataDir,
      port: port(values.port, 8080, '--port'),
      sesPort: port(values['ses-port'], 8005, '--ses-port'),
      speed,
      ...(clockStart ? { clockStart } : {}),
      ...(faults ? { faults } : {}),
      log: (m) => void log(m),
    });
  } catch (err) {
    if (err instanceof ClockBehindDataError)
      throw new UsageError(
        `虚拟时钟不能回拨：数据目录 ${dataDir} 中的时钟已到 ${err.saved}，--clock 给出的 ${err.asked} 更早。` +
          '请给出更晚的时间，或换一个数据目录（--data）。',
      );
    if (err instanceof DeliveryPolicyError) throw new UsageError(err.messageZh);
    const e = err as { code?: string; port?: number };
    if (e.code === 'EADDRINUSE')
      throw new UsageError(
        `端口 ${e.port ?? ''} 已被占用（也许已有一个 safeduty 在运行）：请先停止它，` +
          '或用 --port（HTTP 接口）、--ses-port（邮件收件箱）换一个端口。',
      );
    throw err;
  }
  if (saved !== undefined && !clockStart)
    io.out(`（虚拟时钟从上次停止处继续：${toShanghaiIso(new Date(saved))}；要跳到其他时间请用 --clock）`);
  io.out('');
  io.out(`  管理控制台：       ${runtime.apiUrl}/console#token=${runtime.adminToken}`);
  io.out(`  HTTP 接口：        ${runtime.apiUrl}   （健康检查：${runtime.apiUrl}/health）`);
  io.out(`  邮件：             控制台的“邮件”页，按收件人查看发出的每封提醒和督办（虚拟发送时间）`);
  io.out(
    `  短信收件箱：       ${runtime.apiUrl}/_local/sms?token=${runtime.adminToken}   按手机号查看发出的每条短信`,
  );
  io.out(
    `  虚拟时钟：         ${runtime.apiUrl}/_local/clock   当前 ${toShanghaiIso(runtime.clock.now())}，速度 ${speed} 倍`,
  );
  io.out(`  数据目录：         ${dataDir}`);
  io.out(
    `  运行日志：         ${values.verbose ? '显示在终端（--verbose）' : `${logFile}（加 --verbose 显示在终端）`}`,
  );
  if (faults)
    io.out(
      `  故障模拟：         已按 ${values.faults} 开启（GET/PUT ${runtime.apiUrl}/_local/faults 查看或修改）`,
    );
  io.out(`  管理员令牌：       ${runtime.adminToken}`);
  io.out(
    `                     （请求头 Authorization: Bearer <令牌>；可用环境变量 SAFEDUTY_ADMIN_TOKEN 指定）`,
  );
  io.out('');
  io.out('按 Ctrl-C 停止。');

  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.out('正在停止……');
      runtime.close().then(done, done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  logStream?.end();
  io.out('已停止。');
  return EXIT.ok;
}
