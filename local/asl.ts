import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LocalMachines } from './synth-asl.ts';

export type { LocalMachines } from './synth-asl.ts';

const run = promisify(execFile);
const cache = new Map<string, Promise<LocalMachines>>();

/**
 * The state machines as the CDK app synthesizes them (see synth-asl.ts), synthesized in a child process and
 * remembered for the life of this process: definitions do not change while it runs.
 */
export function loadStateMachines(env: { region: string; account: string }): Promise<LocalMachines> {
  const key = JSON.stringify(env);
  let machines = cache.get(key);
  if (!machines) {
    machines = run(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        fileURLToPath(new URL('./synth-asl.ts', import.meta.url)),
        key,
      ],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LOG_LEVEL: 'ERROR' } },
    ).then(({ stdout }) => JSON.parse(stdout) as LocalMachines);
    machines.catch(() => cache.delete(key));
    cache.set(key, machines);
  }
  return machines;
}
