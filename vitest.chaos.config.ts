import { defineConfig } from 'vitest/config';

/**
 * `npm run test:chaos`: the fault-injection suite. Real worker processes, real
 * PostgreSQL, Redis and SMTP, and faults injected into them; one scenario at a time, so
 * the faults of one do not disturb another.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default', './test/count-reporter.ts'],
  },
});
