/**
 * Hostile input, part 1 (issue #7): mutated WAV files thrown at the decoder and at the upload route.
 *
 * - In this process: KWS_FUZZ_CASES (default 12,000) cases through `decodeWav`, then `toMono16k` +
 *   `analyzeQuality` and the api's own `checkClip` (the path an upload takes). Every input decodes or throws
 *   `AudioFormatError` (the check: accepted or `KWS_ERR_BAD_AUDIO`); nothing else is ever thrown, no call
 *   runs past CALL_BOUND_MS (a hang, not a benchmark), the RSS stays bounded.
 * - Against a real api process over loopback: KWS_FUZZ_UPLOADS (default 10,000) of them as uploads (every
 *   fifth between two valid clips, so the batch's all-or-nothing rule is exercised): never a 5xx, always 201
 *   or a 4xx `{ error: { code, message } }`, nothing stored for a rejected request, the api's RSS bounded.
 * - KWS_FUZZ_FORMS (default 600) mutated multipart forms around a valid clip (media type and boundary, part
 *   headers, file names, framing), on raw sockets: the same rule.
 *
 * The run is seeded (KWS_FUZZ_SEED, default below, printed): fast-check names the failing case and its seed,
 * and `KWS_FUZZ_SEED=<seed> npm run test:faults -- hostile-fuzz` reproduces it.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AudioFormatError, analyzeQuality, decodeWav, toMono16k } from '@kws/audio';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkClip } from '../../apps/api/src/enrollment/quality.ts';
import { errors, KwsError } from '../../apps/api/src/errors.ts';
import { multipart } from '../../apps/api/test/helpers.ts';
import { type Cluster, type FormFile, killAll, scanStore, startCluster } from '../src/harness.ts';
import { processMemory } from '../src/hostile/memory.ts';
import { multipartMutations, mutateMultipart } from '../src/hostile/multipart-fuzz.ts';
import { rawExchange, requestHead } from '../src/hostile/raw-http.ts';
import { applyCase, fuzzCase, seedWavs } from '../src/hostile/wav-fuzz.ts';

const SEED = Number(process.env.KWS_FUZZ_SEED ?? 20_261_126);
const DECODE_CASES = Number(process.env.KWS_FUZZ_CASES ?? 12_000);
const UPLOAD_CASES = Number(process.env.KWS_FUZZ_UPLOADS ?? 10_000);
/** No single input may take this long: the files are ≤ 130 kB, so this only catches a hang or a blow-up. */
const CALL_BOUND_MS = 2_000;
/** RSS growth allowed over a whole run (the inputs are small; unbounded growth would blow far past this). */
const RSS_GROWTH_BOUND_MB = 300;
/** Upload lanes at once, one user each (so "nothing stored" can be checked per user between requests). */
const LANES = 4;
const MULTIPART_CASES = Number(process.env.KWS_FUZZ_FORMS ?? 600);

const seeds = seedWavs();

type Tally = Record<string, number>;
const count = (tally: Tally, key: string) => {
  tally[key] = (tally[key] ?? 0) + 1;
};

/**
 * What the upload path makes of `bytes`: `decode:<code>`, `mono16k:<code>`, `check:accepted` or
 * `check:<reason>`. Anything thrown that is not the documented error escapes, failing the property.
 */
function classify(bytes: Uint8Array): string {
  let decoded: ReturnType<typeof decodeWav>;
  try {
    decoded = decodeWav(bytes);
  } catch (err) {
    if (err instanceof AudioFormatError) return `decode:${err.code}`;
    throw err;
  }
  try {
    analyzeQuality(toMono16k(decoded));
  } catch (err) {
    if (err instanceof AudioFormatError) return `mono16k:${err.code}`;
    throw err;
  }
  try {
    checkClip('fuzz.wav', bytes);
    return 'check:accepted';
  } catch (err) {
    if (err instanceof KwsError && err.code === errors.BAD_AUDIO.code) {
      return `check:${/: (too short|too long|silent|clipped|no speech|not a usable)/.exec(err.message)?.[1] ?? 'other'}`;
    }
    throw err;
  }
}

