/**
 * The training job as the api enqueues it and the worker consumes it: queue and job names, data, progress,
 * result, error convention and the retry policy. apps/api and apps/worker both import it from here, so
 * they cannot disagree.
 */

/** BullMQ queue name (under the `KWS_QUEUE_PREFIX` prefix). */
export const TRAINING_QUEUE = 'personalize';
/** BullMQ job name. */
export const TRAINING_JOB = 'personalize';

/** `job.data` */
export interface TrainingJobData {
  userId: string;
  /** The clip set trained on (ids into the store), in upload order. */
  clipIds: string[];
  /** SHA-256 over the sorted `clipId:sha256` lines of the clip set: the job's identity besides the user. */
  clipSetSha256: string;
  requestedAt: string;
}

/** What the worker reports with `job.updateProgress(...)`. */
export interface TrainingProgress {
  epoch: number;
  loss: number | null;
  /** 0–100 */
  pct: number;
}

/** The worker's return value (`job.returnvalue`) once the model is stored and `current` moved to it. */
export interface TrainingResult {
  modelVersion: string;
  sha256: string;
  metrics: { frrBefore: number; frrAfter: number; faPerHour: number; threshold: number };
}

/**
 * A worker fails a job by throwing an Error whose message starts with a `KWS_ERR_*` code and a colon
 * (`"KWS_ERR_TRAINING_DIVERGED: loss became NaN at epoch 3"`); other messages surface as
 * `KWS_ERR_TRAINING_FAILED`.
 */
export const DEFAULT_JOB_ERROR_CODE = 'KWS_ERR_TRAINING_FAILED';

/** Retries with backoff (DESIGN §6); a worker killed mid-job is retried through stalled-job recovery. */
export const JOB_ATTEMPTS = 3;
export const JOB_BACKOFF = { type: 'exponential', delay: 5_000 } as const;
/** Finished jobs stay readable through `GET /v1/jobs/:jobId` this long. */
export const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 10_000 } as const;
export const KEEP_FAILED = { age: 30 * 24 * 3600, count: 10_000 } as const;
