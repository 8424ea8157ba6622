/**
 * Hostile input, part 4 (issue #7): secrets never reach a log line, and credentials are compared in
 * constant time.
 *
 * - A real api process at LOG_LEVEL=trace and a real worker, driven through every route family with the admin
 *   key, user tokens (issued, rotated, revoked, expired, forged, another user's) and admin Basic, including the
 *   failures (401/403/404/409/415/422). Then neither the admin key, the token secret, nor the signature part
 *   of any user token — nor any 12-character piece of them, nor the Basic credential — appears anywhere in
 *   what the api or the worker wrote (stdout and stderr).
 * - The same for development keys: with no keys set the api generates them and logs the file's path only.
 * - Constant time: every credential check goes through `timingSafeEqual` on two equal-length digests,
 *   whatever the lengths of what was sent, without throwing; no secret is compared with `===`.
 */
import * as crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signToken } from '../../apps/api/src/auth/tokens.ts';
import {
  ApiClient,
  type Cluster,
  expectStatus,
  type HttpReply,
  killAll,
  REPO_ROOT,
  speechWav,
  startApi,
  startCluster,
  voiceClips,
  waitUntil,
} from '../src/harness.ts';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

/** Shortest piece of a secret that must not appear: long enough not to occur in logs by chance. */
const PIECE = 12;

/** Every PIECE-character window of `secret` (the whole secret when shorter). */
function pieces(secret: string): string[] {
  if (secret.length <= PIECE) return [secret];
  return Array.from({ length: secret.length - PIECE + 1 }, (_, i) => secret.slice(i, i + PIECE));
}

/** The secret part of a user token: its HMAC (the rest, `v1.<userId>.<version>.<expiresAt>`, is public). */
function tokenMac(token: string): string {
  return token.split('.')[4];
}

/** Names of the secrets (and which piece) found in `logs`. */
function leaks(logs: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    for (const piece of pieces(secret)) {
      if (logs.includes(piece)) found.push(`${name} (piece ${JSON.stringify(piece)})`);
    }
  }
  return found;
}

