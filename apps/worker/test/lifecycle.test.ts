/**
 * The worker's lifecycle against a real Redis and the real personalize: the lock holds while a thread
 * trains for longer than the lock lasts, and shutdown either lets the job finish or hands it back.
 */
import { QueueEvents } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  enqueue,
  openQueue,
  REDIS_URL,
  type TestEnv,
  testEnv,
  userWithClips,
  voiceClips,
  waitFor,
} from './helpers.ts';

let env: TestEnv;
let queue: ReturnType<typeof openQueue>;

beforeEach(async () => {
  env = await testEnv();
  queue = openQueue(env);
});
afterEach(async () => {
  await queue.close();
  await env.cleanup();
});

async function trainingJob(userId: string) {
  const { enrollment } = await voiceClips();
  return enqueue(queue, await userWithClips(env, userId, enrollment));
}

/** Waits until training reported progress (the job is active and its thread is busy). */
async function waitForTraining(jobId: string): Promise<void> {
  await waitFor(`job ${jobId} to report training progress`, async () => {
    const job = await queue.getJob(jobId);
    const p = job?.progress as { pct?: number; loss?: number | null } | undefined;
    return typeof p?.loss === 'number' ? true : undefined;
  });
}

describe('lock and stalled-job recovery', () => {
  it('keeps the lock while training runs longer than the lock duration: the job is never stalled', async () => {
    const lockDurationMs = 1_000;
    const events = new QueueEvents('personalize', { connection: { url: REDIS_URL }, prefix: env.prefix });
    const stalled: string[] = [];
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    await events.waitUntilReady();
    try {
      // personalize's full default budget (150 steps, several seconds of one busy core), under a 1 s lock.
      await env.startWorker(
        { trainingSteps: 150 },
        { lockDurationMs, stalledIntervalMs: 250, maxStalledCount: 0 },
      );
      const job = await trainingJob('long');
      const done = await waitFor(`job ${job.id} to finish`, async () => {
        const j = await queue.getJob(job.id!);
        return j?.finishedOn ? j : undefined;
      });
      expect(done.failedReason).toBeFalsy();
      expect(await done.getState()).toBe('completed');
      // It really outlived its lock several times over, on a main thread that kept renewing it.
      expect(done.finishedOn! - done.processedOn!).toBeGreaterThan(3 * lockDurationMs);
      expect(done.attemptsMade).toBe(1);
      expect(done.stalledCounter).toBe(0);
      expect(stalled).toEqual([]);
    } finally {
      await events.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('hands the current job back when the grace period ends; another worker then finishes it', async () => {
    const worker = await env.startWorker({ shutdownGraceS: 0 });
    const job = await trainingJob('handback');
    await waitForTraining(job.id!);
    const closing = worker.close();
    expect(worker.close()).toBe(closing);
    await closing;
    await worker.close();

    const back = (await queue.getJob(job.id!))!;
    expect(await back.getState()).toBe('waiting');
    expect(back.attemptsMade).toBe(0);
    expect(back.failedReason).toBeFalsy();
    expect(await env.store.getCurrentModel('handback')).toBeUndefined();

    await env.startWorker();
    const done = await waitFor(`job ${job.id} to finish on the second worker`, async () => {
      const j = await queue.getJob(job.id!);
      return j?.finishedOn ? j : undefined;
    });
    expect(await done.getState()).toBe('completed');
    expect((await env.store.getCurrentModel('handback'))?.version).toBe(done.returnvalue.modelVersion);
  });

  it('lets the current job finish within the grace period', async () => {
    const worker = await env.startWorker({ shutdownGraceS: 120 });
    const job = await trainingJob('finisher');
    await waitForTraining(job.id!);
    await worker.close();
    const done = (await queue.getJob(job.id!))!;
    expect(await done.getState()).toBe('completed');
    expect((await env.store.getCurrentModel('finisher'))?.version).toBe(done.returnvalue.modelVersion);
  });
});
