import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeWav } from '@kws/audio';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_DURATION_S, MIN_DURATION_S } from '../src/enrollment/quality.ts';
import { errors } from '../src/errors.ts';
import { MAX_CLIP_BYTES, MAX_UPLOAD_BYTES } from '../src/routes/enrollments.ts';
import { clippedWav, pcm16, rawWav, silenceWav, speechWav } from './audio.ts';
import {
  bearer,
  createUser,
  errorOf,
  type FormFile,
  fixture,
  multipart,
  startTestApp,
  type TestApp,
  upload,
} from './helpers.ts';

let t: TestApp;
let token: string;
const USER = 'enroller';

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.cleanup();
});
beforeEach(async () => {
  // A fresh user per test: delete and re-create.
  await t.app.inject({ method: 'DELETE', url: `/v1/users/${USER}`, headers: t.admin });
  ({ token } = await createUser(t, USER));
});

async function storedClips(): Promise<unknown[]> {
  const res = await t.app.inject({
    method: 'GET',
    url: `/v1/users/${USER}/enrollments`,
    headers: bearer(token),
  });
  return res.json().clips;
}

/** Nothing of a rejected request is left: no listed clip, no clip file, no temp file. */
async function expectNothingStored(): Promise<void> {
  expect(await storedClips()).toEqual([]);
  expect(await readdir(join(t.config.dataDir, 'users', USER, 'clips'))).toEqual([]);
  expect(await readdir(join(t.config.dataDir, 'tmp'))).toEqual([]);
}

describe('good uploads', () => {
  it('stores real speech (espeak-ng, 22.05 kHz) and synthetic speech-like clips as 16 kHz mono', async () => {
    const files: FormFile[] = [
      { name: 'hey-nova.wav', bytes: await fixture('hey-nova.wav') },
      { name: 'hey-nova-m3.wav', bytes: await fixture('hey-nova-m3.wav') },
      { name: 'synthetic.wav', bytes: speechWav(1.2) },
      {
        name: 'stereo-48k.wav',
        bytes: rawWav({ sampleRate: 48_000, channels: 2, data: pcm16(1, 48_000, 2) }),
      },
    ];
    const res = await upload(t, USER, token, files);
    expect(res.statusCode, res.body).toBe(201);
    const { clips } = res.json();
    expect(clips).toHaveLength(4);
    expect(clips[0].durationS).toBeCloseTo(0.912, 2);
    expect(clips[3].durationS).toBeCloseTo(1, 2);
    for (const clip of clips) {
      expect(clip.clipId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      expect(clip.quality.speechS).toBeGreaterThan(0);
      expect(clip.quality.peakDb).toBeLessThanOrEqual(0);
    }
    expect(await storedClips()).toHaveLength(4);
    const stored = await readdir(join(t.config.dataDir, 'users', USER, 'clips'));
    expect(stored.sort()).toEqual(clips.map((c: { clipId: string }) => `${c.clipId}.wav`).sort());
    // What is stored is 16 kHz mono, whatever came in.
    const decoded = decodeWav(await readFile(join(t.config.dataDir, 'users', USER, 'clips', stored[0])));
    expect([decoded.sampleRate, decoded.channels]).toEqual([16_000, 1]);
  });

  it(`accepts up to 20 clips over several uploads, then 409 and nothing of that batch`, async () => {
    const batch = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `c${i}.wav`, bytes: speechWav(0.6) }));
    expect((await upload(t, USER, token, batch(10))).statusCode).toBe(201);
    expect((await upload(t, USER, token, batch(8))).statusCode).toBe(201);
    const over = await upload(t, USER, token, batch(3));
    expect([over.statusCode, errorOf(over).code]).toEqual([409, errors.TOO_MANY_CLIPS.code]);
    expect(errorOf(over).message).toBe(`user ${USER} has 18 clip(s); adding 3 would exceed the limit of 20`);
    expect(await storedClips()).toHaveLength(18);
    expect((await upload(t, USER, token, batch(2))).statusCode).toBe(201);
    expect(await storedClips()).toHaveLength(20);
  });

  it('concurrent uploads never pass 20 clips', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        upload(
          t,
          USER,
          token,
          Array.from({ length: 3 }, (_, i) => ({ name: `c${i}.wav`, bytes: speechWav(0.5, { seed: i }) })),
        ),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, 201, 201, 201, 201, 201, 409, 409]);
    expect(await storedClips()).toHaveLength(18);
  });

  it('lists and deletes clips', async () => {
    const res = await upload(t, USER, token, [{ name: 'a.wav', bytes: speechWav(0.8) }]);
    const [{ clipId }] = res.json().clips;
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/users/${USER}/enrollments/${clipId}`,
      headers: bearer(token),
    });
    expect(del.statusCode).toBe(204);
    await expectNothingStored();
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/users/${USER}/enrollments/${clipId}`,
      headers: bearer(token),
    });
    expect([again.statusCode, errorOf(again).code]).toEqual([404, errors.CLIP_NOT_FOUND.code]);
  });
});

