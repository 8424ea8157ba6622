import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '@kws/audio';
import { BASE_MODEL_PATH, DEFAULT_KEYWORD, synthesize } from '@kws/detector';
import {
  JOB_ATTEMPTS,
  JOB_BACKOFF,
  Store,
  TRAINING_JOB,
  TRAINING_QUEUE,
  type TrainingJobData,
  type TrainingResult,
} from '@kws/store';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { WorkerConfig } from '../src/config.ts';
import { type LockSettings, PersonalizationWorker } from '../src/worker.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A small training budget keeps each job a few seconds (the default is personalize's 150 steps). */
export const TEST_STEPS = Number(process.env.KWS_TEST_TRAINING_STEPS ?? 60);
export const quietLogger = pino({ level: process.env.KWS_TEST_LOG_LEVEL ?? 'silent' });

/**
 * The user: Andy, a held-out variant (never in the base model's training set), with the en-us accent. The
 * committed base (f07e979) scores this voice's enrollment takes 0.86–0.94 against its threshold of 0.99, so
 * a training job really fine-tunes. A voice whose every enrollment take the base detects keeps the base
 * (personalize.ts; packages/detector's personalize test covers that path). That base already detects the
 * e2e test's held-out takes of en-029+Andy (MODEL.md's Andy) and of every other held-out voice but shelby,
 * whose user model after 60 steps detected its held-out recording on only 4 of 13 seeds.
 */
export const USER_VOICE = 'en-us+Andy';

export interface TestEnv {
  prefix: string;
  dataDir: string;
  store: Store;
  workerConfig(overrides?: Partial<WorkerConfig>): WorkerConfig;
  /** Starts a worker on this env (closed by cleanup). */
  startWorker(
    overrides?: Partial<WorkerConfig>,
    lock?: Partial<LockSettings>,
  ): Promise<PersonalizationWorker>;
  /** Closes the workers, deletes this env's Redis keys (its own prefix, never FLUSHALL) and data dir. */
  cleanup(): Promise<void>;
}

export async function testEnv(): Promise<TestEnv> {
  const prefix = `test-${randomUUID()}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'kws-worker-'));
  const store = await Store.open(dataDir);
  const workers: PersonalizationWorker[] = [];
  const workerConfig = (overrides: Partial<WorkerConfig> = {}): WorkerConfig => ({
    redisUrl: REDIS_URL,
    dataDir,
    queuePrefix: prefix,
    concurrency: 1,
    jobTimeoutS: 120,
    shutdownGraceS: 5,
    trainingSteps: TEST_STEPS,
    baseModelPath: BASE_MODEL_PATH,
    logLevel: 'silent',
    ...overrides,
  });
  return {
    prefix,
    dataDir,
    store,
    workerConfig,
    async startWorker(overrides = {}, lock = {}) {
      const worker = new PersonalizationWorker({
        config: workerConfig(overrides),
        store,
        logger: quietLogger,
        lock,
      });
      workers.push(worker);
      await worker.waitUntilReady();
      return worker;
    },
    async cleanup() {
      await Promise.all(workers.map((w) => w.close()));
      await deleteRedisKeys(prefix);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Removes every key under `prefix:` (SCAN + UNLINK). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

export const adminKey = () => `admin-${randomBytes(12).toString('hex')}`;

export interface VoiceClips {
  /** Five enrollment recordings of the keyword (16 kHz WAV), varied in speed and pitch. */
  enrollment: Uint8Array[];
  /** Another recording of the keyword by the same voice, never uploaded. */
  heldOut: Float32Array;
  /** The same voice saying something else. */
  negative: Float32Array;
}

let clips: Promise<VoiceClips> | undefined;

/** espeak-ng renderings (the binary when installed, else the npm wasm build), made once per test file. */
export function voiceClips(): Promise<VoiceClips> {
  clips ??= (async () => {
    const takes = [
      { speed: 150, pitch: 40 },
      { speed: 165, pitch: 46 },
      { speed: 175, pitch: 50 },
      { speed: 190, pitch: 56 },
      { speed: 205, pitch: 62 },
    ];
    const enrollment = await Promise.all(
      takes.map(async (o) => encodeWav(await synthesize(DEFAULT_KEYWORD, USER_VOICE, o), 16_000)),
    );
    const heldOut = await synthesize(DEFAULT_KEYWORD, USER_VOICE, { speed: 170, pitch: 53 });
    const negative = await synthesize('the weather is nice today', USER_VOICE, { speed: 175, pitch: 50 });
    return { enrollment, heldOut, negative };
  })();
  return clips;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A user in the store with the given WAV clips, and a queue handle to enqueue training as the api does. */
export async function userWithClips(
  env: TestEnv,
  userId: string,
  wavs: Uint8Array[],
): Promise<TrainingJobData> {
  await env.store.createUser(userId);
  const records = await env.store.addClips(
    userId,
    wavs.map((wav, i) => ({
      wav,
      durationS: 1,
      quality: { peakDb: -6, snrDb: 30, speechS: 0.5, clippingFraction: 0 },
      fileName: `c${i}.wav`,
    })),
  );
  return {
    userId,
    clipIds: records.map((r) => r.clipId),
    clipSetSha256: records.map((r) => r.sha256).join(''),
    requestedAt: new Date().toISOString(),
  };
}

/** The api's queue, opened by the test: jobs are added with the contract's options, as the api adds them. */
export function openQueue(env: TestEnv): Queue<TrainingJobData, TrainingResult> {
  return new Queue<TrainingJobData, TrainingResult>(TRAINING_QUEUE, {
    connection: { url: REDIS_URL },
    prefix: env.prefix,
  });
}

export async function enqueue(
  queue: Queue<TrainingJobData, TrainingResult>,
  data: TrainingJobData,
): Promise<Job<TrainingJobData, TrainingResult>> {
  return queue.add(TRAINING_JOB, data, {
    jobId: `${data.userId}-${randomUUID()}`,
    attempts: JOB_ATTEMPTS,
    backoff: JOB_BACKOFF,
  });
}
