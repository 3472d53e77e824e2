import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The console's files: on Lambda, built into the bundle's `console/` folder at synth (infra/stateless-stack.ts);
 * from the source tree (npm start, tests), `console/app.ts` is built with esbuild on first request and kept.
 */
export type ConsoleAsset = 'index.html' | 'app.js' | 'app.css' | 'unit.js';

const TYPES: Record<ConsoleAsset, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'unit.js': 'text/javascript; charset=utf-8',
};

const cache = new Map<ConsoleAsset, Promise<string>>();

function bundledDir(): string | undefined {
  const root = process.env.LAMBDA_TASK_ROOT;
  return root && existsSync(join(root, 'console', 'app.js')) ? join(root, 'console') : undefined;
}

const SOURCE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

/** Builds the console script from source: one ES module, minified, for current browsers. */
export async function buildConsoleScript(entry = join(SOURCE_DIR, 'app.ts')): Promise<string> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return out.outputFiles[0]?.text ?? '';
}

async function load(name: ConsoleAsset): Promise<string> {
  const bundled = bundledDir();
  if (bundled) return readFileSync(join(bundled, name), 'utf8');
  if (name === 'app.js') return buildConsoleScript();
  if (name === 'unit.js') return buildConsoleScript(join(SOURCE_DIR, 'unit.ts'));
  return readFileSync(join(SOURCE_DIR, name), 'utf8');
}

export async function consoleAsset(name: ConsoleAsset): Promise<{ body: string; type: string }> {
  let p = cache.get(name);
  if (!p) {
    p = load(name);
    cache.set(name, p);
    // A failed build is tried again on the next request, not remembered.
    p.catch(() => cache.delete(name));
  }
  return { body: await p, type: TYPES[name] };
}
