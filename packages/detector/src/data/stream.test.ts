import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav } from '@kws/audio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activePower } from './envelope.ts';
import { containsKeyword } from './phrases.ts';
import { STREAM_MANIFEST, STREAM_WAV } from './stream.ts';
import { generateDataset } from './synth.ts';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kws-stream-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('negative stream', () => {
  it('writes exactly the asked length of keyword-free speech over noise, with its segments listed', async () => {
    const out = join(root, 'stream');
    const manifest = await generateDataset({ outDir: out, count: 0, streamS: 41.5, seed: 3 });
    const stream = manifest.stream;
    if (stream === null) throw new Error('no stream manifest');
    expect(JSON.parse(await readFile(join(out, 'stream', STREAM_MANIFEST), 'utf8'))).toEqual(stream);
    const audio = decodeWav(new Uint8Array(await readFile(join(out, 'stream', STREAM_WAV))));
    expect(audio.sampleRate).toBe(16_000);
    expect(audio.samples.length).toBe(41.5 * 16_000);
    expect(stream.durationS).toBe(41.5);
    expect(stream.noise.length).toBe(2); // a 30 s block and an 11.5 s one

    let previousEnd = 0;
    for (const s of stream.segments) {
      expect(s.startS).toBeGreaterThanOrEqual(previousEnd + 0.3); // pauses of ≥ 0.3 s
      expect(s.endS).toBeGreaterThan(s.startS);
      expect(s.endS).toBeLessThanOrEqual(41.5);
      expect(containsKeyword(s.text, 'hey nova')).toBe(false);
      previousEnd = s.endS;
    }
    expect(stream.speechS).toBeGreaterThan(0.3 * 41.5);
    // Levelled with headroom: nothing reaches full scale (16-bit clipping would be a false cue).
    let peak = 0;
    for (const v of audio.samples) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeLessThan(0.85); // speech peaks ≤ 0.7, noise ≤ −31 dBFS RMS on top
    // Speech sits where the list says: a listed segment is louder than the pause before it.
    const seg = stream.segments[2];
    const at = (t: number): number => Math.round(t * 16_000);
    const speech = activePower(audio.samples.subarray(at(seg.startS), at(seg.endS)));
    const pause = activePower(audio.samples.subarray(at(seg.startS - 0.25), at(seg.startS - 0.05)));
    expect(speech).toBeGreaterThan(pause);
  });

  it('is the same file for the same seed whatever the parallelism', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    await generateDataset({ outDir: a, count: 0, streamS: 12, seed: 8, jobs: 2 });
    await generateDataset({ outDir: b, count: 0, streamS: 12, seed: 8, jobs: 1 });
    for (const file of [STREAM_WAV, STREAM_MANIFEST]) {
      expect((await readFile(join(b, 'stream', file))).equals(await readFile(join(a, 'stream', file)))).toBe(
        true,
      );
    }
  });
});
