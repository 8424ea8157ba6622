import { readFile } from 'node:fs/promises';
import { BASE_MODEL_PATH } from '@kws/detector';
import { errors, Store } from '@kws/store';
import { describe, expect, it } from 'vitest';
import {
  expectStatus,
  type HttpReply,
  scanStore,
  sleep,
  speechWav,
  voiceClips,
  waitUntil,
} from '../src/harness.ts';
import { clusterPerFile } from './cluster-fixture.ts';

/**
 * DESIGN §5/§6: Redis holds only the queue. While it is away, queue routes answer 503 within 1 s naming
 * Redis, the store keeps serving uploads, listings and downloads; when it comes back (empty: no persistence)
 * the same api and worker processes recover by themselves, nothing stored is lost, and re-posting a training
 * request is idempotent and runs to completion.
 */
const TRAINING_STEPS = 80;
/** How long Redis stays away. */
const OUTAGE_MS = 8_000;

const cluster = clusterPerFile({ workers: 1, trainingSteps: TRAINING_STEPS });

/** The two files the store rewrites in place: a user's clip index and the `current` model pointer. */
const MUTABLE = /\/(user|current)\.json$/;

/** Every clip and model version file of `before` is in `after` with the same bytes. */
function expectKept(before: Map<string, string>, after: Map<string, string>): void {
  for (const [path, sha] of before) if (!MUTABLE.test(path)) expect(after.get(path), path).toBe(sha);
}

async function timed(run: () => Promise<HttpReply>): Promise<{ ms: number; res: HttpReply }> {
  const start = performance.now();
  const res = await run();
  return { ms: performance.now() - start, res };
}

