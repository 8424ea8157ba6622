import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeQuality, decodeWav } from '@kws/audio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planNegative, planPositive, renderClip, speechRequests } from './clip.ts';
import { activeRegion } from './envelope.ts';
import { synthesize } from './espeak.ts';
import { containsKeyword } from './phrases.ts';
import { createRng } from './random.ts';
import {
  DatasetExistsError,
  type DatasetManifest,
  generateDataset,
  writeDirectoryAtomically,
} from './synth.ts';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kws-synth-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readManifest(dir: string): Promise<DatasetManifest> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as DatasetManifest;
}

describe('generateDataset', () => {
  it('writes N positives and N negatives as 16 kHz mono WAV with a manifest that matches them', async () => {
    const out = join(root, 'small');
    const progress: number[] = [];
    const manifest = await generateDataset({
      outDir: out,
      count: 4,
      seed: 11,
      onProgress: (p) => progress.push(p.done),
    });
    expect(await readManifest(out)).toEqual(manifest);
    expect(manifest.clips.length).toBe(8);
    expect(progress.at(-1)).toBe(8);
    expect((await readdir(join(out, 'positive'))).length).toBe(4);
    expect((await readdir(join(out, 'negative'))).length).toBe(4);
    for (const clip of manifest.clips) {
      const decoded = decodeWav(new Uint8Array(await readFile(join(out, clip.file))));
      expect(decoded.sampleRate).toBe(16_000);
      expect(decoded.channels).toBe(1);
      expect(decoded.samples.length / 16_000).toBeCloseTo(clip.durationS, 3);
      if (clip.label === 1) {
        expect(clip.text).toBe('hey nova');
        expect(clip.keywordStartS).toBeGreaterThan(0);
        expect(clip.keywordEndS).toBeGreaterThan((clip.keywordStartS ?? 0) + 0.2);
        expect(clip.keywordEndS).toBeLessThan(clip.durationS);
      } else {
        expect(clip.keywordEndS).toBeNull();
        expect(containsKeyword(clip.text, 'hey nova')).toBe(false);
      }
    }
    // Nothing but the dataset is left next to it.
    expect(await readdir(root)).toEqual(['small']);
  });

  it('is deterministic: the same seed gives identical bytes, another seed does not', async () => {
    const a = join(root, 'det-a');
    const b = join(root, 'det-b');
    const c = join(root, 'det-c');
    await generateDataset({ outDir: a, count: 3, seed: 'same', jobs: 2 });
    await generateDataset({ outDir: b, count: 3, seed: 'same', jobs: 1 });
    await generateDataset({ outDir: c, count: 3, seed: 'other' });
    const files = ['manifest.json', ...(await readManifest(a)).clips.map((clip) => clip.file)];
    for (const file of files) {
      expect((await readFile(join(b, file))).equals(await readFile(join(a, file))), file).toBe(true);
    }
    expect((await readFile(join(c, 'manifest.json'))).equals(await readFile(join(a, 'manifest.json')))).toBe(
      false,
    );
  });

  it('synthesizes with the npm (wasm) build when told to', async () => {
    const out = join(root, 'wasm');
    const manifest = await generateDataset({
      outDir: out,
      count: 2,
      seed: 5,
      engine: 'wasm',
      voices: 'heldout',
    });
    expect(manifest.engine).toBe('wasm');
    for (const clip of manifest.clips) {
      const samples = decodeWav(new Uint8Array(await readFile(join(out, clip.file)))).samples;
      if (clip.voice !== null) expect(analyzeQuality(samples).speechS, clip.file).toBeGreaterThan(0.2);
    }
  });

  it('refuses a non-empty output directory and leaves it alone', async () => {
    const out = join(root, 'taken');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    await expect(generateDataset({ outDir: out, count: 1 })).rejects.toBeInstanceOf(DatasetExistsError);
    expect(await readdir(out)).toEqual(['keep.txt']);
  });

  it('rejects bad options with the value received', async () => {
    await expect(generateDataset({ outDir: join(root, 'x'), count: -1 })).rejects.toThrow(
      /count must be an integer 0–1000000 clips per class, got -1/,
    );
    await expect(generateDataset({ outDir: join(root, 'x'), count: 0 })).rejects.toThrow(
      /nothing to generate/,
    );
    await expect(generateDataset({ outDir: join(root, 'x'), count: 1, keyword: '!!' })).rejects.toThrow(
      /keyword must be/,
    );
    expect(existsSync(join(root, 'x'))).toBe(false);
  });
});

