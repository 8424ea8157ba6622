import { resolve } from 'node:path';
import { BASE_MODEL_PATH } from '@kws/detector';

/** Everything the worker reads from the environment, validated once at start (DESIGN §5, §6). */
export interface WorkerConfig {
  /** `REDIS_URL`, default redis://127.0.0.1:6379. Redis holds only the job queue. */
  redisUrl: string;
  /** `KWS_DATA_DIR`, default ./data, made absolute: the store the api writes clips into. */
  dataDir: string;
  /** `KWS_QUEUE_PREFIX`, default `kws`: BullMQ's key prefix (the api must use the same). */
  queuePrefix: string;
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
  /** `LOG_LEVEL`, default `info`. */
  logLevel: LogLevel;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_QUEUE_PREFIX = 'kws';
export const DEFAULT_CONCURRENCY = 1;
export const DEFAULT_JOB_TIMEOUT_S = 600;
export const DEFAULT_SHUTDOWN_GRACE_S = 8;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment; every problem is listed at once in a ConfigError. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const problems: string[] = [];
  const redisUrl = env.REDIS_URL?.trim() || DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\//.test(redisUrl)) {
    problems.push(`REDIS_URL must start with redis:// or rediss://, received ${JSON.stringify(redisUrl)}`);
  }
  const dataDir = resolve(env.KWS_DATA_DIR?.trim() || DEFAULT_DATA_DIR);
  const queuePrefix = env.KWS_QUEUE_PREFIX?.trim() || DEFAULT_QUEUE_PREFIX;
  if (!/^[A-Za-z0-9_.{}-]{1,64}$/.test(queuePrefix)) {
    problems.push(
      `KWS_QUEUE_PREFIX must be 1-64 characters of [A-Za-z0-9_.{}-], received ${JSON.stringify(queuePrefix)}`,
    );
  }
  const concurrency = intVar(env, 'KWS_WORKER_CONCURRENCY', DEFAULT_CONCURRENCY, 1, 64, problems);
  const jobTimeoutS = intVar(env, 'KWS_JOB_TIMEOUT_S', DEFAULT_JOB_TIMEOUT_S, 1, 24 * 3600, problems);
  const shutdownGraceS = intVar(env, 'KWS_SHUTDOWN_GRACE_S', DEFAULT_SHUTDOWN_GRACE_S, 0, 3600, problems);
  const trainingSteps = env.KWS_TRAINING_STEPS?.trim()
    ? intVar(env, 'KWS_TRAINING_STEPS', 0, 1, 1_000_000, problems)
    : undefined;
  const baseModelPath = env.KWS_BASE_MODEL?.trim() ? resolve(env.KWS_BASE_MODEL.trim()) : BASE_MODEL_PATH;
  const logLevelRaw = env.LOG_LEVEL?.trim() || 'info';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(logLevelRaw)
    ? (logLevelRaw as LogLevel)
    : 'info';
  if (logLevel !== logLevelRaw) {
    problems.push(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, received ${JSON.stringify(logLevelRaw)}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    redisUrl,
    dataDir,
    queuePrefix,
    concurrency,
    jobTimeoutS,
    shutdownGraceS,
    ...(trainingSteps !== undefined ? { trainingSteps } : {}),
    baseModelPath,
    logLevel,
  };
}

function intVar(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, received ${JSON.stringify(raw)}`);
    return fallback;
  }
  return value;
}
