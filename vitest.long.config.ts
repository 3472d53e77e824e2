import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The long runs of `npm run test:long`: walks too long for `npm test` on two cores, run by CI after it. Spread,
// not mergeConfig: that would add these globs to the suite's instead of replacing them.
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/long/**/*.test.ts'], exclude: ['**/node_modules/**'] },
});
