import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav, encodeWav } from '@kws/audio';
import { afterAll, describe, expect, it } from 'vitest';
import { loudnessModel, scene } from '../../detect/testing.ts';
import { saveDetectorModel } from '../../model/model-file.ts';
import { loadDataset } from '../../train/dataset.ts';
import { runMain } from '../testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'kws-mine-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modelPath = join(dir, 'tone.kws');
writeFileSync(modelPath, saveDetectorModel(loudnessModel({ refractory_s: 1 })));
// A 60 s "stream" where the stand-in fires at three bursts.
const negatives = join(dir, 'neg');
mkdirSync(negatives);
const bursts: [number, number, number][] = [
  [10, 10.3, 0.3],
  [30, 30.4, 0.3],
  [50, 50.3, 0.3],
];
writeFileSync(join(negatives, 'stream.wav'), encodeWav(scene(60, bursts), 16_000));

const run = (args: string[]) => runMain(['mine', ...args]);

describe('kws mine', () => {
  it('writes one clip per place the detector fires, with context, as a dataset train-base reads', async () => {
    const out = join(dir, 'mined');
    const r = await run(['--model', modelPath, '--negatives', negatives, '--out', out]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/wrote 3 clips/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.clips).toHaveLength(3);
    const starts = manifest.clips
      .map((c: { sourceStartS: number }) => c.sourceStartS)
      .sort((a: number, b: number) => a - b);
    // Each clip holds its burst.
    for (const [k, at] of [10, 30, 50].entries()) {
      expect(starts[k]).toBeLessThan(at);
      expect(starts[k]).toBeGreaterThan(at - 2.5);
    }
    const first = decodeWav(readFileSync(join(out, manifest.clips[0].file)));
    expect(first.sampleRate).toBe(16_000);
    expect(first.samples.length / first.channels / 16_000).toBeCloseTo(manifest.clips[0].durationS, 3);
    const loaded = await loadDataset(out);
    expect(loaded.clips.every((c) => c.label === 0)).toBe(true);

    const capped = await run([
      '--model',
      modelPath,
      '--negatives',
      negatives,
      '--out',
      join(dir, 'capped'),
      '--max',
      '1',
    ]);
    expect(capped.stderr).toMatch(/wrote 1 clips/);
  });

  it('exits 2 for bad input', async () => {
    for (const args of [
      ['--model', modelPath, '--out', join(dir, 'x')],
      ['--model', modelPath, '--negatives', negatives],
      ['--model', modelPath, '--negatives', join(dir, 'none'), '--out', join(dir, 'y')],
      ['--model', modelPath, '--negatives', negatives, '--out', join(dir, 'z'), '--threshold', '1'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