describe('redis-server stopped and restarted empty while jobs are queued and running', () => {
  it('answers 503 while Redis is away, recovers without a restart, loses nothing stored', async () => {
    const { client, dataDir, redis, api } = cluster();
    const { enrollment } = await voiceClips();
    const a = await client.createUser('faults-redis-a');
    const b = await client.createUser('faults-redis-b');
    expectStatus(await client.uploadClips(a.userId, a.token, enrollment), 201, 'uploading for a');
    expectStatus(await client.uploadClips(b.userId, b.token, enrollment.slice(1)), 201, 'uploading for b');
    const store = await Store.open(dataDir);
    await store.putModelVersion(a.userId, 'v1', {
      'model.kws': new Uint8Array(await readFile(BASE_MODEL_PATH)),
    });
    await store.setCurrentModel(a.userId, 'v1');

    const jobA = expectStatus(await client.requestTraining(a.userId, a.token), 202, 'training a').json<{
      jobId: string;
    }>().jobId;
    const jobB = expectStatus(await client.requestTraining(b.userId, b.token), 202, 'training b').json<{
      jobId: string;
    }>().jobId;
    await client.waitForJob(jobA, a.token, (s) => s.state === 'active' && s.progress.pct > 0, 60_000);
    expect((await client.job(jobB, b.token)).json<{ state: string }>().state).toBe('queued');
    const before = await scanStore(dataDir);
    const clipsBefore = {
      a: expectStatus(await client.listClips(a.userId, a.token), 200, 'listing a').json<{
        clips: unknown[];
      }>().clips,
      b: expectStatus(await client.listClips(b.userId, b.token), 200, 'listing b').json<{
        clips: unknown[];
      }>().clips,
    };
    const workerPid = cluster().workers[0].pid;
    const apiPid = api.process.pid;

    await redis.stop();
    const downAt = performance.now();

    // Queue routes: 503 with the coded JSON error naming Redis, fast.
    const post = await timed(() => client.requestTraining(a.userId, a.token));
    const job = await timed(() => client.job(jobA, a.token));
    const ready = await timed(() => client.request('GET', '/readyz'));
    for (const { res } of [post, job, ready]) expect(res.status, res.body.toString()).toBe(503);
    expect([post.res.errorCode(), job.res.errorCode()]).toEqual([
      errors.QUEUE_UNAVAILABLE.code,
      errors.QUEUE_UNAVAILABLE.code,
    ]);
    expect(post.res.json<{ error: { message: string } }>().error.message).toMatch(
      /Redis at 127\.0\.0\.1:\d+/,
    );
    expect(ready.res.json<{ error: { message: string } }>().error.message).toMatch(/redis unreachable/);
    const slowest503 = Math.max(post.ms, job.ms, ready.ms);
    expect(slowest503).toBeLessThan(1_000);

    // The store keeps working: an upload, the listing, the model download.
    const outageClip = speechWav(0.8, { seed: 42 });
    const up = await client.uploadClips(b.userId, b.token, [outageClip]);
    expect(up.status, up.body.toString()).toBe(201);
    const listB = expectStatus(await client.listClips(b.userId, b.token), 200, 'listing b').json<{
      clips: unknown[];
    }>();
    expect(listB.clips).toHaveLength(5);
    expect((await client.downloadModel(a.userId, a.token)).status).toBe(200);

    // Long enough for the api's and the worker's reconnect backoff to reach its cap (2 s in the api).
    await sleep(OUTAGE_MS - (performance.now() - downAt));
    await redis.restart();
    const upAt = performance.now();
    await waitUntil('readyz 200 after the restart', async () =>
      (await client.request('GET', '/readyz')).status === 200 ? true : undefined,
    );
    const readyAt = performance.now();
    expect(api.process.pid).toBe(apiPid);
    expect(api.process.running).toBe(true);
    expect(cluster().workers[0].process.running).toBe(true);
    expect(cluster().workers[0].pid).toBe(workerPid);

    // Nothing stored before the outage changed or vanished (the worker may have added a version meanwhile;
    // the clip indexes are compared through the listings, the current pointers through the jobs' results).
    const after = await scanStore(dataDir);
    expectKept(before.files, after.files);
    expect([after.partialVersions, after.danglingCurrent]).toEqual([[], []]);

    // The jobs went with Redis; re-posting is idempotent (same id twice) and both run to completion.
    const again = async (user: { userId: string; token: string }) => {
      const first = expectStatus(await client.requestTraining(user.userId, user.token), 202, 're-post').json<{
        jobId: string;
      }>().jobId;
      const second = expectStatus(
        await client.requestTraining(user.userId, user.token),
        202,
        're-post',
      ).json<{
        jobId: string;
      }>().jobId;
      expect(second).toBe(first);
      return first;
    };
    const repostedA = await again(a);
    const repostedB = await again(b);
    const doneA = await client.waitForJob(repostedA, a.token, undefined, 120_000);
    const doneB = await client.waitForJob(repostedB, b.token, undefined, 120_000);
    const completedAt = performance.now();
    expect([doneA.state, doneB.state], JSON.stringify([doneA, doneB])).toEqual(['completed', 'completed']);
    expect((await store.getCurrentModel(a.userId))?.version).toBe(doneA.result?.modelVersion);
    expect((await store.getCurrentModel(b.userId))?.version).toBe(doneB.result?.modelVersion);
    const final = await scanStore(dataDir);
    expectKept(before.files, final.files);
    const listed = async (u: { userId: string; token: string }) =>
      expectStatus(await client.listClips(u.userId, u.token), 200, 'listing').json<{ clips: unknown[] }>()
        .clips;
    expect(await listed(a)).toEqual(clipsBefore.a);
    expect((await listed(b)).slice(0, 4)).toEqual(clipsBefore.b);
    expect([final.tempFiles, final.partialVersions, final.danglingCurrent]).toEqual([[], [], []]);

    const s = (ms: number) => (ms / 1000).toFixed(1);
    process.stdout.write(
      `redis-restart: slowest 503 ${slowest503.toFixed(0)} ms; outage ${s(upAt - downAt)} s; readyz 200 ` +
        `${s(readyAt - upAt)} s after redis came back; re-posted jobs completed ${s(completedAt - readyAt)} s ` +
        `later; ${before.files.size} stored files unchanged\n`,
    );
  });
});
