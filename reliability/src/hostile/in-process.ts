import { rm } from 'node:fs/promises';
import { startTestApp, type TestApp } from '../../../apps/api/test/helpers.ts';
import { startRedis } from '../redis.ts';

/**
 * The api built in this process (for `inject`, or `listen` on port 0 with its server timeouts shortened), as
 * the api's own tests build it, but on a private redis-server: the fault suites never touch the shared Redis.
 */
export async function inProcessApi(): Promise<{ t: TestApp; teardown: () => Promise<void> }> {
  const redis = await startRedis();
  try {
    const t = await startTestApp({ redisUrl: redis.url });
    return {
      t,
      // Not `t.cleanup()`: that deletes the queue's keys on the shared Redis; this Redis goes away whole.
      async teardown() {
        await t.app.close();
        await rm(t.config.dataDir, { recursive: true, force: true });
        await redis.teardown();
      },
    };
  } catch (err) {
    await redis.teardown();
    throw err;
  }
}
