import {
  DEFAULT_JOB_ERROR_CODE,
  JOB_ATTEMPTS,
  JOB_BACKOFF,
  KEEP_COMPLETED,
  KEEP_FAILED,
  TRAINING_JOB,
  TRAINING_QUEUE,
  type TrainingJobData,
  type TrainingProgress,
  type TrainingResult,
} from '@kws/store';
import { type Job, Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { errors } from '../errors.ts';

/** Every queue call answers (or fails with 503) within this bound, so a dead Redis costs < 1 s. */
export const QUEUE_TIMEOUT_MS = 800;
/**
 * ioredis fails a command after this long, and a call on a Redis that keeps answering gets at most this long
 * (see `#bounded`): a backstop so commands don't pile up. At the bound itself, ioredis's timer would fail a
 * command whose reply is already waiting in the socket whenever the event loop ran late.
 */
const COMMAND_BACKSTOP_MS = 10_000;
/** ioredis reconnects with this backoff cap while Redis is away. */
const RECONNECT_MAX_MS = 2_000;
/** How much of the clip-set hash goes into a job id. */
const JOB_HASH_CHARS = 24;
/** Job ids: `<userId>-<hash>-<generation>`; route params are checked against this. */
export const JOB_ID_PATTERN = '^[A-Za-z0-9_-]{1,128}$';

export type PublicJobState = 'queued' | 'active' | 'completed' | 'failed';

export interface JobStatus {
  jobId: string;
  userId: string;
  state: PublicJobState;
  progress: TrainingProgress;
  result?: TrainingResult;
  error?: { code: string; message: string };
}

export interface JobTiming {
  jobId: string;
  outcome: 'completed' | 'failed';
  /** Epoch ms. */
  finishedOn: number;
  /** Seconds from enqueue to a worker taking it. */
  waitS: number;
  /** Seconds from a worker taking it to the end. */
  runS: number;
}

export interface TrainingQueueOptions {
  redisUrl: string;
  prefix: string;
  logger: FastifyBaseLogger;
  timeoutMs?: number;
}

/** Longest `close()` waits for the BullMQ queue before dropping the connection. */
const CLOSE_TIMEOUT_MS = 1_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const ENDED_STATES = new Set(['completed', 'failed', 'unknown']);

/**
 * The api's side of the BullMQ training queue: enqueue idempotently, read job status, remove a user's jobs,
 * count jobs. Redis being down never blocks a request: the connection has no offline queue and bounded
 * connect/command timeouts, and every call fails with `KWS_ERR_QUEUE_UNAVAILABLE` (503) fast.
 */
export class TrainingQueue {
  readonly queue: Queue<TrainingJobData, TrainingResult>;
  readonly #redis: Redis;
  readonly #options: TrainingQueueOptions;
  readonly #timeoutMs: number;
  readonly #where: string;
  #down = false;
  /** `performance.now()` when Redis last sent bytes on the connection: it is alive, whatever this process is doing. */
  #lastReplyAt = 0;
  #closing: Promise<void> | undefined;

  constructor(options: TrainingQueueOptions) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? QUEUE_TIMEOUT_MS;
    const url = new URL(options.redisUrl);
    // Host and port only: the URL may carry a password.
    this.#where = `Redis at ${url.hostname}:${url.port || 6379}`;
    const connectionOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.#timeoutMs,
      commandTimeout: COMMAND_BACKSTOP_MS,
      retryStrategy: (times: number) => Math.min(times * 100, RECONNECT_MAX_MS),
    };
    this.#redis = new Redis(options.redisUrl, connectionOptions);
    this.#redis.on('error', (err) => this.#markDown(err));
    this.#redis.on('connect', () => {
      this.#redis.stream.on('data', () => {
        this.#lastReplyAt = performance.now();
      });
    });
    this.#redis.on('ready', () => {
      if (this.#down) options.logger.info(`${this.#where} is reachable again`);
      this.#down = false;
    });
    this.queue = new Queue<TrainingJobData, TrainingResult>(TRAINING_QUEUE, {
      connection: this.#redis,
      prefix: options.prefix,
    });
    this.queue.on('error', (err) => this.#markDown(err));
  }

  /** Whether the connection is up right now (no round trip). */
  get connected(): boolean {
    return this.#redis.status === 'ready';
  }

  /** PING within the time bound. */
  async ping(): Promise<boolean> {
    try {
      return (await this.#bounded('ping', () => this.#redis.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  /**
   * Enqueues training of `data.clipIds` for `data.userId`. While a job for the same user and clip set is
   * queued or active, returns that job's id; once it ended, a new job (the next generation) is created.
   * Concurrent identical requests, in any number of processes, compute the same next id, and BullMQ's `add`
   * with an existing id returns the existing job, so they converge on one job.
   */
  async enqueue(data: TrainingJobData): Promise<string> {
    return this.#bounded('enqueue a training job', async () => {
      const genKey = this.#generationsKey(data.userId);
      const base = `${data.userId}-${data.clipSetSha256.slice(0, JOB_HASH_CHARS)}`;
      const generation = Number((await this.#redis.hget(genKey, base)) ?? 0);
      if (generation > 0) {
        const existing = await this.queue.getJob(`${base}-${generation}`);
        if (existing && !ENDED_STATES.has(await existing.getState())) return existing.id!;
      }
      const next = generation + 1;
      const job = await this.queue.add(TRAINING_JOB, data, {
        jobId: `${base}-${next}`,
        attempts: JOB_ATTEMPTS,
        backoff: JOB_BACKOFF,
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      });
      await this.#redis.hset(genKey, base, String(next));
      return job.id!;
    });
  }

  /**
   * The public status of a job, or undefined when there is no such job. The state is read before the job's
   * data: a worker finishing in between then shows as the earlier state, never as `completed` without its
   * result (BullMQ writes the result and the state in one script).
   */
  async getStatus(jobId: string): Promise<JobStatus | undefined> {
    return this.#bounded('read a job', async () => {
      const state = await this.queue.getJobState(jobId);
      if (state === 'unknown') return undefined;
      const job = await this.queue.getJob(jobId);
      if (!job) return undefined;
      return toStatus(job, state);
    });
  }

  /**
   * Removes every job of the user (all clip sets, all generations) and the generation bookkeeping. A job a
   * worker holds right now can't be removed; it fails on its own when the store no longer has the user.
   * Returns the ids that could not be removed.
   */
  async removeUserJobs(userId: string): Promise<string[]> {
    return this.#bounded('remove the jobs of a user', async () => {
      const genKey = this.#generationsKey(userId);
      const generations = await this.#redis.hgetall(genKey);
      const kept: string[] = [];
      for (const [base, last] of Object.entries(generations)) {
        for (let g = 1; g <= Number(last); g++) {
          const job = await this.queue.getJob(`${base}-${g}`);
          if (!job) continue;
          try {
            await job.remove();
          } catch {
            kept.push(job.id!);
          }
        }
      }
      await this.#redis.del(genKey);
      return kept;
    });
  }

  /** Jobs per BullMQ state. */
  async counts(): Promise<Record<string, number>> {
    return this.#bounded('count jobs', () =>
      this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'),
    );
  }

  /**
   * Timings of the most recently finished jobs (at most `limit`, newest first) that finished after
   * `sinceMs`. Metrics read this at scrape time: no blocking connection, nothing to close.
   */
  async finishedSince(sinceMs: number, limit = 100): Promise<JobTiming[]> {
    return this.#bounded('read finished jobs', async () => {
      const jobs = await this.queue.getJobs(['completed', 'failed'], 0, limit - 1, false);
      const timings: JobTiming[] = [];
      for (const job of jobs) {
        if (!job?.finishedOn || !job.processedOn || job.finishedOn <= sinceMs) continue;
        timings.push({
          jobId: job.id!,
          outcome: job.failedReason ? 'failed' : 'completed',
          finishedOn: job.finishedOn,
          waitS: Math.max(0, job.processedOn - job.timestamp) / 1000,
          runS: Math.max(0, job.finishedOn - job.processedOn) / 1000,
        });
      }
      return timings;
    });
  }

  /** Closes the queue and the connection; safe to call twice (same promise). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await withTimeout(this.queue.close(), CLOSE_TIMEOUT_MS).catch(() => {});
      // quit() waits for a reply that never comes when Redis is down: disconnect in that case.
      if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
      else this.#redis.disconnect();
    })();
    return this.#closing;
  }

  #generationsKey(userId: string): string {
    return `${this.#options.prefix}:${TRAINING_QUEUE}:kws-generations:${userId}`;
  }

  async #bounded<T>(what: string, call: () => Promise<T>): Promise<T> {
    // Known to be down: fail at once. Still making the first connection (just started): wait, within bound.
    const deadline = Date.now() + this.#timeoutMs;
    if (this.#redis.status !== 'ready' && (this.#down || !(await this.#firstConnect(this.#timeoutMs)))) {
      throw errors.QUEUE_UNAVAILABLE(
        `cannot ${what}: ${this.#where} is not connected (${this.#redis.status})`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const started = performance.now();
    const timeout = new Promise<never>((_, reject) => {
      let since = started;
      // Timers run before I/O in an event-loop turn: when this process was busy past the deadline (a starved
      // CPU, a burst of requests), a reply Redis already sent would lose to the expired timer. So the check
      // runs from the check phase (setImmediate), after this turn's I/O; and if Redis sent anything since the
      // last check it is alive — the call is slow because each round trip waited for this event loop — and
      // gets another bound (up to the backstop). Only a Redis silent for a whole bound fails the call.
      const check = () => {
        const now = performance.now();
        if (this.#lastReplyAt > since && now - started < COMMAND_BACKSTOP_MS) {
          since = now;
          arm(this.#timeoutMs);
          return;
        }
        reject(
          errors.QUEUE_UNAVAILABLE(`cannot ${what}: ${this.#where} did not answer in ${this.#timeoutMs} ms`),
        );
      };
      const arm = (ms: number) => {
        timer = setTimeout(() => {
          immediate = setImmediate(check);
        }, ms);
      };
      arm(Math.max(1, deadline - Date.now()));
    });
    try {
      return await Promise.race([call(), timeout]);
    } catch (err) {
      if ((err as { code?: string }).code === errors.QUEUE_UNAVAILABLE.code) throw err;
      // Connection-level failures (closed stream, command timeout) are unavailability, not bugs.
      if (
        this.#redis.status !== 'ready' ||
        /timed out|Connection is closed|Stream isn't writeable/i.test(String(err))
      ) {
        throw errors.QUEUE_UNAVAILABLE(`cannot ${what}: ${this.#where} failed (${(err as Error).message})`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      clearImmediate(immediate);
    }
  }

  /** Resolves true once the connection is ready, false on the first error or after `withinMs`. */
  #firstConnect(withinMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#redis.off('ready', onReady);
        this.#redis.off('error', onError);
        resolve(ok);
      };
      const onReady = () => done(true);
      const onError = () => done(false);
      const timer = setTimeout(() => done(false), withinMs);
      this.#redis.once('ready', onReady);
      this.#redis.once('error', onError);
    });
  }

  #markDown(err: Error): void {
    if (!this.#down)
      this.#options.logger.warn(
        { err: err.message },
        `${this.#where} is unreachable; queue routes answer 503`,
      );
    this.#down = true;
  }
}

