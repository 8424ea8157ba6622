import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { errors } from '../src/errors.ts';
import { speechWav } from './audio.ts';
import { bearer, createUser, errorOf, multipart, startTestApp, type TestApp, upload } from './helpers.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe('probes and metrics', () => {
  it('/healthz and /readyz (real Redis, writable store)', async () => {
    t = await startTestApp();
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.json()]).toEqual([
      200,
      { status: 'ready', checks: { redis: true, storage: true } },
    ]);
  });

  it('/metrics has request durations by route pattern and status, and queue depth by state', async () => {
    t = await startTestApp();
    const { token } = await createUser(t, 'metered');
    await t.app.inject({ method: 'GET', url: '/v1/users/metered/enrollments', headers: bearer(token) });
    await t.app.inject({ method: 'GET', url: '/v1/users/metered/enrollments' });
    const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toMatch(
      /^kws_http_request_duration_seconds_count\{method="GET",route="\/v1\/users\/:userId\/enrollments",status="200"\} 1$/m,
    );
    expect(body).toMatch(/status="401"\} 1$/m);
    expect(body).toMatch(/^kws_queue_jobs\{state="waiting"\} 0$/m);
    expect(body).toMatch(/^kws_queue_up 1$/m);
    expect(body).toMatch(/^# TYPE kws_job_duration_seconds histogram$/m);
  });

  it('/docs serves the OpenAPI document with every route of DESIGN §5', async () => {
    t = await startTestApp();
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /v1/users',
        'POST /v1/users/{userId}/token',
        'DELETE /v1/users/{userId}',
        'POST /v1/users/{userId}/enrollments',
        'GET /v1/users/{userId}/enrollments',
        'DELETE /v1/users/{userId}/enrollments/{clipId}',
        'POST /v1/users/{userId}/models',
        'GET /v1/users/{userId}/model',
        'GET /v1/users/{userId}/model/tfjs/model.json',
        'GET /v1/users/{userId}/model/tfjs/weights.bin',
        'GET /v1/jobs/{jobId}',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ]),
    );
    expect((await t.app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });
});

describe('/admin/queues', () => {
  it('needs the admin key, as Bearer or as the Basic password of user "admin"', async () => {
    t = await startTestApp();
    const { token } = await createUser(t, 'nosy');
    const basic = (user: string, pass: string) =>
      `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    const cases: [Record<string, string>, number][] = [
      [{}, 401],
      [bearer(token), 403],
      [{ authorization: basic('admin', 'wrong') }, 401],
      [{ authorization: basic('root', t.config.adminKey) }, 401],
      [t.admin, 200],
      [{ authorization: basic('admin', t.config.adminKey) }, 200],
    ];
    for (const [headers, status] of cases) {
      const res = await t.app.inject({ method: 'GET', url: '/admin/queues', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(status);
      if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Basic/);
      if (status === 200) expect(res.headers['content-type']).toMatch(/text\/html/);
    }
    const api = await t.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: t.admin });
    expect(api.statusCode).toBe(200);
    expect(JSON.stringify(api.json())).toMatch(/personalize/);
  });
});

describe('rate limit', () => {
  it('per token: the 4th request in a minute is 429 with Retry-After; other tokens are unaffected', async () => {
    t = await startTestApp({ rateLimit: 3 });
    const a = await createUser(t, 'rapid');
    const b = await createUser(t, 'calm');
    const url = (u: string) => `/v1/users/${u}/enrollments`;
    for (let i = 0; i < 3; i++) {
      expect(
        (await t.app.inject({ method: 'GET', url: url('rapid'), headers: bearer(a.token) })).statusCode,
      ).toBe(200);
    }
    const limited = await t.app.inject({ method: 'GET', url: url('rapid'), headers: bearer(a.token) });
    expect([limited.statusCode, errorOf(limited).code]).toEqual([429, errors.RATE_LIMITED.code]);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(
      (await t.app.inject({ method: 'GET', url: url('calm'), headers: bearer(b.token) })).statusCode,
    ).toBe(200);
    // Probes are never limited.
    for (let i = 0; i < 5; i++)
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('logs', () => {
  it('carry request ids and never the admin key or a token', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    t = await startTestApp({}, { logger: { stream: sink, level: 'trace' } });
    const { token } = await createUser(t, 'logged');
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/users/logged/enrollments',
      headers: { ...bearer(token), 'x-request-id': 'req-from-client' },
    });
    expect(res.headers['x-request-id']).toBe('req-from-client');
    const generated = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await upload(t, 'logged', token, [{ name: 'a.wav', bytes: speechWav(0.5) }]);
    const all = lines.join('');
    expect(all).toContain('"reqId":"req-from-client"');
    expect(all).not.toContain(t.config.adminKey);
    expect(all).not.toContain(t.config.tokenSecret);
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[4]);
  });
});

describe('a real socket', () => {
  it('listen({ port: 0 }) and fetch: create a user, upload, list', async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}`;
    const created = await fetch(`${base}/v1/users`, {
      method: 'POST',
      headers: { ...t.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'wired' }),
    });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    const form = new FormData();
    form.append('clips', new Blob([speechWav(0.8)], { type: 'audio/wav' }), 'a.wav');
    const up = await fetch(`${base}/v1/users/wired/enrollments`, {
      method: 'POST',
      headers: bearer(token),
      body: form,
    });
    expect(up.status).toBe(201);
    const list = await fetch(`${base}/v1/users/wired/enrollments`, { headers: bearer(token) });
    expect(((await list.json()) as { clips: unknown[] }).clips).toHaveLength(1);
  });

  it('a file over the cap is refused with 413 before the client finished sending', async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const { token } = await createUser(t, 'bulky');
    // 40 MB in one file: the answer must come long before that much is read.
    const body = await multipart([{ name: 'big.wav', bytes: new Uint8Array(40 * 1024 * 1024) }]);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= body.payload.length) return controller.close();
        const chunk = body.payload.subarray(sent, sent + 64 * 1024);
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`http://127.0.0.1:${port}/v1/users/bulky/enrollments`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': body.headers['content-type'] },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      errors.PAYLOAD_TOO_LARGE.code,
    );
    expect(sent).toBeLessThan(20 * 1024 * 1024);
  });
});

describe('process-wide handlers', () => {
  it('building the app and handling an upload installs no uncaughtException/unhandledRejection handler', async () => {
    // DESIGN §7: kissfft-wasm's loader installs such handlers; a server must not keep them.
    const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    t = await startTestApp();
    const { token } = await createUser(t, 'handlers');
    expect((await upload(t, 'handlers', token, [{ name: 'a.wav', bytes: speechWav(0.7) }])).statusCode).toBe(
      201,
    );
    expect([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')]).toEqual(
      before,
    );
  });
});
