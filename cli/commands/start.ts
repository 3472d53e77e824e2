import { resolve } from 'node:path';
import { parseInstant, toShanghaiIso } from '../../workflows/calendar.ts';
import { startRuntime } from '../../local/runtime.ts';
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
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  const speed = values.speed === undefined ? 1 : Number(values.speed);
  if (!Number.isFinite(speed) || speed < 0 || speed > 1e7)
    throw new UsageError(`--speed 应为 0 到 10000000 之间的数：${values.speed}`);
  const clockStart = values.clock ? parseInstant(values.clock) : undefined;
  const dataDir = resolve(values.data ?? '.safeduty');

  io.out('safeduty 正在启动（本地模式：无需 AWS 账号、Docker 或网络）……');
  const runtime = await startRuntime({
    dataDir,
    port: port(values.port, 8080, '--port'),
    sesPort: port(values['ses-port'], 8005, '--ses-port'),
    speed,
    ...(clockStart ? { clockStart } : {}),
    log: (m) => io.err(m),
  });
  io.out('');
  io.out(`  HTTP 接口：        ${runtime.apiUrl}   （健康检查：${runtime.apiUrl}/health）`);
  io.out(`  邮件收件箱：       ${runtime.sesUrl}/   （所有发出的提醒和督办邮件都在这里）`);
  io.out(
    `  虚拟时钟：         ${runtime.apiUrl}/_local/clock   当前 ${toShanghaiIso(runtime.clock.now())}，速度 ${speed} 倍`,
  );
  io.out(`  数据目录：         ${dataDir}`);
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
  io.out('已停止。');
  return EXIT.ok;
}