describe('secrets in logs: a real api at LOG_LEVEL=trace and a worker, every route, failures included', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ workers: 1, trainingSteps: 20, apiLogLevel: 'trace' });
  });
  afterAll(async () => {
    await cluster?.teardown();
    await killAll();
  });

  it('no admin key, token secret, user token signature or Basic credential, whole or in 12-character pieces', async () => {
    const { client, api } = cluster;
    const admin = api.adminKey;
    const issued: string[] = [];
    const statuses: number[] = [];
    const note = (res: HttpReply) => {
      statuses.push(res.status);
      return res;
    };
    const call = async (method: string, path: string, options: Parameters<ApiClient['request']>[2] = {}) =>
      note(await client.request(method, path, options));

    // Users: created by the admin; refused without it or with a user's token.
    const a = await client.createUser('secrets-a');
    const b = await client.createUser('secrets-b');
    issued.push(a.token, b.token);
    await call('POST', '/v1/users', { token: a.token, body: {} });
    await call('POST', '/v1/users', { body: {} });
    await call('POST', '/v1/users', { token: `${admin}x`, body: {} });
    await call('POST', '/v1/users', { token: admin, body: { userId: 'secrets-a' } });
    await call('POST', '/v1/users', { token: admin, body: { userId: '../x' } });

    // Enrollment: accepted, rejected (bad audio, not multipart), another user's token, a forged token.
    const { enrollment } = await voiceClips();
    expectStatus(note(await client.uploadClips(a.userId, a.token, enrollment.slice(0, 4))), 201, 'uploading');
    note(await client.uploadClips(a.userId, a.token, [new Uint8Array(64)]));
    note(await client.uploadClips(a.userId, b.token, [speechWav(0.6)]));
    const forged = signToken('not-the-secret-but-long-enough-for-hmac', {
      userId: a.userId,
      tokenVersion: Number(a.token.split('.')[2]),
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    });
    note(await client.uploadClips(a.userId, forged, [speechWav(0.6)]));
    await call('POST', `/v1/users/${a.userId}/enrollments`, { token: a.token, body: { not: 'multipart' } });
    const listed = await call('GET', `/v1/users/${a.userId}/enrollments`, { token: a.token });
    const clipId = listed.json<{ clips: { clipId: string }[] }>().clips[3].clipId;
    await call('DELETE', `/v1/users/${a.userId}/enrollments/${clipId}`, { token: admin });
    await call('GET', `/v1/users/${a.userId}/enrollments`, { token: forged });

    // Training, its status (owner, admin, another user), and the model in every form.
    await call('POST', `/v1/users/${b.userId}/models`, { token: b.token });
    // The queue call is bounded at 800 ms: on a loaded machine a 503 is a correct answer; ask again.
    const post = await waitUntil('a training job', async () => {
      const res = note(await client.requestTraining(a.userId, a.token));
      return res.status === 503 ? undefined : expectStatus(res, 202, 'training');
    });
    const { jobId } = post.json<{ jobId: string }>();
    await call('GET', `/v1/jobs/${jobId}`, { token: b.token });
    await call('GET', `/v1/jobs/${jobId}`, { token: admin });
    const done = await client.waitForJob(jobId, a.token);
    expect(done.state, JSON.stringify(done)).toBe('completed');
    const model = expectStatus(note(await client.downloadModel(a.userId, a.token)), 200, 'downloading');
    note(await client.downloadModel(a.userId, a.token, model.headers.get('etag') ?? undefined));
    await call('GET', `/v1/users/${a.userId}/model?format=tfjs`, { token: a.token });
    await call('GET', `/v1/users/${a.userId}/model/tfjs/model.json`, { token: admin });
    await call('GET', `/v1/users/${a.userId}/model/tfjs/weights.bin`, { token: a.token });
    await call('GET', `/v1/users/${b.userId}/model`, { token: b.token });

    // Tokens: rotated (the old one is then revoked), expired, malformed in several ways.
    const rotated = await call('POST', `/v1/users/${a.userId}/token`, { token: a.token });
    const fresh = rotated.json<{ token: string }>().token;
    issued.push(fresh);
    await call('GET', `/v1/users/${a.userId}/enrollments`, { token: a.token });
    const expired = signToken(api.tokenSecret, {
      userId: a.userId,
      tokenVersion: Number(fresh.split('.')[2]),
      expiresAt: Math.floor(Date.now() / 1000) - 10,
    });
    issued.push(expired);
    await call('GET', `/v1/users/${a.userId}/enrollments`, { token: expired });
    for (const authorization of [
      `Basic ${admin}`,
      `bearer${admin}`,
      `Bearer  ${fresh} extra`,
      fresh,
      admin,
    ]) {
      await call('GET', `/v1/users/${a.userId}/enrollments`, { headers: { authorization } });
    }

    // Ops and the dashboard: admin Bearer, admin Basic, a wrong Basic password, a user's token.
    const basic = Buffer.from(`admin:${admin}`).toString('base64');
    const wrongBasic = Buffer.from(`admin:${admin.slice(0, -2)}zz`).toString('base64');
    await call('GET', '/admin/queues', { headers: { authorization: `Basic ${basic}` } });
    await call('GET', '/admin/queues/api/queues', { token: admin });
    await call('GET', '/admin/queues/api/queues', { headers: { authorization: `Basic ${wrongBasic}` } });
    await call('GET', '/admin/queues/api/queues', { token: fresh });
    for (const path of ['/healthz', '/readyz', '/metrics', '/docs/json'])
      await call('GET', path, { token: admin });

    // Deletion by the user, and the deleted user's token afterwards.
    await call('DELETE', `/v1/users/${b.userId}`, { token: b.token });
    await call('GET', `/v1/users/${b.userId}/enrollments`, { token: b.token });

    // Every kind of answer was given while logging, so every code path that logs ran (fetch follows the
    // ?format=tfjs 308 itself, so that one shows as the model.json answer).
    expect([...new Set(statuses)].sort()).toEqual([
      200, 201, 202, 204, 304, 400, 401, 403, 404, 409, 415, 422,
    ]);
    const logs = `${api.logs()}\n${cluster.workers.map((w) => w.logs()).join('\n')}`;
    // The logs are there, at trace level, with request headers (redacted) — an empty log would prove nothing.
    expect(logs.length).toBeGreaterThan(20_000);
    expect(logs).toMatch(/"level":10/);
    expect(logs).toMatch(/"authorization":"\[Redacted\]"/);
    expect(logs).toContain(`/v1/users/${a.userId}/enrollments`);
    const secrets: Record<string, string> = {
      'admin key': admin,
      'token secret': api.tokenSecret,
      'Basic credential': basic,
      'wrong Basic credential': wrongBasic,
    };
    issued.forEach((token, i) => {
      secrets[`token ${i} signature`] = tokenMac(token);
    });
    console.log(
      `hostile-secrets logs ${JSON.stringify({ bytes: logs.length, lines: logs.split('\n').length, requests: statuses.length, secrets: Object.keys(secrets).length })}`,
    );
    expect(leaks(logs, secrets)).toEqual([]);
  });
});