interface BadCase {
  name: string;
  request: () => Promise<InjectOptions>;
  status: number;
  code: string;
  /** A part of the message the client must see (e.g. the file name and the reason). */
  message?: RegExp;
}

const url = `/v1/users/${USER}/enrollments`;
const files = (list: FormFile[]) => async (): Promise<InjectOptions> => {
  const body = await multipart(list);
  return { method: 'POST', url, headers: { ...bearer(token), ...body.headers }, payload: body.payload };
};
const good = () => ({ name: 'good.wav', bytes: speechWav(1) });

const badCases: BadCase[] = [
  {
    name: 'not a WAV at all',
    request: files([{ name: 'notes.txt', bytes: new TextEncoder().encode('hello, this is text') }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: /^file "notes\.txt": not a usable WAV file/,
  },
  {
    name: 'a truncated WAV header',
    request: files([{ name: 'cut.wav', bytes: speechWav(1).slice(0, 30) }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: /"cut\.wav"/,
  },
  {
    name: 'a data chunk that claims more bytes than the file has',
    request: files([
      { name: 'liar.wav', bytes: rawWav({ data: pcm16(0.5, 16_000, 1), dataSize: 1_000_000 }) },
    ]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: /"liar\.wav"/,
  },
  {
    name: 'wrong RIFF magic',
    request: files([{ name: 'magic.wav', bytes: rawWav({ data: pcm16(0.5, 16_000, 1), magic: 'RIFX' }) }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
  },
  {
    name: 'an unsupported codec (MPEG layer 3 tag)',
    request: files([{ name: 'mp3.wav', bytes: rawWav({ formatTag: 0x55, data: pcm16(0.5, 16_000, 1) }) }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
  },
  {
    name: 'a 0 s WAV',
    request: files([{ name: 'empty.wav', bytes: rawWav({ data: new Uint8Array(0) }) }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: /"empty\.wav"/,
  },
  {
    name: 'a 0.1 s clip',
    request: files([{ name: 'short.wav', bytes: speechWav(0.1) }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: new RegExp(`"short\\.wav": too short: 0\\.10 s, expected at least ${MIN_DURATION_S} s`),
  },
  {
    name: 'a 30 s clip',
    request: files([{ name: 'long.wav', bytes: speechWav(30) }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: new RegExp(`"long\\.wav": too long: 30\\.00 s, expected at most ${MAX_DURATION_S} s`),
  },
  {
    name: 'a silent clip',
    request: files([{ name: 'silence.wav', bytes: silenceWav(1) }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: /"silence\.wav": silent/,
  },
  {
    name: 'a clipped clip',
    request: files([{ name: 'loud.wav', bytes: clippedWav(1) }]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: /"loud\.wav": clipped/,
  },
  {
    name: 'a good batch with one bad file (the batch is atomic)',
    request: files([good(), good(), { name: 'bad.wav', bytes: silenceWav(1) }, good()]),
    status: 422,
    code: errors.BAD_AUDIO.code,
    message: /"bad\.wav"/,
  },
  {
    name: 'a 6 MB file',
    request: files([{ name: 'huge.wav', bytes: rawWav({ data: new Uint8Array(6 * 1024 * 1024) }) }]),
    status: 413,
    code: errors.PAYLOAD_TOO_LARGE.code,
    message: /"huge\.wav" is over the 5 MB per-file cap/,
  },
  {
    name: '11 files',
    request: files(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.wav`, bytes: speechWav(0.5) }))),
    status: 413,
    code: errors.PAYLOAD_TOO_LARGE.code,
    message: /more files than allowed/,
  },
  {
    name: 'a file in a wrong field name',
    request: files([{ field: 'clip', name: 'a.wav', bytes: speechWav(1) }]),
    status: 400,
    code: errors.BAD_FORM.code,
    message: /file in field "clip"; WAV files go in field "clips"/,
  },
  {
    name: 'a text field next to the files',
    request: async () => {
      const body = await multipart([good()], { note: 'hi' });
      return { method: 'POST', url, headers: { ...bearer(token), ...body.headers }, payload: body.payload };
    },
    status: 400,
    code: errors.BAD_FORM.code,
    message: /unexpected form field "note"/,
  },
  {
    name: 'a form without files',
    request: async () => {
      const body = await multipart([]);
      return { method: 'POST', url, headers: { ...bearer(token), ...body.headers }, payload: body.payload };
    },
    status: 400,
    code: errors.BAD_FORM.code,
    message: /no files in field "clips"/,
  },
  {
    name: 'a body without Content-Type',
    request: async () => ({
      method: 'POST',
      url,
      headers: bearer(token),
      payload: Buffer.from(speechWav(1)),
    }),
    status: 415,
    code: errors.UNSUPPORTED_MEDIA_TYPE.code,
  },
  {
    name: 'no body and no Content-Type',
    request: async () => ({ method: 'POST', url, headers: bearer(token) }),
    status: 415,
    code: errors.UNSUPPORTED_MEDIA_TYPE.code,
    message: /expected multipart\/form-data/,
  },
  {
    name: 'JSON where multipart is expected',
    request: async () => ({ method: 'POST', url, headers: bearer(token), payload: { clips: ['a.wav'] } }),
    status: 415,
    code: errors.UNSUPPORTED_MEDIA_TYPE.code,
    message: /received "application\/json/,
  },
  {
    name: 'a raw WAV body (audio/wav)',
    request: async () => ({
      method: 'POST',
      url,
      headers: { ...bearer(token), 'content-type': 'audio/wav' },
      payload: Buffer.from(speechWav(1)),
    }),
    status: 415,
    code: errors.UNSUPPORTED_MEDIA_TYPE.code,
  },
  {
    name: 'multipart without a boundary',
    request: async () => ({
      method: 'POST',
      url,
      headers: { ...bearer(token), 'content-type': 'multipart/form-data' },
      payload: Buffer.from('--x\r\n\r\n'),
    }),
    status: 400,
    code: errors.BAD_FORM.code,
  },
  {
    name: 'a multipart body cut off in the middle of a file',
    request: async () => {
      const body = await multipart([good()]);
      return {
        method: 'POST',
        url,
        headers: { ...bearer(token), ...body.headers },
        payload: body.payload.subarray(0, body.payload.length - 200),
      };
    },
    status: 400,
    code: errors.BAD_FORM.code,
  },
  {
    name: 'a declared Content-Length over the request cap',
    request: async () => {
      const body = await multipart([good()]);
      return {
        method: 'POST',
        url,
        headers: { ...bearer(token), ...body.headers, 'content-length': String(MAX_UPLOAD_BYTES + 1) },
        payload: body.payload,
      };
    },
    status: 413,
    code: errors.PAYLOAD_TOO_LARGE.code,
  },
  {
    name: 'a path-traversal user id (..%2F..) with a user token',
    request: async () => {
      const body = await multipart([good()]);
      return {
        method: 'POST',
        url: '/v1/users/..%2F..%2Fenroller/enrollments',
        headers: { ...bearer(token), ...body.headers },
        payload: body.payload,
      };
    },
    status: 403,
    code: errors.FORBIDDEN.code,
  },
];

describe('bad uploads: the right 4xx, a JSON error, nothing stored', () => {
  it.each(badCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await t.app.inject(await c.request());
    const error = errorOf(res);
    expect([res.statusCode, error.code], error.message).toEqual([c.status, c.code]);
    if (c.message) expect(error.message).toMatch(c.message);
    await expectNothingStored();
  });

  it('path-traversal and unicode ids with the admin key are 400, and nothing is written outside', async () => {
    const cases: [string, number, string][] = [
      ['..%2F..%2Fenroller', 400, errors.VALIDATION.code],
      ['%C3%A9t%C3%A9', 400, errors.VALIDATION.code],
      ['%00', 400, errors.VALIDATION.code],
      ['x'.repeat(65), 400, errors.VALIDATION.code],
      // Dot segments are resolved before routing: /v1/users/../enrollments is no route at all.
      ['%2E%2E', 404, errors.NOT_FOUND.code],
    ];
    for (const [id, status, code] of cases) {
      const body = await multipart([good()]);
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/users/${id}/enrollments`,
        headers: { ...t.admin, ...body.headers },
        payload: body.payload,
      });
      expect([res.statusCode, errorOf(res).code], id).toEqual([status, code]);
    }
    expect((await readdir(t.config.dataDir)).sort()).toEqual(['tmp', 'trash', 'users']);
    expect(await readdir(join(t.config.dataDir, 'users'))).toEqual([USER]);
    await expectNothingStored();
  });

  it('the per-file cap is the documented 5 MB', () => {
    expect(MAX_CLIP_BYTES).toBe(5 * 1024 * 1024);
  });
});