describe(`WAV mutation fuzz (seed ${SEED})`, () => {
  it('the seeds are valid uploads', () => {
    for (const s of seeds) expect(classify(s.bytes), s.name).toBe('check:accepted');
  });

  it(`${DECODE_CASES} mutated files: decoded or AudioFormatError, bounded time and memory`, () => {
    const outcomes: Tally = {};
    const rssStart = process.memoryUsage().rss / 2 ** 20;
    let rssMax = rssStart;
    let maxMs = 0;
    let runs = 0;
    const started = performance.now();
    fc.assert(
      fc.property(fuzzCase(seeds.length), (c) => {
        const bytes = applyCase(c, seeds);
        const t0 = performance.now();
        const outcome = classify(bytes);
        const ms = performance.now() - t0;
        if (ms > CALL_BOUND_MS)
          throw new Error(`one input took ${ms.toFixed(0)} ms (bound ${CALL_BOUND_MS})`);
        maxMs = Math.max(maxMs, ms);
        count(outcomes, outcome);
        if (++runs % 250 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss / 2 ** 20);
      }),
      { seed: SEED, numRuns: DECODE_CASES },
    );
    const summary = {
      seed: SEED,
      cases: runs,
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      maxCallMs: Number(maxMs.toFixed(1)),
      rssStartMb: Math.round(rssStart),
      rssMaxMb: Math.round(rssMax),
      outcomes,
    };
    console.log(`hostile-fuzz decode ${JSON.stringify(summary)}`);
    expect(runs).toBe(DECODE_CASES);
    expect(rssMax - rssStart).toBeLessThan(RSS_GROWTH_BOUND_MB);
    // The mutations reach every layer: header checks, format checks and the quality checks behind them.
    expect(Object.keys(outcomes).filter((k) => k.startsWith('decode:')).length).toBeGreaterThanOrEqual(8);
    expect(outcomes['check:accepted']).toBeGreaterThan(0);
  });
});

