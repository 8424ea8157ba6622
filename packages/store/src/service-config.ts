import { resolve } from 'node:path';

/**
 * What apps/api and apps/worker both read from the environment (DESIGN §5), parsed one way. Each app
 * reads its own variables with `intVar` into the same `problems` list and throws one ConfigError listing
 * them all.
 */
export interface SharedServiceConfig {
  /** `REDIS_URL`, default redis://127.0.0.1:6379. Redis holds only the job queue. */
  redisUrl: string;
  /** `KWS_DATA_DIR`, default ./data, made absolute: the durable store. */
  dataDir: string;
  /** `KWS_QUEUE_PREFIX`, default `kws`: BullMQ's key prefix (api and worker must agree). */
  queuePrefix: string;
  /** `LOG_LEVEL`, default `info`. */
  logLevel: LogLevel;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_QUEUE_PREFIX = 'kws';

export type Env = Record<string, string | undefined>;

/** Every configuration problem found at start, listed at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the shared variables; each bad one adds a problem naming the variable and what it received. */
export function readSharedConfig(env: Env, problems: string[]): SharedServiceConfig {
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
  const logLevelRaw = env.LOG_LEVEL?.trim() || 'info';
  const known = (LOG_LEVELS as readonly string[]).includes(logLevelRaw);
  if (!known) {
    problems.push(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, received ${JSON.stringify(logLevelRaw)}`,
    );
  }
  return { redisUrl, dataDir, queuePrefix, logLevel: known ? (logLevelRaw as LogLevel) : 'info' };
}

/** An integer variable in [min, max]; unset or blank gives `fallback`, anything else adds a problem. */
export function intVar(
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
