/**
 * The whole service, end to end, against a real Redis: the real api (`buildApp`), a real worker running the
 * real `personalize` on the committed base model, and detection with the model the api serves. Once through
 * `inject`, once over a real socket.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '@kws/api';
import { buildApp } from '@kws/api';
import { type DetectorModel, detect, loadDetectorModel } from '@kws/detector';
import type { TrainingResult } from '@kws/store';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminKey, type TestEnv, testEnv, voiceClips, waitFor } from './helpers.ts';

/** A minimal HTTP client, so one scenario runs through `inject` and through `fetch` alike. */
interface Http {
  request(
    method: string,
    url: string,
    headers?: Record<string, string>,
    body?: Uint8Array | string,
  ): Promise<{ status: number; headers: Headers; bytes: Uint8Array; json: () => any }>;
}

function injectClient(app: FastifyInstance): Http {
  return {
    async request(method, url, headers = {}, body) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(body !== undefined ? { payload: Buffer.from(body) } : {}),
      });
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, String(v));
      const bytes = new Uint8Array(res.rawPayload);
      return { status: res.statusCode, headers: h, bytes, json: () => JSON.parse(res.body) };
    },
  };
}

function socketClient(base: string): Http {
  return {
    async request(method, url, headers = {}, body) {
      const res = await fetch(`${base}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const bytes = new Uint8Array(await res.arrayBuffer());
      return {
        status: res.status,
        headers: res.headers,
        bytes,
        json: () => JSON.parse(new TextDecoder().decode(bytes)),
      };
    },
  };
}

async function form(files: Uint8Array[]): Promise<{ body: Uint8Array; type: string }> {
  const data = new FormData();
  for (const [i, bytes] of files.entries()) {
    data.append('clips', new Blob([bytes], { type: 'audio/wav' }), `take${i}.wav`);
  }
  const request = new Request('http://localhost/', { method: 'POST', body: data });
  return { body: new Uint8Array(await request.arrayBuffer()), type: request.headers.get('content-type')! };
}

let env: TestEnv;
let app: FastifyInstance;
let admin: Record<string, string>;

beforeEach(async () => {
  env = await testEnv();
  const key = adminKey();
  admin = { authorization: `Bearer ${key}` };
  const config: Config = {
    port: 0,
    host: '127.0.0.1',
    redisUrl: env.workerConfig().redisUrl,
    dataDir: env.dataDir,
    adminKey: key,
    tokenSecret: randomBytes(32).toString('hex'),
    queuePrefix: env.prefix,
    tokenTtlS: 3600,
    rateLimit: 0,
    logLevel: 'silent',
  };
  app = await buildApp(config, { logger: false });
  await env.startWorker();
});
afterEach(async () => {
  await app.close();
  await env.cleanup();
});

/** Create a user, upload 5 clips, train, poll to completion, download (and revalidate) the model. */
async function personalizeThrough(http: Http): Promise<{ model: DetectorModel; result: TrainingResult }> {
  const { enrollment } = await voiceClips();
  const created = await http.request(
    'POST',
    '/v1/users',
    { ...admin, 'content-type': 'application/json' },
    '{}',
  );
  expect(created.status).toBe(201);
  const { userId, token } = created.json();
  const auth = { authorization: `Bearer ${token}` };

  const upload = await form(enrollment);
  const uploaded = await http.request(
    'POST',
    `/v1/users/${userId}/enrollments`,
    { ...auth, 'content-type': upload.type },
    upload.body,
  );
  expect(uploaded.status, new TextDecoder().decode(uploaded.bytes)).toBe(201);
  expect(uploaded.json().clips).toHaveLength(5);

  const before = await http.request('GET', `/v1/users/${userId}/model`, auth);
  expect(before.status).toBe(404);

  const started = await http.request('POST', `/v1/users/${userId}/models`, auth);
  expect(started.status).toBe(202);
  const { jobId } = started.json();

  const pcts: number[] = [];
  const job = await waitFor(
    `job ${jobId} to finish`,
    async () => {
      const res = await http.request('GET', `/v1/jobs/${jobId}`, auth);
      expect(res.status).toBe(200);
      const body = res.json();
      pcts.push(body.progress.pct);
      return body.state === 'completed' || body.state === 'failed' ? body : undefined;
    },
    120_000,
    150,
  );
  expect(job.error).toBeUndefined();
  expect(job.state).toBe('completed');
  expect(job.progress.pct).toBe(100);
  // Progress never goes backwards.
  for (let i = 1; i < pcts.length; i++) expect(pcts[i]).toBeGreaterThanOrEqual(pcts[i - 1]);
  const result = job.result as TrainingResult;
  expect(result.modelVersion).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  expect(result.metrics.threshold).toBeGreaterThan(0);
  expect(result.metrics.threshold).toBeLessThan(1);
  for (const v of Object.values(result.metrics)) expect(Number.isFinite(v)).toBe(true);

  const download = await http.request('GET', `/v1/users/${userId}/model`, auth);
  expect(download.status).toBe(200);
  const etag = download.headers.get('etag');
  expect(etag).toBe(`"${result.sha256}"`);
  const revalidate = await http.request('GET', `/v1/users/${userId}/model`, {
    ...auth,
    'if-none-match': etag!,
  });
  expect(revalidate.status).toBe(304);
  expect(revalidate.bytes.byteLength).toBe(0);

  const tfjs = await http.request('GET', `/v1/users/${userId}/model/tfjs/model.json`, auth);
  expect(tfjs.status).toBe(200);
  expect(tfjs.json().weightsManifest[0].paths).toEqual(['weights.bin']);

  const model = loadDetectorModel(download.bytes);
  expect(model.header.threshold).toBe(result.metrics.threshold);
  return { model, result };
}

async function expectDetectsTheUser(model: DetectorModel): Promise<void> {
  const { heldOut, negative } = await voiceClips();
  const positive = detect(model, heldOut);
  expect(positive.detected, `held-out keyword scored ${positive.score}`).toBe(true);
  const other = detect(model, negative);
  expect(other.detected, `other speech scored ${other.score}`).toBe(false);
}

describe('end to end: api + worker + detection', () => {
  it('through inject: the trained model detects the held-out clip of the voice, not other speech', async () => {
    const { model } = await personalizeThrough(injectClient(app));
    await expectDetectsTheUser(model);
  });

  it('over a real socket', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { model } = await personalizeThrough(socketClient(`http://127.0.0.1:${port}`));
    await expectDetectsTheUser(model);
  });
});
