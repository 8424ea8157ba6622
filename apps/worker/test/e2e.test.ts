/**
 * The whole service, end to end, against a real Redis: the real api (`buildApp`), a real worker running the
 * real `personalize` on the committed base model, and detection with the model the api serves. Once through
 * `inject`, once over a real socket. The user is a voice the base misses (helpers.ts), so the served model
 * is a fine-tuned one and what it detects, training taught it.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '@kws/api';
import { buildApp } from '@kws/api';
import {
  BASE_MODEL_PATH,
  DEFAULT_KEYWORD,
  type DetectorModel,
  detect,
  loadDetectorModel,
  readDetectorModel,
  synthesize,
} from '@kws/detector';
import type { TrainingResult } from '@kws/store';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminKey, type TestEnv, testEnv, USER_VOICE, voiceClips, waitFor } from './helpers.ts';

/** A minimal HTTP client, so one scenario runs through `inject` and through `fetch` alike. */
interface Http {
  request(
    method: string,
    url: string,
    headers?: Record<string, string>,
    body?: Uint8Array | string,
  ): Promise<{ status: number; headers: Headers; bytes: Uint8Array; json: <T>() => T }>;
}

interface JobStatus {
  state: string;
  progress: { epoch: number; loss: number | null; pct: number };
  result?: TrainingResult;
  error?: { code: string; message: string };
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
      return { status: res.statusCode, headers: h, bytes, json: <T>() => JSON.parse(res.body) as T };
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
        json: <T>() => JSON.parse(new TextDecoder().decode(bytes)) as T,
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
    checkThreads: 1,
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
  const { userId, token } = created.json<{ userId: string; token: string }>();
  const auth = { authorization: `Bearer ${token}` };

  const upload = await form(enrollment);
  const uploaded = await http.request(
    'POST',
    `/v1/users/${userId}/enrollments`,
    { ...auth, 'content-type': upload.type },
    upload.body,
  );
  expect(uploaded.status, new TextDecoder().decode(uploaded.bytes)).toBe(201);
  expect(uploaded.json<{ clips: unknown[] }>().clips).toHaveLength(5);

  const before = await http.request('GET', `/v1/users/${userId}/model`, auth);
  expect(before.status).toBe(404);

  const started = await http.request('POST', `/v1/users/${userId}/models`, auth);
  expect(started.status).toBe(202);
  const { jobId } = started.json<{ jobId: string }>();

