import { createHash } from 'node:crypto';
import {
  errors,
  isId,
  KwsError,
  type Store,
  sha256Hex,
  type TrainingJobData,
  type TrainingProgress,
  type TrainingResult,
} from '@kws/store';
import type { Job } from 'bullmq';
import { UnrecoverableError, WaitingError } from 'bullmq';
import type { Logger } from 'pino';
import { checkModel } from './model-check.ts';
import { runTrainingInThread, TrainingThreadError } from './training/run-in-thread.ts';

/** Progress goes to Redis at most this often (the api's job route reads it). */
const PROGRESS_INTERVAL_MS = 250;

/** Abort reason: the worker is shutting down and hands the job back to the queue. */
export class ShutdownRequested extends Error {
  override name = 'ShutdownRequested';
}

/** Abort reason: the job ran past the per-job time limit. */
export class JobTimedOut extends Error {
  override name = 'JobTimedOut';
}

export interface ProcessorOptions {
  store: Store;
  logger: Logger;
  baseModelPath: string;
  jobTimeoutS: number;
  trainingSteps?: number;
  /** Aborted with a ShutdownRequested when the worker closes and the grace period is over. */
  shutdown: AbortSignal;
}

export type TrainingJob = Job<TrainingJobData, TrainingResult>;

/**
 * The BullMQ processor of a personalization job: reads the user's clips from the store, trains on a thread,
 * checks the model, stores it as a new immutable version and only then moves `current` to it. A failure
 * becomes an Error whose message starts with a `KWS_ERR_*` code (the api shows it); failures a retry cannot
 * fix are UnrecoverableError, the rest are retried with the contract's backoff. On shutdown the job goes
 * back to the wait list (not counted as an attempt).
 */
export function createProcessor(options: ProcessorOptions) {
  return async (job: TrainingJob, token?: string, cancel?: AbortSignal): Promise<TrainingResult> => {
    const log = options.logger.child({ jobId: job.id, userId: job.data?.userId });
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new JobTimedOut(`training ran past the ${options.jobTimeoutS} s limit`)),
      options.jobTimeoutS * 1000,
    );
    const signals = [timeout.signal, options.shutdown, ...(cancel ? [cancel] : [])];
    const signal = AbortSignal.any(signals);
    try {
      return await train(job, signal, options, log);
    } catch (err) {
      if (signal.aborted && signal.reason instanceof ShutdownRequested && token) {
        log.info('shutting down: handing the job back to the queue');
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const failure = toJobFailure(err, signal);
      log.warn({ err: failure.message, retry: !(failure instanceof UnrecoverableError) }, 'job failed');
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  };
}

async function train(
  job: TrainingJob,
  signal: AbortSignal,
  options: ProcessorOptions,
  log: Logger,
): Promise<TrainingResult> {
  const { userId, clipIds } = checkJobData(job.data);
  const clips: Uint8Array[] = [];
  for (const clipId of clipIds) {
    const wav = await options.store.readClip(userId, clipId);
    if (!wav) {
      throw errors.TRAINING_INPUT_GONE(`clip ${clipId} of user ${userId} is no longer stored`);
    }
    clips.push(wav);
  }
  signal.throwIfAborted();

  let lastSent = 0;
  let latest: TrainingProgress = { epoch: 0, loss: null, pct: 0 };
  const report = (progress: TrainingProgress, force = false) => {
    latest = progress;
    const now = Date.now();
    if (!force && now - lastSent < PROGRESS_INTERVAL_MS) return;
    lastSent = now;
    job.updateProgress(progress).catch((err: Error) => log.warn({ err: err.message }, 'progress not saved'));
  };
  report({ epoch: 0, loss: null, pct: 0 }, true);
  const started = performance.now();
  const { model, report: trainingReport } = await runTrainingInThread(
    {
      baseModelPath: options.baseModelPath,
      clips,
      seed: clipsSeed(clips),
      ...(options.trainingSteps !== undefined ? { steps: options.trainingSteps } : {}),
    },
    { signal, onProgress: (p) => report(p) },
  );
  const trainedS = (performance.now() - started) / 1000;

  const checked = checkModel(model);
  const sha256 = sha256Hex(model);
  const modelVersion = `m${Date.now().toString(36)}-${sha256.slice(0, 12)}`;
  const metrics = {
    frrBefore: trainingReport.before.frr,
    frrAfter: trainingReport.after.frr,
    faPerHour: checked.faPerHour,
    threshold: checked.threshold,
  };
  signal.throwIfAborted();
  await options.store.putModelVersion(
    userId,
    modelVersion,
    { 'model.kws': model, 'model.json': checked.tfjs.modelJson, 'weights.bin': checked.tfjs.weights },
    { jobId: job.id, clipSetSha256: job.data.clipSetSha256, clipIds, metrics, trainedS },
  );
  await options.store.setCurrentModel(userId, modelVersion);
  report({ ...latest, pct: 100 }, true);
  log.info({ modelVersion, trainedS: Number(trainedS.toFixed(2)), ...metrics }, 'model stored and current');
  return { modelVersion, sha256, metrics };
}

/**
 * The training seed comes from the audio itself: the same recordings give the same model, on a retry, a
 * re-upload or another worker (clip ids and job ids are random, so they would not).
 */
export function clipsSeed(clips: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const clip of clips) hash.update(sha256Hex(clip));
  return hash.digest('hex').slice(0, 16);
}

function checkJobData(data: unknown): { userId: string; clipIds: string[] } {
  const d = (data ?? {}) as Partial<TrainingJobData>;
  if (!isId(d.userId) || !Array.isArray(d.clipIds) || d.clipIds.length === 0 || !d.clipIds.every(isId)) {
    throw errors.VALIDATION(
      `job data must be { userId, clipIds: [id, ...] }, received ${JSON.stringify(data)?.slice(0, 200)}`,
    );
  }
  return { userId: d.userId, clipIds: d.clipIds };
}

/** Codes a retry cannot change: the input is gone or bad, or the same training gives the same model. */
const FINAL_CODES = new Set<string>([
  errors.VALIDATION.code,
  errors.TRAINING_INPUT_GONE.code,
  errors.USER_NOT_FOUND.code,
  errors.BAD_AUDIO.code,
  errors.MODEL_INVALID.code,
  errors.TRAINING_TIMEOUT.code,
]);

/** The Error a failed job is failed with: `KWS_ERR_*: message`, unrecoverable when retrying cannot help. */
export function toJobFailure(err: unknown, signal: AbortSignal): Error {
  let code: string;
  let message: string;
  if (signal.aborted && signal.reason instanceof JobTimedOut) {
    code = errors.TRAINING_TIMEOUT.code;
    message = signal.reason.message;
  } else if (err instanceof TrainingThreadError && err.badInput) {
    code = errors.BAD_AUDIO.code;
    message = `personalization rejected the clips: ${err.message}`;
  } else if (err instanceof KwsError) {
    code = err.code === errors.USER_NOT_FOUND.code ? errors.TRAINING_INPUT_GONE.code : err.code;
    message = err.message;
  } else if (err instanceof TrainingThreadError) {
    code = errors.TRAINING_FAILED.code;
    message = `${err.causeName}: ${err.message}`;
  } else {
    code = errors.TRAINING_FAILED.code;
    message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const text = `${code}: ${message}`;
  return FINAL_CODES.has(code) ? new UnrecoverableError(text) : new Error(text);
}