describe('secrets in logs: development keys', () => {
  it('with no keys set, the api logs the dev-keys file path, never the keys it generated', async () => {
    const cluster = await startCluster({ workers: 0 });
    try {
      const dataDir = join(cluster.dataDir, 'dev');
      // Empty keys: config treats them as unset and generates development keys (NODE_ENV is not production).
      const api = await startApi({
        redisUrl: cluster.redis.url,
        dataDir,
        queuePrefix: `${cluster.queuePrefix}-dev`,
        logLevel: 'trace',
        env: { KWS_ADMIN_KEY: '', KWS_TOKEN_SECRET: '' },
      });
      try {
        const keys = JSON.parse(await readFile(join(dataDir, 'dev-keys.json'), 'utf8'));
        const client = new ApiClient(api.url, keys.KWS_ADMIN_KEY);
        const user = await client.createUser();
        await client.request('GET', `/v1/users/${user.userId}/enrollments`, { token: user.token });
        await client.request('GET', '/v1/users/nobody/enrollments', { token: `${keys.KWS_ADMIN_KEY}-` });
        const logs = api.logs();
        expect(logs).toContain(join(dataDir, 'dev-keys.json'));
        expect(
          leaks(logs, {
            'admin key': keys.KWS_ADMIN_KEY,
            'token secret': keys.KWS_TOKEN_SECRET,
            'token signature': tokenMac(user.token),
          }),
        ).toEqual([]);
      } finally {
        await api.kill();
      }
    } finally {
      await cluster.teardown();
    }
  });
});

describe('constant-time comparison', () => {
  const SECRET = 'k'.repeat(48);
  const ADMIN = 'the-admin-key-0123456789';

  it('the code compares secrets only through timingSafeEqual, never with === or !==', async () => {
    const tokens = await readFile(join(REPO_ROOT, 'apps/api/src/auth/tokens.ts'), 'utf8');
    const guard = await readFile(join(REPO_ROOT, 'apps/api/src/auth/guard.ts'), 'utf8');
    expect(tokens).toMatch(/timingSafeEqual\(given, expected\)/);
    expect(tokens).toMatch(/timingSafeEqual\(da, db\)/);
    for (const source of [tokens, guard]) {
      expect(source).not.toMatch(/[!=]==?\s*[\w.#]*(adminKey|tokenSecret|expected)\b/);
      expect(source).not.toMatch(/\b(adminKey|tokenSecret|expected)\s*[!=]==?/);
    }
  });

  it('secretsEqual compares equal-length digests whatever it is given, and never throws', async () => {
    const { secretsEqual } = await import('../../apps/api/src/auth/tokens.ts');
    const spy = vi.mocked(crypto.timingSafeEqual);
    for (const candidate of [
      '',
      'x',
      ADMIN.slice(0, 12),
      `${ADMIN}x`,
      'ü'.repeat(40),
      'x'.repeat(1 << 20),
      ADMIN,
    ]) {
      spy.mockClear();
      expect(secretsEqual(candidate, ADMIN)).toBe(candidate === ADMIN);
      // One comparison, of two 32-byte digests: no early return on length, no length-dependent work.
      expect(spy).toHaveBeenCalledTimes(1);
      const [x, y] = spy.mock.calls[0] as [Uint8Array, Uint8Array];
      expect([x.length, y.length]).toEqual([32, 32]);
    }
  });

  it('verifyToken answers any signature length or alphabet without throwing; well-formed ones go through timingSafeEqual', async () => {
    const { verifyToken } = await import('../../apps/api/src/auth/tokens.ts');
    const spy = vi.mocked(crypto.timingSafeEqual);
    const now = 1_800_000_000;
    const good = signToken(SECRET, { userId: 'u1', tokenVersion: 3, expiresAt: now + 60 });
    const head = good.split('.').slice(0, 4).join('.');
    const mac = tokenMac(good);
    for (const signature of [
      '',
      'A',
      mac.slice(0, 42),
      `${mac}A`,
      `${mac}${mac}`,
      '!!!!',
      'ü'.repeat(43),
      'A'.repeat(10_000),
    ]) {
      expect(verifyToken(SECRET, `${head}.${signature}`, now)).toMatchObject({ ok: false });
    }
    // A full-length wrong signature: decided by one constant-time comparison of 32-byte buffers.
    const wrong = `${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BA' : 'AA'}`;
    spy.mockClear();
    expect(verifyToken(SECRET, `${head}.${wrong}`, now)).toEqual({
      ok: false,
      reason: 'token signature does not verify',
    });
    expect(spy).toHaveBeenCalledTimes(1);
    expect((spy.mock.calls[0] as [Uint8Array, Uint8Array]).map((b) => b.length)).toEqual([32, 32]);
    expect(verifyToken(SECRET, good, now)).toMatchObject({ ok: true });
  });
});
