import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_CLIPS } from '@kws/detector';
import { MAX_CLIPS_PER_USER, TRAINING_QUEUE, type TrainingJobData, type TrainingResult } from '@kws/store';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errors } from '../src/errors.ts';
import { MAX_CLIPS_TO_TRAIN } from '../src/routes/models.ts';
import { speechWav } from './audio.ts';
import { bearer, createUser, errorOf, REDIS_URL, startTestApp, type TestApp, upload } from './helpers.ts';

let t: TestApp;
let token: string;
/** The test's own view of the app's queue (same prefix), to check what Redis holds. */
let queue: Queue<TrainingJobData, TrainingResult>;
let worker: Worker | undefined;
const USER = 'trainee';

beforeEach(async () => {
  t = await startTestApp();
  ({ token } = await createUser(t, USER));
  queue = new Queue(TRAINING_QUEUE, { connection: { url: REDIS_URL }, prefix: t.config.queuePrefix });
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await queue.close();
  await t.cleanup();
});

async function addClips(n: number, seed = 0): Promise<void> {
  const files = Array.from({ length: n }, (_, i) => ({
    name: `c${i}.wav`,
    bytes: speechWav(0.5, { seed: seed + i }),
  }));
  const res = await upload(t, USER, token, files);
  expect(res.statusCode, res.body).toBe(201);
}

async function train(as = token): Promise<{ status: number; jobId?: string; code?: string }> {
  const res = await t.app.inject({ method: 'POST', url: `/v1/users/${USER}/models`, headers: bearer(as) });
  return res.statusCode === 202
    ? { status: 202, jobId: res.json().jobId }
    : { status: res.statusCode, code: errorOf(res).code };
}

