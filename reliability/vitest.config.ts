import { defineConfig } from 'vitest/config';

/**
 * Fault tests start real processes (redis-server, api, workers) and wait for them: long timeouts, one file
 * at a time in its own forked process, so two files never compete for the 2 cores or kill each other's pids.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
