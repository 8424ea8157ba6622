import { createHash } from 'node:crypto';
import { Store } from '@kws/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errors } from '../src/errors.ts';
import { etagMatches } from '../src/routes/models.ts';
import { bearer, createUser, errorOf, startTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
let token: string;
/** The store the worker will write through; the test plays that part with the store API. */
let store: Store;
const USER = 'downloader';

beforeEach(async () => {
  t = await startTestApp();
  ({ token } = await createUser(t, USER));
  store = await Store.open(t.config.dataDir);
});
afterEach(async () => {
  await t.cleanup();
});

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const get = (url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } });

describe('model download', () => {
  it('is 404 before the first model', async () => {
    const res = await get(`/v1/users/${USER}/model`);
    expect([res.statusCode, errorOf(res).code]).toEqual([404, errors.MODEL_NOT_FOUND.code]);
    const admin = await t.app.inject({ method: 'GET', url: '/v1/users/ghost/model', headers: t.admin });
    expect([admin.statusCode, errorOf(admin).code]).toEqual([404, errors.USER_NOT_FOUND.code]);
  });

  it('serves the current version with ETag = SHA-256; If-None-Match answers 304 until it changes', async () => {
    const v1 = new Uint8Array(10_000).map((_, i) => i % 251);
    await store.putModelVersion(USER, 'v1', { 'model.kws': v1 });
    expect((await get(`/v1/users/${USER}/model`)).statusCode).toBe(404); // not current yet
    await store.setCurrentModel(USER, 'v1');

    const res = await get(`/v1/users/${USER}/model`);
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe(`"${sha256(v1)}"`);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-length']).toBe('10000');
    expect(res.headers['x-kws-model-version']).toBe('v1');
    expect(new Uint8Array(res.rawPayload)).toEqual(v1);

    for (const inm of [
      res.headers.etag as string,
      `W/${res.headers.etag}`,
      `"x", ${res.headers.etag}`,
      '*',
    ]) {
      const again = await get(`/v1/users/${USER}/model`, { 'if-none-match': inm });
      expect([again.statusCode, again.body, again.headers.etag], inm).toEqual([304, '', res.headers.etag]);
    }

    const v2 = new Uint8Array([1, 2, 3, 4]);
    await store.putModelVersion(USER, 'v2', { 'model.kws': v2 });
    await store.setCurrentModel(USER, 'v2');
    const changed = await get(`/v1/users/${USER}/model`, { 'if-none-match': res.headers.etag as string });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).toBe(`"${sha256(v2)}"`);
    expect(new Uint8Array(changed.rawPayload)).toEqual(v2);
  });

  it('tfjs: 404 while the model has no export, the files once it has; ?format=tfjs redirects (308)', async () => {
    await store.putModelVersion(USER, 'v1', { 'model.kws': new Uint8Array([1]) });
    await store.setCurrentModel(USER, 'v1');
    for (const file of ['model.json', 'weights.bin']) {
      const res = await get(`/v1/users/${USER}/model/tfjs/${file}`);
      expect([res.statusCode, errorOf(res).code]).toEqual([404, errors.MODEL_FORMAT_UNAVAILABLE.code]);
      expect(errorOf(res).message).toMatch(/no tfjs export/);
    }
    const modelJson = new TextEncoder().encode(
      JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }),
    );
    const weights = new Uint8Array(64).fill(3);
    await store.putModelVersion(USER, 'v2', {
      'model.kws': new Uint8Array([2]),
      'model.json': modelJson,
      'weights.bin': weights,
    });
    await store.setCurrentModel(USER, 'v2');
    const json = await get(`/v1/users/${USER}/model/tfjs/model.json`);
    expect([json.statusCode, json.headers['content-type']]).toEqual([200, 'application/json']);
    expect(json.json().weightsManifest[0].paths).toEqual(['weights.bin']);
    const bin = await get(`/v1/users/${USER}/model/tfjs/weights.bin`);
    expect(new Uint8Array(bin.rawPayload)).toEqual(weights);
    const redirect = await get(`/v1/users/${USER}/model?format=tfjs`);
    expect([redirect.statusCode, redirect.headers.location]).toEqual([
      308,
      `/v1/users/${USER}/model/tfjs/model.json`,
    ]);
    const bad = await get(`/v1/users/${USER}/model?format=onnx`);
    expect([bad.statusCode, errorOf(bad).code]).toEqual([400, errors.VALIDATION.code]);
  });

  it('deleting the user removes its models: the download is gone', async () => {
    await store.putModelVersion(USER, 'v1', { 'model.kws': new Uint8Array([1]) });
    await store.setCurrentModel(USER, 'v1');
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/users/${USER}`, headers: t.admin })).statusCode,
    ).toBe(204);
    const res = await t.app.inject({ method: 'GET', url: `/v1/users/${USER}/model`, headers: t.admin });
    expect([res.statusCode, errorOf(res).code]).toEqual([404, errors.USER_NOT_FOUND.code]);
  });
});

describe('If-None-Match parsing', () => {
  it('matches *, exact and weak tags in a list, nothing else', () => {
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"a"', '"a"')).toBe(true);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"b" , "a"', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches('a', '"a"')).toBe(false);
    expect(etagMatches(undefined, '"a"')).toBe(false);
  });
});
