import { type Store, TRAINING_QUEUE, type TrainingJobData, type TrainingResult } from '@kws/store';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerConfig } from './config.ts';
import { createProcessor, ShutdownRequested } from './processor.ts';

/** BullMQ lock and stalled-check timing; training runs on its own thread, so the lock is renewed on time. */
export interface LockSettings {
  /** A job's lock lasts this long and is renewed at half of it (BullMQ default 30 s). */
  lockDurationMs: number;
  /** How often this worker looks for jobs whose lock expired (their worker died). */
  stalledIntervalMs: number;
  /** A job found stalled more often than this fails instead of going back to the queue. */
  maxStalledCount: number;
}

export const DEFAULT_LOCK_SETTINGS: Readonly<LockSettings> = Object.freeze({
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 2,
});

export interface PersonalizationWorkerOptions {
  config: WorkerConfig;
  store: Store;
  logger: Logger;
  lock?: Partial<LockSettings>;
}

/**
 * The worker process's one long-lived object: a BullMQ Worker on the contract's queue running the
 * personalization processor, with its own Redis connection. `close()` stops taking jobs, lets the current
 * ones finish for `shutdownGraceS`, then hands them back to the queue; it is safe to call twice (same promise).
 */
export class PersonalizationWorker {
  readonly worker: Worker<TrainingJobData, TrainingResult>;
  readonly #redis: Redis;
  readonly #shutdown = new AbortController();
  readonly #graceMs: number;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(options: PersonalizationWorkerOptions) {
    const { config, store, logger } = options;
    const lock = { ...DEFAULT_LOCK_SETTINGS, ...options.lock };
    if (!(lock.lockDurationMs > 0 && lock.stalledIntervalMs > 0 && lock.maxStalledCount >= 0)) {
      throw new RangeError(
        `lock settings must be positive (maxStalledCount ≥ 0), received ${JSON.stringify(lock)}`,
      );
    }
    this.#logger = logger;
    this.#graceMs = config.shutdownGraceS * 1000;
    // BullMQ's blocking connection must retry forever: a Redis restart must not kill the worker.
    this.#redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    this.#redis.on('error', (err) => logger.warn({ err: err.message }, 'Redis connection error'));
    this.worker = new Worker<TrainingJobData, TrainingResult>(
      TRAINING_QUEUE,
      createProcessor({
        store,
        logger,
        baseModelPath: config.baseModelPath,
        jobTimeoutS: config.jobTimeoutS,
        ...(config.trainingSteps !== undefined ? { trainingSteps: config.trainingSteps } : {}),
        shutdown: this.#shutdown.signal,
      }),
      {
        connection: this.#redis,
        prefix: config.queuePrefix,
        concurrency: config.concurrency,
        lockDuration: lock.lockDurationMs,
        stalledInterval: lock.stalledIntervalMs,
        maxStalledCount: lock.maxStalledCount,
      },
    );
    this.worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
    this.worker.on('stalled', (jobId) => logger.warn({ jobId }, 'a job stalled and went back to the queue'));
    this.worker.on('completed', (job) => logger.info({ jobId: job.id }, 'job completed'));
    this.worker.on('failed', (job, err) => logger.warn({ jobId: job?.id, err: err.message }, 'job failed'));
  }

  /** Resolves once the worker is connected and waiting for jobs. */
  waitUntilReady(): Promise<unknown> {
    return this.worker.waitUntilReady();
  }

  /** Stops taking jobs; the current ones get the grace period, then go back to the queue. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#logger.info({ graceS: this.#graceMs / 1000 }, 'closing: finishing or handing back current jobs');
      const grace = setTimeout(
        () => this.#shutdown.abort(new ShutdownRequested('the worker is shutting down')),
        this.#graceMs,
      );
      try {
        await this.worker.close();
      } finally {
        clearTimeout(grace);
        if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
        else this.#redis.disconnect();
      }
    })();
    return this.#closing;
  }
}