  const pcts: number[] = [];
  const job = await waitFor(
    `job ${jobId} to finish`,
    async () => {
      const res = await http.request('GET', `/v1/jobs/${jobId}`, auth);
      expect(res.status).toBe(200);
      const body = res.json<JobStatus>();
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
  expect(tfjs.json<{ weightsManifest: { paths: string[] }[] }>().weightsManifest[0].paths).toEqual([
    'weights.bin',
  ]);

  const model = loadDetectorModel(download.bytes);
  expect(model.header.threshold).toBe(result.metrics.threshold);
  return { model, result };
}

/** Keyword takes of the user's voice never uploaded: inside the enrollment takes' speed and pitch range. */
const HELD_OUT_TAKES = [160, 180].flatMap((speed) => [48, 53, 59].map((pitch) => ({ speed, pitch })));
/** Near-misses of the keyword (the base model before 984c93c scored the first as high as the keyword). */
const CONFUSABLES = ['hey there nova scotia', 'hey norma'];
/**
 * Every held-out keyword take must outscore every other-speech clip by this much. Over 17 training seeds
 * (60 steps; the clips' own seed and 16 others) the smallest gap was 0.26 (median 0.72).
 */
const SCORE_GAP = 0.2;

let committedBase: Promise<DetectorModel> | undefined;
const baseModel = () => {
  committedBase ??= readDetectorModel(BASE_MODEL_PATH).then((read) => read.model);
  return committedBase;
};

let heldOutClips: Promise<{ keyword: Float32Array[]; other: Float32Array[] }> | undefined;

function testClips() {
  heldOutClips ??= (async () => {
    const { heldOut, negative } = await voiceClips();
    const takes = await Promise.all(HELD_OUT_TAKES.map((o) => synthesize(DEFAULT_KEYWORD, USER_VOICE, o)));
    const confusables = await Promise.all(
      CONFUSABLES.map((text) => synthesize(text, USER_VOICE, { speed: 175, pitch: 50 })),
    );
    return { keyword: [heldOut, ...takes], other: [negative, ...confusables] };
  })();
  return heldOutClips;
}

/**
 * The served model is not the base: the base misses the user, fine-tuning changed the model's weights, and
 * the job's result says it misses fewer held-out copies than the base (over 17 seeds: 8–75 % → 0–8 %). The
 * model file always differs from the base's (its header has its own `created_at`), so tensors are compared.
 */
async function expectFineTuned(model: DetectorModel, result: TrainingResult): Promise<void> {
  const base = await baseModel();
  const { keyword } = await testClips();
  const baseScores = keyword.map((clip) => detect(base, clip).score);
  expect(
    baseScores.every((s) => s < base.header.threshold),
    `the base already detects the user's held-out takes (${baseScores.map((v) => v.toFixed(3))}): ` +
      'USER_VOICE must be a voice the base misses, or this test cannot tell what training did',
  ).toBe(true);
  const weights = model.network.weights;
  expect(weights.map((w) => w.shape)).toEqual(base.network.weights.map((w) => w.shape));
  const changed = weights.filter((w, i) => w.value.some((v, k) => v !== base.network.weights[i].value[k]));
  expect(changed.length, 'tensors that differ from the base model').toBeGreaterThan(0);
  expect(result.metrics.frrAfter).toBeLessThan(result.metrics.frrBefore);
}

/**
 * The personal model detects the user's held-out recording (a take never uploaded), detects none of the
 * other speech, and ranks every held-out keyword take above all other speech with a clear gap. The clips
 * and so the training seed (a hash of the clips' bytes) are fixed: for these clips at this budget the user
 * model (half way between base and fine-tuned weights) scored the 7 keyword clips 0.923–0.981 at its
 * threshold of 0.95 (6 detected; the base scores them 0.24–0.93 at 0.99) and other speech ≤ 0.13. Over 16
 * other seeds, measured by calling personalize directly on the same WAVs (60 steps): the held-out
 * recording was detected on 13 (score 0.917–0.985 over all 17), 0–7 of the 7 keyword clips (median 4),
 * other speech never (≤ 0.65), threshold 0.95 or 0.96; at 150 steps, 9 of 9 seeds detected it. So
 * detection is asserted for this run's seed (a real regression moves it) and the gap for every take.
 */
async function expectDetectsTheUser(model: DetectorModel): Promise<void> {
  const { keyword, other } = await testClips();
  const keywordResults = keyword.map((clip) => detect(model, clip));
  const keywordScores = keywordResults.map((r) => r.score);
  const otherResults = other.map((clip) => detect(model, clip));
  const otherScores = otherResults.map((r) => r.score);
  const scores = `keyword takes ${keywordScores.map((v) => v.toFixed(3))}, other speech ${otherScores.map((v) => v.toFixed(3))}, threshold ${model.header.threshold}`;
  expect(keywordResults[0].detected, `the held-out recording: ${scores}`).toBe(true);
  expect(
    otherResults.every((r) => !r.detected),
    scores,
  ).toBe(true);
  expect(Math.min(...keywordScores) - Math.max(...otherScores), scores).toBeGreaterThanOrEqual(SCORE_GAP);
}

describe('end to end: api + worker + detection', () => {
  it('through inject: the fine-tuned model detects a held-out recording of the voice and no other speech', async () => {
    const { model, result } = await personalizeThrough(injectClient(app));
    await expectFineTuned(model, result);
    await expectDetectsTheUser(model);
  });

  it('over a real socket', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { model, result } = await personalizeThrough(socketClient(`http://127.0.0.1:${port}`));
    await expectFineTuned(model, result);
    await expectDetectsTheUser(model);
  });
});
