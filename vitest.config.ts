import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The long runs (`npm run test:long`, vitest.long.config.ts): CI runs them after the suite.
    exclude: ['test/long/**', '**/node_modules/**'],
    environment: 'node',
    // Guards against a hang, not speed targets (the benchmark measures those): e2e walks run up to ~40 s on a
    // loaded two-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Both cores: vitest's default leaves one idle (cores − 1), which made the suite take twice as long on the
    // two-core machines it is meant to finish on in about 15 minutes. The walks run on virtual clocks, so the
    // contention slows them down without changing what they see.
    maxWorkers: 2,
    // Handlers log JSON at INFO on AWS; in tests only warnings and errors are worth reading.
    env: { LOG_LEVEL: 'WARN', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
