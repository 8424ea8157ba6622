import { resolve } from 'node:path';
import { BASE_MODEL_PATH } from '@kws/detector';
import { ConfigError, type Env, intVar, readSharedConfig, type SharedServiceConfig } from '@kws/store';

/** Everything the worker reads from the environment, validated once at start (DESIGN §5, §6). */
export interface WorkerConfig extends SharedServiceConfig {
  /** `KWS_WORKER_CONCURRENCY`, default 1: jobs this process trains at once (each on its own thread). */
  concurrency: number;
  /** `KWS_JOB_TIMEOUT_S`, default 600: a job still training after this long is aborted and failed. */
  jobTimeoutS: number;
  /** `KWS_SHUTDOWN_GRACE_S`, default 8: on SIGTERM the current job may finish this long, then it is handed back. */
  shutdownGraceS: number;
  /** `KWS_TRAINING_STEPS`: the optimizer-step budget of one personalization; unset = personalize's default. */
  trainingSteps?: number;
  /** `KWS_BASE_MODEL`, default the committed `packages/detector/models/base.kws`. */
  baseModelPath: string;
}

export { ConfigError };

export const DEFAULT_CONCURRENCY = 1;
export const DEFAULT_JOB_TIMEOUT_S = 600;
export const DEFAULT_SHUTDOWN_GRACE_S = 8;

/** Reads and validates the environment; every problem is listed at once in a ConfigError. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const problems: string[] = [];
  const shared = readSharedConfig(env, problems);
  const concurrency = intVar(env, 'KWS_WORKER_CONCURRENCY', DEFAULT_CONCURRENCY, 1, 64, problems);
  const jobTimeoutS = intVar(env, 'KWS_JOB_TIMEOUT_S', DEFAULT_JOB_TIMEOUT_S, 1, 24 * 3600, problems);
  const shutdownGraceS = intVar(env, 'KWS_SHUTDOWN_GRACE_S', DEFAULT_SHUTDOWN_GRACE_S, 0, 3600, problems);
  const trainingSteps = env.KWS_TRAINING_STEPS?.trim()
    ? intVar(env, 'KWS_TRAINING_STEPS', 0, 1, 1_000_000, problems)
    : undefined;
  const baseModelPath = env.KWS_BASE_MODEL?.trim() ? resolve(env.KWS_BASE_MODEL.trim()) : BASE_MODEL_PATH;
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...shared,
    concurrency,
    jobTimeoutS,
    shutdownGraceS,
    ...(trainingSteps !== undefined ? { trainingSteps } : {}),
    baseModelPath,
  };
}
