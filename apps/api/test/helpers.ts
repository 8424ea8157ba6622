import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../src/config.ts';
import { type BuildOptions, buildApp } from '../src/server.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  /** `{ authorization: 'Bearer <admin key>' }` */
  admin: Record<string, string>;
  /** Closes the app, deletes its Redis keys (its own prefix only, never FLUSHALL) and its data dir. */
  cleanup: () => Promise<void>;
}

/** An app on a fresh data dir and a fresh `test-<uuid>` queue prefix, quiet, without rate limit. */
export async function startTestApp(
  overrides: Partial<Config> = {},
  options: BuildOptions = {},
): Promise<TestApp> {
  const config: Config = {
    port: 0,
    host: '127.0.0.1',
    redisUrl: REDIS_URL,
    dataDir: overrides.dataDir ?? (await mkdtemp(join(tmpdir(), 'kws-api-'))),
    adminKey: `admin-${randomBytes(12).toString('hex')}`,
    tokenSecret: randomBytes(32).toString('hex'),
    queuePrefix: `test-${randomUUID()}`,
    tokenTtlS: 3600,
    rateLimit: 0,
    // One check thread: every upload test goes through the pool, as in production.
    checkThreads: 1,
    logLevel: 'silent',
    ...overrides,
  };
  const app = await buildApp(config, { logger: false, ...options });
  let cleaned = false;
  return {
    app,
    config,
    admin: { authorization: `Bearer ${config.adminKey}` },
    cleanup: async () => {
      if (cleaned) return;
      cleaned = true;
      await app.close();
      await deleteRedisKeys(config.queuePrefix);
      await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** Removes every key under `prefix:` (SCAN + UNLINK). */
export async function deleteRedisKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) removed += await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return removed;
}

export async function createUser(t: TestApp, userId?: string): Promise<{ userId: string; token: string }> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: t.admin,
    payload: userId ? { userId } : {},
  });
  if (res.statusCode !== 201) throw new Error(`creating a user answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export interface FormFile {
  /** Default `clips`. */
  field?: string;
  name: string;
  bytes: Uint8Array;
  type?: string;
}

/** A multipart/form-data body as a browser would send it (undici's FormData encoder). */
export async function multipart(
  files: FormFile[],
  fields: Record<string, string> = {},
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const f of files) {
    form.append(f.field ?? 'clips', new Blob([f.bytes], { type: f.type ?? 'audio/wav' }), f.name);
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    headers: { 'content-type': request.headers.get('content-type')! },
  };
}

export async function upload(
  t: TestApp,
  userId: string,
  token: string,
  files: FormFile[],
): Promise<LightMyRequestResponse> {
  const body = await multipart(files);
  return t.app.inject({
    method: 'POST',
    url: `/v1/users/${userId}/enrollments`,
    headers: { ...bearer(token), ...body.headers },
    payload: body.payload,
  });
}

export async function fixture(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(FIXTURES, name)));
}

/** Asserts the JSON error shape and returns the error. */
export function errorOf(res: LightMyRequestResponse): { code: string; message: string } {
  const body = res.json() as { error?: { code?: unknown; message?: unknown } };
  if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') {
    throw new Error(`not a JSON error body: ${res.body}`);
  }
  return body.error as { code: string; message: string };
}
