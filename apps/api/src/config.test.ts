import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CHECK_THREADS,
  DEFAULT_RATE_LIMIT,
  DEFAULT_TOKEN_TTL_S,
  loadConfig,
} from './config.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kws-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const keys = { KWS_ADMIN_KEY: 'a'.repeat(16), KWS_TOKEN_SECRET: 's'.repeat(32) };

describe('loadConfig', () => {
  it('applies the DESIGN §5 defaults', async () => {
    const config = await loadConfig({ ...keys, KWS_DATA_DIR: dir });
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      redisUrl: 'redis://127.0.0.1:6379',
      dataDir: dir,
      adminKey: keys.KWS_ADMIN_KEY,
      tokenSecret: keys.KWS_TOKEN_SECRET,
      queuePrefix: 'kws',
      tokenTtlS: DEFAULT_TOKEN_TTL_S,
      rateLimit: DEFAULT_RATE_LIMIT,
      checkThreads: DEFAULT_CHECK_THREADS,
      logLevel: 'info',
    });
    expect(DEFAULT_TOKEN_TTL_S).toBe(30 * 24 * 3600);
    expect(DEFAULT_RATE_LIMIT).toBe(600);
    expect(DEFAULT_CHECK_THREADS).toBe(Math.max(1, availableParallelism() - 1));
  });

  it('reads every variable', async () => {
    const config = await loadConfig({
      ...keys,
      PORT: '0',
      HOST: '0.0.0.0',
      REDIS_URL: 'redis://redis:6380/2',
      KWS_DATA_DIR: dir,
      KWS_QUEUE_PREFIX: 'kws-prod',
      KWS_TOKEN_TTL_S: '60',
      KWS_RATE_LIMIT: '0',
      KWS_CHECK_THREADS: '0',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      redisUrl: 'redis://redis:6380/2',
      queuePrefix: 'kws-prod',
      tokenTtlS: 60,
      rateLimit: 0,
      checkThreads: 0,
      logLevel: 'warn',
    });
  });

  it('lists every problem at once, naming what it received', async () => {
    const err = await loadConfig({
      KWS_ADMIN_KEY: 'short',
      KWS_TOKEN_SECRET: 'also short',
      PORT: '80a',
      REDIS_URL: 'http://x',
      KWS_RATE_LIMIT: '-1',
      LOG_LEVEL: 'loud',
      KWS_QUEUE_PREFIX: 'has space',
      KWS_DATA_DIR: dir,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toEqual([
      'PORT must be an integer from 0 to 65535, received "80a"',
      'REDIS_URL must start with redis:// or rediss://, received "http://x"',
      'KWS_QUEUE_PREFIX must be 1-64 characters of [A-Za-z0-9_.{}-], received "has space"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, received "loud"',
      'KWS_RATE_LIMIT must be an integer from 0 to 10000000, received "-1"',
      'KWS_ADMIN_KEY must be at least 16 characters, received 5',
      'KWS_TOKEN_SECRET must be at least 32 characters, received 10',
    ]);
  });

  it('without keys (development) generates them once into dev-keys.json, mode 0600, and reuses them', async () => {
    const first = await loadConfig({ KWS_DATA_DIR: dir });
    const file = join(dir, 'dev-keys.json');
    expect(first.devKeysFile).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    expect(stored).toEqual({ KWS_ADMIN_KEY: first.adminKey, KWS_TOKEN_SECRET: first.tokenSecret });
    expect(first.adminKey.length).toBeGreaterThanOrEqual(16);
    expect(first.tokenSecret.length).toBeGreaterThanOrEqual(32);
    const second = await loadConfig({ KWS_DATA_DIR: dir });
    expect([second.adminKey, second.tokenSecret]).toEqual([first.adminKey, first.tokenSecret]);
    // Concurrent first starts agree on one set of keys.
    await rm(file);
    const racing = await Promise.all(Array.from({ length: 5 }, () => loadConfig({ KWS_DATA_DIR: dir })));
    expect(new Set(racing.map((c) => c.adminKey)).size).toBe(1);
  });

  it('does not generate keys in production, nor when only one key is set', async () => {
    await expect(loadConfig({ KWS_DATA_DIR: dir, NODE_ENV: 'production' })).rejects.toThrow(
      /KWS_ADMIN_KEY must be at least 16 characters, received 0 \(NODE_ENV=production/,
    );
    await expect(loadConfig({ KWS_DATA_DIR: dir, KWS_ADMIN_KEY: keys.KWS_ADMIN_KEY })).rejects.toThrow(
      /KWS_TOKEN_SECRET must be at least 32 characters, received 0/,
    );
  });

  it('refuses a corrupt dev-keys.json, saying how to fix it', async () => {
    await writeFile(join(dir, 'dev-keys.json'), '{nope');
    await expect(loadConfig({ KWS_DATA_DIR: dir })).rejects.toThrow(
      /is not valid JSON .*remove it to regenerate/,
    );
  });
});
