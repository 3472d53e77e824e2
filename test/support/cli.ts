import { main } from '../../cli/main.ts';
import type { Runtime } from '../../local/runtime.ts';

/** The `safeduty` command against a running local system, as its administrator: exit code and what it printed. */
export async function runCli(
  rt: Runtime,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
  const code = await main([...args, '--api', rt.apiUrl], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
