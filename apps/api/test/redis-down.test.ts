import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Store } from '@kws/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors } from '../src/errors.ts';
import { QUEUE_TIMEOUT_MS } from '../src/queue/training-queue.ts';
import { speechWav } from './audio.ts';
import { bearer, createUser, errorOf, startTestApp, type TestApp, upload } from './helpers.ts';

/** A port nothing listens on: bound once to find it free, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let t: TestApp;
let token: string;
const USER = 'offline';

beforeAll(async () => {
  t = await startTestApp({ redisUrl: `redis://127.0.0.1:${await closedPort()}` });
  ({ token } = await createUser(t, USER));
});
afterAll(async () => {
  await t.cleanup();
});

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

describe('with Redis down', () => {
  it('uploads, listings and downloads keep working from the store', async () => {
    const up = await upload(
      t,
      USER,
      token,
      Array.from({ length: 3 }, (_, i) => ({ name: `c${i}.wav`, bytes: speechWav(0.6, { seed: i }) })),
    );
    expect(up.statusCode, up.body).toBe(201);
    const list = await t.app.inject({
      method: 'GET',
      url: `/v1/users/${USER}/enrollments`,
      headers: bearer(token),
    });
    expect(list.json().clips).toHaveLength(3);
    const store = await Store.open(t.config.dataDir);
    await store.putModelVersion(USER, 'v1', { 'model.kws': new Uint8Array([7, 7]) });
    await store.setCurrentModel(USER, 'v1');
    const model = await t.app.inject({
      method: 'GET',
      url: `/v1/users/${USER}/model`,
      headers: bearer(token),
    });
    expect(model.statusCode).toBe(200);
  });

  it('queue routes answer 503 within 1 s', async () => {
    const post = await timed(() =>
      t.app.inject({ method: 'POST', url: `/v1/users/${USER}/models`, headers: bearer(token) }),
    );
    expect([post.value.statusCode, errorOf(post.value).code]).toEqual([503, errors.QUEUE_UNAVAILABLE.code]);
    expect(errorOf(post.value).message).toMatch(/Redis at 127\.0\.0\.1:\d+ is not connected/);
    expect(post.ms).toBeLessThan(1000);
    const job = await timed(() =>
      t.app.inject({ method: 'GET', url: '/v1/jobs/some-job', headers: t.admin }),
    );
    expect([job.value.statusCode, errorOf(job.value).code]).toEqual([503, errors.QUEUE_UNAVAILABLE.code]);
    expect(job.ms).toBeLessThan(1000);
  });

  it('/readyz is 503 naming Redis, /healthz 200, /metrics still answers', async () => {
    const ready = await timed(() => t.app.inject({ method: 'GET', url: '/readyz' }));
    expect([ready.value.statusCode, errorOf(ready.value).code]).toEqual([503, errors.NOT_READY.code]);
    expect(errorOf(ready.value).message).toBe('not ready: redis unreachable, storage ok');
    expect(ready.ms).toBeLessThan(QUEUE_TIMEOUT_MS + 200);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^kws_queue_up 0$/m);
  });

  it('deleting a user still works (the store is the truth)', async () => {
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/users/${USER}`, headers: t.admin });
    expect(del.statusCode).toBe(204);
  });
});

const haveRedisServer = !spawnSync('redis-server', ['--version']).error;

describe.skipIf(!haveRedisServer)(
  'when Redis stops answering mid-life (a private redis-server, frozen)',
  () => {
    let redis: ChildProcess;
    let live: TestApp;

    beforeAll(async () => {
      const port = await closedPort();
      redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      live = await startTestApp({ redisUrl: `redis://127.0.0.1:${port}` });
      for (let i = 0; i < 100; i++) {
        if ((await live.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    afterAll(async () => {
      redis.kill('SIGCONT');
      redis.kill('SIGKILL');
      await live.cleanup();
    });

    it('answers from Redis while it runs, then 503 within 1 s once it hangs, and recovers', async () => {
      const { token: tk } = await createUser(live, 'frozen');
      const before = await live.app.inject({
        method: 'GET',
        url: '/v1/jobs/nothing-here',
        headers: live.admin,
      });
      expect(before.statusCode).toBe(404);
      redis.kill('SIGSTOP');
      const hung = await timed(() =>
        live.app.inject({ method: 'GET', url: '/v1/jobs/nothing-here', headers: live.admin }),
      );
      expect([hung.value.statusCode, errorOf(hung.value).code]).toEqual([503, errors.QUEUE_UNAVAILABLE.code]);
      expect(hung.ms).toBeLessThan(1000);
      const post = await timed(() =>
        live.app.inject({ method: 'POST', url: '/v1/users/frozen/models', headers: bearer(tk) }),
      );
      // 409 (too few clips) comes from the store, before the queue is asked.
      expect(post.value.statusCode).toBe(409);
      redis.kill('SIGCONT');
      let after = 0;
      for (let i = 0; i < 60 && after !== 404; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = (await live.app.inject({ method: 'GET', url: '/v1/jobs/nothing-here', headers: live.admin }))
          .statusCode;
      }
      expect(after).toBe(404);
    });
  },
);
