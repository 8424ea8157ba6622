/**
 * Jobs that cannot produce a model fail with a `KWS_ERR_*` code the api shows, and never move `current`:
 * clips personalize rejects (real personalize, real Redis), a job past its time limit, clips deleted
 * before the job ran.
 */
import { readFile } from 'node:fs/promises';
import { encodeWav } from '@kws/audio';
import { BASE_MODEL_PATH } from '@kws/detector';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enqueue, openQueue, type TestEnv, testEnv, userWithClips, voiceClips, waitFor } from './helpers.ts';

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

/** A user whose current model is an earlier version, so the test can see that `current` stays. */
async function withEarlierModel(userId: string): Promise<string> {
  const bytes = new Uint8Array(await readFile(BASE_MODEL_PATH));
  await env.store.putModelVersion(userId, 'earlier', { 'model.kws': bytes });
  await env.store.setCurrentModel(userId, 'earlier');
  return 'earlier';
}

async function finished(jobId: string) {
  return waitFor(`job ${jobId} to finish`, async () => {
    const job = await queue.getJob(jobId);
    return job?.finishedOn ? job : undefined;
  });
}

async function versions(userId: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const dir = `${env.dataDir}/users/${userId}/models`;
  return (await readdir(dir)).filter((name) => name !== 'current.json').sort();
}

describe('failed jobs', () => {
  it('clips personalize rejects (silence): failed at once with KWS_ERR_BAD_AUDIO, current unchanged', async () => {
    await env.startWorker();
    const silent = encodeWav(new Float32Array(16_000), 16_000);
    const data = await userWithClips(env, 'quiet', [silent, silent, silent]);
    await withEarlierModel('quiet');
    const job = await finished((await enqueue(queue, data)).id!);
    expect(await job.getState()).toBe('failed');
    expect(job.failedReason).toMatch(
      /^KWS_ERR_BAD_AUDIO: personalization rejected the clips: clip 1: no speech/,
    );
    // Unrecoverable: no retry was scheduled although the contract allows 3 attempts.
    expect(job.attemptsMade).toBe(1);
    expect((await env.store.getCurrentModel('quiet'))?.version).toBe('earlier');
    expect(await versions('quiet')).toEqual(['earlier']);
  });

  it('a job past its time limit: KWS_ERR_TRAINING_TIMEOUT, current unchanged', async () => {
    await env.startWorker({ jobTimeoutS: 1, trainingSteps: 100_000 });
    const { enrollment } = await voiceClips();
    const data = await userWithClips(env, 'slow', enrollment);
    await withEarlierModel('slow');
    const started = Date.now();
    const job = await finished((await enqueue(queue, data)).id!);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await job.getState()).toBe('failed');
    expect(job.failedReason).toMatch(/^KWS_ERR_TRAINING_TIMEOUT: training ran past the 1 s limit/);
    expect(job.attemptsMade).toBe(1);
    expect((await env.store.getCurrentModel('slow'))?.version).toBe('earlier');
    expect(await versions('slow')).toEqual(['earlier']);
  });

  it('a clip deleted before the job ran: KWS_ERR_TRAINING_INPUT_GONE naming the clip', async () => {
    const { enrollment } = await voiceClips();
    const data = await userWithClips(env, 'forgetful', enrollment.slice(0, 3));
    await env.store.deleteClip('forgetful', data.clipIds[1]);
    await env.startWorker();
    const job = await finished((await enqueue(queue, data)).id!);
    expect(job.failedReason).toBe(
      `KWS_ERR_TRAINING_INPUT_GONE: clip ${data.clipIds[1]} of user forgetful is no longer stored`,
    );
    expect(job.attemptsMade).toBe(1);
    expect(await env.store.getCurrentModel('forgetful')).toBeUndefined();
  });
});
