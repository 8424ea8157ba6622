import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Everything the api reads from the environment, validated once at start (DESIGN §5). */
export interface Config {
  /** `PORT`, default 8080. 0 picks a free port. */
  port: number;
  /** `HOST`, default 127.0.0.1 (0.0.0.0 in containers). */
  host: string;
  /** `REDIS_URL`, default redis://127.0.0.1:6379. Redis holds only the job queue. */
  redisUrl: string;
  /** `KWS_DATA_DIR`, default ./data, made absolute. The durable store. */
  dataDir: string;
  /** `KWS_ADMIN_KEY`: the admin's bearer credential (≥ 16 characters). */
  adminKey: string;
  /** `KWS_TOKEN_SECRET`: HMAC-SHA256 key of user tokens (≥ 32 characters). */
  tokenSecret: string;
  /** `KWS_QUEUE_PREFIX`, default `kws`: BullMQ's Redis key prefix. */
  queuePrefix: string;
  /** `KWS_TOKEN_TTL_S`, default 30 days: lifetime of a user token. */
  tokenTtlS: number;
  /** `KWS_RATE_LIMIT`, default 600 requests per minute per token (per IP without one); 0 turns it off. */
  rateLimit: number;
  /** `LOG_LEVEL`, default `info`. */
  logLevel: LogLevel;
  /** Set when development keys were generated or reused: the file they live in (never log the keys). */
  devKeysFile?: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_QUEUE_PREFIX = 'kws';
export const DEFAULT_TOKEN_TTL_S = 30 * 24 * 3600;
export const DEFAULT_RATE_LIMIT = 600;
export const MIN_ADMIN_KEY_LENGTH = 16;
export const MIN_TOKEN_SECRET_LENGTH = 32;
export const DEV_KEYS_FILE = 'dev-keys.json';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the environment. With neither `KWS_ADMIN_KEY` nor `KWS_TOKEN_SECRET` set and
 * `NODE_ENV` not `production`, keys are generated once into `KWS_DATA_DIR/dev-keys.json` (mode 0600) and
 * reused on later starts; the returned `devKeysFile` names that file so the caller can log its path.
 */
export async function loadConfig(env: Env = process.env): Promise<Config> {
  const problems: string[] = [];
  const port = intVar(env, 'PORT', DEFAULT_PORT, 0, 65535, problems);
  const host = env.HOST?.trim() || DEFAULT_HOST;
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
  const tokenTtlS = intVar(env, 'KWS_TOKEN_TTL_S', DEFAULT_TOKEN_TTL_S, 1, 10 * 365 * 24 * 3600, problems);
  const rateLimit = intVar(env, 'KWS_RATE_LIMIT', DEFAULT_RATE_LIMIT, 0, 10_000_000, problems);
  const logLevelRaw = env.LOG_LEVEL?.trim() || 'info';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(logLevelRaw)
    ? (logLevelRaw as LogLevel)
    : 'info';
  if (logLevel !== logLevelRaw) {
    problems.push(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, received ${JSON.stringify(logLevelRaw)}`,
    );
  }

  let adminKey = env.KWS_ADMIN_KEY ?? '';
  let tokenSecret = env.KWS_TOKEN_SECRET ?? '';
  let devKeysFile: string | undefined;
  if (!adminKey && !tokenSecret && env.NODE_ENV !== 'production') {
    if (problems.length > 0) throw new ConfigError(problems);
    devKeysFile = join(dataDir, DEV_KEYS_FILE);
    ({ adminKey, tokenSecret } = await devKeys(devKeysFile));
  }
  if (adminKey.length < MIN_ADMIN_KEY_LENGTH) {
    problems.push(
      `KWS_ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters, received ${adminKey.length}` +
        (env.NODE_ENV === 'production' ? ' (NODE_ENV=production: development keys are not generated)' : ''),
    );
  }
  if (tokenSecret.length < MIN_TOKEN_SECRET_LENGTH) {
    problems.push(
      `KWS_TOKEN_SECRET must be at least ${MIN_TOKEN_SECRET_LENGTH} characters, received ${tokenSecret.length}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    redisUrl,
    dataDir,
    adminKey,
    tokenSecret,
    queuePrefix,
    tokenTtlS,
    rateLimit,
    logLevel,
    ...(devKeysFile ? { devKeysFile } : {}),
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

interface DevKeys {
  adminKey: string;
  tokenSecret: string;
}

async function devKeys(file: string): Promise<DevKeys> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    let parsed: Partial<Record<'KWS_ADMIN_KEY' | 'KWS_TOKEN_SECRET', unknown>>;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError([
        `${file} is not valid JSON (${(err as Error).message}); remove it to regenerate`,
      ]);
    }
    if (typeof parsed?.KWS_ADMIN_KEY !== 'string' || typeof parsed.KWS_TOKEN_SECRET !== 'string') {
      throw new ConfigError([`${file} must hold string fields KWS_ADMIN_KEY and KWS_TOKEN_SECRET`]);
    }
    return { adminKey: parsed.KWS_ADMIN_KEY, tokenSecret: parsed.KWS_TOKEN_SECRET };
  }
  const keys = {
    KWS_ADMIN_KEY: randomBytes(24).toString('base64url'),
    KWS_TOKEN_SECRET: randomBytes(48).toString('base64url'),
  };
  await mkdir(resolve(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    // link, not rename: if another process generated keys meanwhile, theirs win and both use the same file.
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return devKeys(file);
  } finally {
    await rm(tmp, { force: true });
  }
  return { adminKey: keys.KWS_ADMIN_KEY, tokenSecret: keys.KWS_TOKEN_SECRET };
}
