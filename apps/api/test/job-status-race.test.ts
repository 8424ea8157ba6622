import { randomUUID } from 'node:crypto';
import { TRAINING_QUEUE, type TrainingResult } from '@kws/store';
import { Worker } from 'bullmq';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TrainingQueue } from '../src/queue/training-queue.ts';
import { deleteRedisKeys, REDIS_URL } from './helpers.ts';

const RESULT: TrainingResult = {
  modelVersion: 'm1',
  sha256: 'ab'.repeat(32),
  metrics: { frrBefore: 0.5, frrAfter: 0.1, faPerHour: 0.3, threshold: 0.7 },
};

const prefix = `test-${randomUUID()}`;
let queue: TrainingQueue | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.close();
  await queue?.close();
  await deleteRedisKeys(prefix);
});

describe('job status read while the worker finishes the job', () => {
  // Found by reliability/test/redis-restart and the soak: polling clients saw `completed` with no result when
  // the job hash was read before the worker finished and the state after.
  it('is never completed without its result', async () => {
    queue = new TrainingQueue({ redisUrl: REDIS_URL, prefix, logger: Fastify().log });
    const jobId = await queue.enqueue({
      userId: 'racer',
      clipIds: ['c1', 'c2', 'c3'],
      clipSetSha256: 'cd'.repeat(32),
      requestedAt: new Date().toISOString(),
    });
    worker = new Worker(TRAINING_QUEUE, null, { connection: { url: REDIS_URL }, prefix });
    const lockToken = randomUUID();
    const job = await worker.getNextJob(lockToken);
    expect(job?.id).toBe(jobId);

    // Whichever read getStatus makes first, the job completes right after it returns.
    let finished = false;
    const finishAfter =
      <A extends unknown[], R>(read: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const value = await read(...args);
        if (!finished) {
          finished = true;
          await job!.moveToCompleted(RESULT, lockToken, false);
        }
        return value;
      };
    const bull = queue.queue;
    bull.getJob = finishAfter(bull.getJob.bind(bull));
    bull.getJobState = finishAfter(bull.getJobState.bind(bull));

    const during = await queue.getStatus(jobId);
    expect(finished).toBe(true);
    if (during?.state === 'completed') expect(during.result).toEqual(RESULT);
    expect(await queue.getStatus(jobId)).toMatchObject({ state: 'completed', result: RESULT });
  });
});