async function status(jobId: string, headers = bearer(token)) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}`, headers });
  return { statusCode: res.statusCode, body: res.json() };
}

/** A real BullMQ worker run by the test (not a trainer): it reports progress, then does what it's told. */
function startWorker(finish: (job: { id?: string }) => Promise<TrainingResult>): {
  active: Promise<void>;
  release: () => void;
} {
  let release!: () => void;
  let markActive!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const active = new Promise<void>((r) => {
    markActive = r;
  });
  worker = new Worker<TrainingJobData, TrainingResult>(
    TRAINING_QUEUE,
    async (job) => {
      await job.updateProgress({ epoch: 2, loss: 0.25, pct: 40 });
      markActive();
      await gate;
      return finish(job);
    },
    { connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix: t.config.queuePrefix },
  );
  return { active, release };
}

describe('training jobs', () => {
  it('needs 3 clips: 409 before, 202 with a job id after', async () => {
    await addClips(2);
    expect(await train()).toEqual({ status: 409, code: errors.NOT_ENOUGH_CLIPS.code });
    await addClips(1, 10);
    const first = await train();
    expect(first.status).toBe(202);
    const job = await queue.getJob(first.jobId!);
    expect(job?.data.userId).toBe(USER);
    expect(job?.data.clipIds).toHaveLength(3);
  });

  it('a user at the clip limit trains on the newest clips personalize accepts (not a job that must fail)', async () => {
    expect(MAX_CLIPS_TO_TRAIN).toBe(MAX_CLIPS);
    await addClips(10);
    await addClips(10, 100);
    const list = await t.app.inject({
      method: 'GET',
      url: `/v1/users/${USER}/enrollments`,
      headers: bearer(token),
    });
    const stored = (list.json().clips as { clipId: string }[]).map((c) => c.clipId);
    expect(stored).toHaveLength(MAX_CLIPS_PER_USER);
    const { jobId } = await train();
    const job = await queue.getJob(jobId!);
    expect(job?.data.clipIds).toEqual(stored.slice(-MAX_CLIPS));
  });

  it('an identical request while queued or active returns the same job; after it ended, a new one', async () => {
    await addClips(3);
    const ids = await Promise.all(Array.from({ length: 6 }, () => train()));
    const jobId = ids[0].jobId!;
    expect(new Set(ids.map((r) => r.jobId))).toEqual(new Set([jobId]));
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect(await status(jobId)).toEqual({
      statusCode: 200,
      body: { jobId, state: 'queued', progress: { epoch: 0, loss: null, pct: 0 } },
    });

    const result: TrainingResult = {
      modelVersion: 'v1',
      sha256: 'a'.repeat(64),
      metrics: { frrBefore: 0.3, frrAfter: 0.05, faPerHour: 0.4, threshold: 0.7 },
    };
    const run = startWorker(async () => result);
    await run.active;
    expect((await status(jobId)).body).toEqual({
      jobId,
      state: 'active',
      progress: { epoch: 2, loss: 0.25, pct: 40 },
    });
    expect((await train()).jobId).toBe(jobId);

    const completed = new Promise<void>((resolve) => worker!.once('completed', () => resolve()));
    run.release();
    await completed;
    expect((await status(jobId)).body).toEqual({
      jobId,
      state: 'completed',
      progress: { epoch: 2, loss: 0.25, pct: 40 },
      result,
    });
    await worker!.close();
    worker = undefined;
    // /metrics observed the job's run and wait time once, however often it is scraped.
    for (let i = 0; i < 2; i++) {
      const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^kws_job_duration_seconds_count\{outcome="completed"\} 1$/m);
      expect(metrics).toMatch(/^kws_job_wait_seconds_count\{outcome="completed"\} 1$/m);
    }

    const next = await train();
    expect(next.status).toBe(202);
    expect(next.jobId).not.toBe(jobId);
    expect((await status(next.jobId!)).body.state).toBe('queued');

    // Another clip set is another job, even while the first one is queued.
    await addClips(1, 20);
    const other = await train();
    expect(other.jobId).not.toBe(next.jobId);
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 2 });
  });

  it("a failed job reports the worker's coded error", async () => {
    await addClips(3);
    const { jobId } = await train();
    const run = startWorker(async () => {
      throw new UnrecoverableError('KWS_ERR_TRAINING_DIVERGED: loss became NaN at epoch 3');
    });
    const failed = new Promise<void>((resolve) => worker!.once('failed', () => resolve()));
    run.release();
    await failed;
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^kws_job_duration_seconds_count\{outcome="failed"\} 1$/m);
    expect((await status(jobId!)).body).toMatchObject({
      state: 'failed',
      error: { code: 'KWS_ERR_TRAINING_DIVERGED', message: 'loss became NaN at epoch 3' },
    });
  });

  it("the owner and the admin see a job; another user, a bad token or a bad id don't", async () => {
    await addClips(3);
    const { jobId } = await train();
    const other = await createUser(t, 'someoneElse');
    expect((await status(jobId!, t.admin)).statusCode).toBe(200);
    const foreign = await status(jobId!, bearer(other.token));
    expect([foreign.statusCode, foreign.body.error.code]).toEqual([404, errors.JOB_NOT_FOUND.code]);
    const missing = await status('no-such-job');
    expect([missing.statusCode, missing.body.error.code]).toEqual([404, errors.JOB_NOT_FOUND.code]);
    expect((await status(jobId!, {})).statusCode).toBe(401);
    expect((await status('a:b', t.admin)).statusCode).toBe(400);
  });

  it('deleting the user removes its jobs and the bookkeeping from Redis', async () => {
    await addClips(3);
    const { jobId } = await train();
    expect(await queue.getJob(jobId!)).toBeDefined();
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/users/${USER}`, headers: t.admin });
    expect(del.statusCode).toBe(204);
    expect(await queue.getJob(jobId!)).toBeUndefined();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${t.config.queuePrefix}:${TRAINING_QUEUE}:kws-generations:*`);
    await redis.quit();
    expect(keys).toEqual([]);
    expect((await status(jobId!, t.admin)).statusCode).toBe(404);
    expect(await readdir(join(t.config.dataDir, 'users'))).toEqual([]);
  });
});