describe('writeDirectoryAtomically', () => {
  it('leaves neither the target nor a temporary directory when filling fails', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'kws-atomic-'));
    try {
      const target = join(parent, 'data');
      const failure = writeDirectoryAtomically(target, async (tmp) => {
        await writeFile(join(tmp, 'half.wav'), 'partial');
        throw new Error('synthesis died');
      });
      await expect(failure).rejects.toThrow('synthesis died');
      expect(await readdir(parent)).toEqual([]);
      await writeDirectoryAtomically(target, async (tmp) => writeFile(join(tmp, 'ok'), 'done'));
      expect(await readdir(target)).toEqual(['ok']);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe('keyword end marking', () => {
  it('lands where the keyword’s speech ends in the rendered clip, through speed and shift', async () => {
    for (const [seed, speedFactor, shiftS] of [
      [1, 1, 0],
      [2, 1.1, 0.05],
      [3, 0.9, -0.08],
    ] as const) {
      const plan = planPositive(createRng(seed), 'hey nova', 'en-gb+m3');
      plan.followText = null;
      plan.augmentation = { speedFactor, shiftS, gainDb: 0, reverb: null, noise: null };
      const speech = await Promise.all(
        speechRequests(plan).map((t) => synthesize(t, 'en-gb+m3', { speed: plan.speedWpm ?? 175 })),
      );
      const clip = renderClip(plan, speech, createRng(seed), []);
      const region = activeRegion(clip.samples);
      if (region === null || clip.keywordEndS === null || clip.keywordStartS === null)
        throw new Error('no keyword');
      // Clean clip: its active region is the keyword, so start and end must agree to within a 10 ms frame
      // (plus the resampler's few-sample smear when the speed changed).
      expect(Math.abs(region.end / 16_000 - clip.keywordEndS)).toBeLessThanOrEqual(0.011);
      expect(Math.abs(region.start / 16_000 - clip.keywordStartS)).toBeLessThanOrEqual(0.011);
    }
  });

  it('marks the keyword, not the command after it', async () => {
    const plan = planPositive(createRng(4), 'hey nova', 'en-us+f2');
    plan.followText = 'what time is it';
    plan.gapS = 0.2;
    plan.augmentation = { speedFactor: 1, shiftS: 0, gainDb: 0, reverb: null, noise: null };
    const speech = await Promise.all(speechRequests(plan).map((t) => synthesize(t, 'en-us+f2')));
    const clip = renderClip(plan, speech, createRng(4), []);
    const end = Math.round((clip.keywordEndS ?? 0) * 16_000);
    const gap = clip.samples.subarray(end, end + 0.2 * 16_000 - 160);
    expect(gap.every((v) => v === 0)).toBe(true); // silence right after the mark …
    const region = activeRegion(clip.samples);
    expect((region?.end ?? 0) / 16_000).toBeGreaterThan((clip.keywordEndS ?? 0) + 0.5); // … then the command
  });

  it('marks the keyword, not the speech before it (the wide profile)', async () => {
    const plan = planPositive(createRng(5), 'hey nova', 'en-us+m3', 'wide');
    plan.followText = null;
    plan.precedeText = 'good morning';
    plan.precedeGapS = 0.3;
    plan.augmentation = { speedFactor: 1, shiftS: 0, gainDb: 0, reverb: null, noise: null };
    expect(speechRequests(plan)).toEqual(['hey nova', 'good morning']);
    const speech = await Promise.all(speechRequests(plan).map((t) => synthesize(t, 'en-us+m3')));
    const clip = renderClip(plan, speech, createRng(5), []);
    const start = Math.round((clip.keywordStartS ?? 0) * 16_000);
    // Silence right before the keyword's mark, speech before that silence.
    expect(clip.samples.subarray(start - 0.3 * 16_000 + 160, start).every((v) => v === 0)).toBe(true);
    const region = activeRegion(clip.samples);
    expect((region?.start ?? 0) / 16_000).toBeLessThan((clip.keywordStartS ?? 0) - 0.5);
    expect(Math.abs((region?.end ?? 0) / 16_000 - (clip.keywordEndS ?? 0))).toBeLessThanOrEqual(0.011);
  });
});

describe('data profiles', () => {
  it('leave the standard plans as they were and widen the wide ones', () => {
    const standard = Array.from({ length: 200 }, (_, i) => planPositive(createRng(i), 'hey nova', 'en-us'));
    expect(standard.every((p) => p.precedeText === null && p.precedeGapS === 0)).toBe(true);
    expect(Math.max(...standard.map((p) => p.speedWpm ?? 0))).toBeLessThanOrEqual(210);
    const wide = Array.from({ length: 200 }, (_, i) =>
      planPositive(createRng(i), 'hey nova', 'en-us', 'wide'),
    );
    const preceded = wide.filter((p) => p.precedeText !== null).length;
    expect(preceded).toBeGreaterThan(40);
    expect(preceded).toBeLessThan(100);
    expect(wide.every((p) => p.precedeText === null || !containsKeyword(p.precedeText, 'hey nova'))).toBe(
      true,
    );
    expect(Math.max(...wide.map((p) => p.speedWpm ?? 0))).toBeGreaterThan(210);
    const confusables = Array.from({ length: 300 }, (_, i) =>
      planNegative(createRng(i), 'hey nova', 'en-us', 'confusable', 'wide'),
    );
    expect(confusables.some((p) => p.followText !== null)).toBe(true);
    expect(confusables.every((p) => !containsKeyword(p.text, 'hey nova'))).toBe(true);
  });
});
