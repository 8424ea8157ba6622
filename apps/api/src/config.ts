import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, type Env, intVar, readSharedConfig, type SharedServiceConfig } from '@kws/store';

/** Everything the api reads from the environment, validated once at start (DESIGN §5). */
export interface Config extends SharedServiceConfig {
  /** `PORT`, default 8080. 0 picks a free port. */
  port: number;
  /** `HOST`, default 127.0.0.1 (0.0.0.0 in containers). */
  host: string;
  /** `KWS_ADMIN_KEY`: the admin's bearer credential (≥ 16 characters). */
  adminKey: string;
  /** `KWS_TOKEN_SECRET`: HMAC-SHA256 key of user tokens (≥ 32 characters). */
  tokenSecret: string;
  /** `KWS_TOKEN_TTL_S`, default 30 days: lifetime of a user token. */
  tokenTtlS: number;
  /** `KWS_RATE_LIMIT`, default 600 requests per minute per token (per IP without one); 0 turns it off. */
  rateLimit: number;
  /**
   * `KWS_CHECK_THREADS`, default every core but the event loop's (at least 1): worker threads that check
   * uploaded clips (enrollment/check-pool.ts); 0 checks them on the event loop.
   */
  checkThreads: number;
  /** Set when development keys were generated or reused: the file they live in (never log the keys). */
  devKeysFile?: string;
}

export { ConfigError };

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_TOKEN_TTL_S = 30 * 24 * 3600;
export const DEFAULT_RATE_LIMIT = 600;
export const DEFAULT_CHECK_THREADS = Math.max(1, availableParallelism() - 1);
export const MIN_ADMIN_KEY_LENGTH = 16;
export const MIN_TOKEN_SECRET_LENGTH = 32;
export const DEV_KEYS_FILE = 'dev-keys.json';

/**
 * Reads and validates the environment. With neither `KWS_ADMIN_KEY` nor `KWS_TOKEN_SECRET` set and
 * `NODE_ENV` not `production`, keys are generated once into `KWS_DATA_DIR/dev-keys.json` (mode 0600) and
 * reused on later starts; the returned `devKeysFile` names that file so the caller can log its path.
 */
export async function loadConfig(env: Env = process.env): Promise<Config> {
  const problems: string[] = [];
  const port = intVar(env, 'PORT', DEFAULT_PORT, 0, 65535, problems);
  const host = env.HOST?.trim() || DEFAULT_HOST;
  const shared = readSharedConfig(env, problems);
  const tokenTtlS = intVar(env, 'KWS_TOKEN_TTL_S', DEFAULT_TOKEN_TTL_S, 1, 10 * 365 * 24 * 3600, problems);
  const rateLimit = intVar(env, 'KWS_RATE_LIMIT', DEFAULT_RATE_LIMIT, 0, 10_000_000, problems);
  const checkThreads = intVar(env, 'KWS_CHECK_THREADS', DEFAULT_CHECK_THREADS, 0, 256, problems);

  let adminKey = env.KWS_ADMIN_KEY ?? '';
  let tokenSecret = env.KWS_TOKEN_SECRET ?? '';
  let devKeysFile: string | undefined;
  if (!adminKey && !tokenSecret && env.NODE_ENV !== 'production') {
    if (problems.length > 0) throw new ConfigError(problems);
    devKeysFile = join(shared.dataDir, DEV_KEYS_FILE);
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
    ...shared,
    port,
    host,
    adminKey,
    tokenSecret,
    tokenTtlS,
    rateLimit,
    checkThreads,
    ...(devKeysFile ? { devKeysFile } : {}),
  };
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