const STATE_MAP: Record<string, PublicJobState> = {
  waiting: 'queued',
  prioritized: 'queued',
  delayed: 'queued', // includes a failed attempt waiting for its retry
  'waiting-children': 'queued',
  paused: 'queued',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

function toStatus(job: Job<TrainingJobData, TrainingResult>, state: string): JobStatus {
  const status: JobStatus = {
    jobId: job.id!,
    userId: job.data.userId,
    state: STATE_MAP[state] ?? 'queued',
    progress: toProgress(job.progress),
  };
  if (status.state === 'completed' && job.returnvalue) status.result = job.returnvalue;
  if (status.state === 'failed') {
    const reason = job.failedReason || 'the job failed without a reason';
    const coded = /^(KWS_ERR_[A-Z0-9_]+):\s*(.*)$/s.exec(reason);
    status.error = coded
      ? { code: coded[1], message: coded[2] || reason }
      : { code: DEFAULT_JOB_ERROR_CODE, message: reason };
  }
  return status;
}

function toProgress(raw: unknown): TrainingProgress {
  if (typeof raw === 'number') return { epoch: 0, loss: null, pct: clampPct(raw) };
  const p = (raw ?? {}) as Partial<Record<keyof TrainingProgress, unknown>>;
  return {
    epoch: typeof p.epoch === 'number' && Number.isFinite(p.epoch) ? p.epoch : 0,
    loss: typeof p.loss === 'number' && Number.isFinite(p.loss) ? p.loss : null,
    pct: clampPct(p.pct),
  };
}

function clampPct(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;
}