describe(`WAV mutation fuzz through the upload route of a real api process (seed ${SEED + 1})`, () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ workers: 0, apiLogLevel: 'warn' });
  });
  afterAll(async () => {
    await cluster?.teardown();
    await killAll();
  });

  it(`${UPLOAD_CASES} mutated uploads: 201 or a 4xx JSON error, never a 5xx, nothing kept of a rejected batch`, async () => {
    const { client, api } = cluster;
    const cases = fc.sample(fuzzCase(seeds.length), { seed: SEED + 1, numRuns: UPLOAD_CASES });
    const statuses: Tally = {};
    const codes: Tally = {};
    const failures: string[] = [];
    const memStart = await processMemory(api.process.pid);
    let rssMax = memStart.rssMb;
    let maxMs = 0;
    let next = 0;
    const started = performance.now();

    const lane = async (laneNo: number) => {
      const { userId, token } = await client.createUser(`fuzz-lane-${laneNo}`);
      while (next < cases.length && failures.length < 10) {
        const i = next++;
        const mutated: FormFile = { name: `fuzz-${i}.wav`, bytes: applyCase(cases[i], seeds) };
        const valid = (k: number): FormFile => ({
          name: `valid-${i}-${k}.wav`,
          bytes: seeds[(i + k) % seeds.length].bytes,
        });
        const files = i % 5 === 0 ? [valid(1), mutated, valid(2)] : [mutated];
        const t0 = performance.now();
        const res = await client.uploadClips(userId, token, files);
        maxMs = Math.max(maxMs, performance.now() - t0);
        count(statuses, String(res.status));
        const code = res.errorCode();
        if (res.status === 201) {
          const { clips } = res.json<{ clips: { clipId: string }[] }>();
          if (clips.length !== files.length)
            failures.push(`case ${i}: 201 with ${clips.length} of ${files.length} clips`);
          for (const clip of clips) {
            const del = await client.request('DELETE', `/v1/users/${userId}/enrollments/${clip.clipId}`, {
              token,
            });
            if (del.status !== 204)
              failures.push(`case ${i}: deleting ${clip.clipId} answered ${del.status}`);
          }
        } else if (res.status >= 400 && res.status < 500 && code?.startsWith('KWS_ERR_')) {
          count(codes, code);
          const listed = await client.listClips(userId, token);
          const stored = listed.json<{ clips: unknown[] }>().clips.length;
          if (stored !== 0)
            failures.push(`case ${i}: rejected with ${res.status} but ${stored} clip(s) stored`);
        } else {
          failures.push(
            `case ${i} ${JSON.stringify(cases[i])}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`,
          );
        }
        if (i % 50 === 0) rssMax = Math.max(rssMax, (await processMemory(api.process.pid)).rssMb);
      }
    };
    await Promise.all(Array.from({ length: LANES }, (_, k) => lane(k)));
    const memEnd = await processMemory(api.process.pid);
    const summary = {
      seed: SEED + 1,
      uploads: next,
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      maxRequestMs: Math.round(maxMs),
      apiRssStartMb: Math.round(memStart.rssMb),
      apiRssMaxSampledMb: Math.round(Math.max(rssMax, memEnd.rssMb)),
      apiPeakRssMb: Math.round(memEnd.peakRssMb),
      statuses,
      codes,
    };
    console.log(`hostile-fuzz upload ${JSON.stringify(summary)}`);

    expect(failures).toEqual([]);
    expect(next).toBe(UPLOAD_CASES);
    expect(Object.keys(statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    expect(statuses['201']).toBeGreaterThan(0);
    expect(statuses['422']).toBeGreaterThan(0);
    expect(memEnd.peakRssMb - memStart.rssMb).toBeLessThan(RSS_GROWTH_BOUND_MB);
    // Nothing half-written anywhere, no error the api did not expect, and it still answers.
    expect((await scanStore(cluster.dataDir)).tempFiles).toEqual([]);
    expect(api.logs()).not.toMatch(/unhandled error/);
    expect((await client.request('GET', '/healthz')).status).toBe(200);
  });

  it(`${MULTIPART_CASES} mutated multipart forms (framing, part headers, file names): 201 or a 4xx JSON error`, async () => {
    const { client, api } = cluster;
    const { userId, token } = await client.createUser('fuzz-multipart');
    const valid = await multipart([{ name: 'c.wav', bytes: seeds[1].bytes }]);
    const cases = fc.sample(multipartMutations, { seed: SEED + 2, numRuns: MULTIPART_CASES });
    const statuses: Tally = {};
    const failures: string[] = [];
    const started = performance.now();
    let maxMs = 0;
    for (const [i, mutations] of cases.entries()) {
      const c = mutateMultipart(
        { body: valid.payload, contentType: valid.headers['content-type'] },
        mutations,
      );
      const head = requestHead('POST', `/v1/users/${userId}/enrollments`, [
        ['Host', 'kws'],
        ['Authorization', `Bearer ${token}`],
        ['Content-Type', c.contentType],
        ['Content-Length', c.contentLength],
        ['Connection', 'close'],
      ]);
      const res = await rawExchange(api.port, [head, c.body.subarray(0, c.contentLength)], {
        timeoutMs: 30_000,
      });
      maxMs = Math.max(maxMs, res.ms);
      count(statuses, String(res.status));
      let code: string | undefined;
      try {
        code = JSON.parse(res.body).error?.code;
      } catch {}
      const what = `case ${i} ${JSON.stringify(mutations).slice(0, 200)}: ${res.status} ${res.body.slice(0, 200)}`;
      if (res.status === 201) {
        // Whatever the file name said, the store names files by clip id only.
        const onDisk = await readdir(join(cluster.dataDir, 'users', userId, 'clips'));
        if (!onDisk.every((f) => /^[A-Za-z0-9_-]{1,64}\.wav$/.test(f)))
          failures.push(`${what} — files ${onDisk}`);
        for (const clip of JSON.parse(res.body).clips as { clipId: string }[]) {
          await client.request('DELETE', `/v1/users/${userId}/enrollments/${clip.clipId}`, { token });
        }
      } else if (res.status >= 400 && res.status < 500 && code?.startsWith('KWS_ERR_')) {
        const stored = (await client.listClips(userId, token)).json<{ clips: unknown[] }>().clips.length;
        if (stored !== 0) failures.push(`${what} — but ${stored} clip(s) stored`);
      } else {
        failures.push(what);
      }
      if (failures.length >= 10) break;
    }
    console.log(
      `hostile-fuzz multipart ${JSON.stringify({ seed: SEED + 2, cases: cases.length, seconds: Number(((performance.now() - started) / 1000).toFixed(1)), maxRequestMs: maxMs, statuses })}`,
    );
    expect(failures).toEqual([]);
    expect(api.logs()).not.toMatch(/unhandled error/);
  });
});
