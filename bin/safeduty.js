#!/usr/bin/env node
// Entry point for `npx safeduty`: registers tsx so the TypeScript sources run as they are, without a build step.
import { register } from 'tsx/esm/api';

// Handlers log structured JSON for CloudWatch; on a terminal only warnings and errors are worth showing.
process.env.LOG_LEVEL ??= 'WARN';
// The AWS SDK warns that its 2027 releases need Node 22; Lambda runs Node 22, and on a terminal it is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Output piped into a reader that stops early (`safeduty overdue | head`) is not an error: stop quietly.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
