import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '@kws/audio';
import { afterAll, describe, expect, it } from 'vitest';
import { loudnessModel, scene } from '../../detect/testing.ts';
import { loadDetectorModel, saveDetectorModel } from '../../model/model-file.ts';
import { runMain } from '../testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'kws-eval-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modelPath = join(dir, 'tone.kws');
writeFileSync(modelPath, saveDetectorModel(loudnessModel({ refractory_s: 1 })));
// "Keyword" clips are loud bursts; two of the five are silent, so the stand-in misses exactly those.
const positives = join(dir, 'pos');
mkdirSync(positives);
for (let i = 0; i < 5; i++) {
  const bursts: [number, number, number][] = i < 3 ? [[0.6, 0.9, 0.3]] : [];
  writeFileSync(join(positives, `p${i}.wav`), encodeWav(scene(1.6, bursts), 16_000));
}
// Negatives: a 90 s "stream" (longer than one 10 s read piece) with 3 separate bursts, and a quiet clip in a
// subdirectory: 3 false accepts in 92 s of audio.
const negatives = join(dir, 'neg');
mkdirSync(join(negatives, 'more'), { recursive: true });
writeFileSync(
  join(negatives, 'stream.wav'),
  encodeWav(
    scene(90, [
      [12.0, 12.3, 0.3],
      [40.0, 40.2, 0.3],
      [75.5, 75.8, 0.3],
    ]),
    16_000,
  ),
);
writeFileSync(join(negatives, 'more', 'quiet.wav'), encodeWav(scene(2, []), 16_000));

const run = (args: string[]) => runMain(['eval', ...args]);

describe('kws eval', () => {
  it('reports FRR on positives, FA/h on negatives read in pieces, the DET curve as JSON and as SVG', async () => {
    const plot = join(dir, 'det.svg');
    const { code, stdout } = await run([
      '--model',
      modelPath,
      '--positives',
      positives,
      '--negatives',
      negatives,
      '--plot',
      plot,
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.positives).toBe(5);
    expect(report.frr).toBeCloseTo(2 / 5, 10);
    expect(report.negative_files).toBe(2);
    expect(report.negative_hours * 3600).toBeCloseTo(92, 3);
    expect(report.fa_per_hour).toBeCloseTo((3 * 3600) / 92, 6);
    expect(report.det.length).toBe(99);
    // The stand-in's posteriors are ≈ 0.01 or ≈ 0.99: every threshold in between sees the same errors.
    const mid = report.det.find((p: { threshold: number }) => p.threshold === 0.5);
    expect(mid.frr).toBeCloseTo(0.4, 10);
    expect(report.at_fa_budget).toBeNull();
    expect(readFileSync(plot, 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  });

  it('prints a readable summary without --json', async () => {
    const { code, stdout } = await run([
      '--model',
      modelPath,
      '--positives',
      positives,
      '--negatives',
      negatives,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /FRR 40\.0% on 5 positives, 117\.39 FA\/h on 0\.03 h of negatives \(2 file\(s\)\)/,
    );
  });

  it('--calibrate stores the threshold the DET curve gives for the FA target; --record-metrics the result', async () => {
    const calibrated = join(dir, 'calibrated.kws');
    const recorded = join(dir, 'recorded.kws');
    const args = ['--model', modelPath, '--positives', positives, '--negatives', negatives, '--json'];
    const first = await run([...args, '--calibrate', calibrated, '--fa-target', '120']);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    // 117 FA/h is within the target from the lowest threshold on: the lowest grid threshold is chosen.
    expect(report.threshold).toBe(0.01);
    expect(loadDetectorModel(readFileSync(calibrated)).header.threshold).toBe(0.01);
    // No threshold has fewer than 3 false accepts: the lowest one with the fewest is chosen, never 0.99 blindly.
    const strict = await run([...args, '--calibrate', calibrated, '--fa-target', '0']);
    expect(JSON.parse(strict.stdout).threshold).toBe(0.01);

    const second = await run([...args, '--model', calibrated, '--record-metrics', recorded]);
    expect(second.code).toBe(0);
    const { metrics } = loadDetectorModel(readFileSync(recorded)).header;
    expect(metrics).toMatchObject({ frr: 0.4, fa_per_hour: 117.391 });
    expect((metrics as { eval: Record<string, unknown> }).eval).toMatchObject({ positives: 5 });
    const both = await run([...args, '--calibrate', calibrated, '--threshold', '0.5']);
    expect(both.code).toBe(2);
  });

  it('exits 2 naming the problem for bad input', async () => {
    mkdirSync(join(dir, 'empty'));
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'b.wav'), encodeWav(scene(1, []), 16_000).slice(0, 500));
    const cases: [string[], RegExp][] = [
      [['--model', modelPath, '--negatives', negatives], /--positives DIR is required/],
      [
        ['--model', modelPath, '--positives', join(dir, 'nope'), '--negatives', negatives],
        /nope: no such directory/,
      ],
      [
        ['--model', modelPath, '--positives', join(dir, 'empty'), '--negatives', negatives],
        /empty holds no keyword/,
      ],
      [
        ['--model', modelPath, '--positives', positives, '--negatives', broken],
        /b\.wav: WAV data chunk says/,
      ],
      [
        ['--model', modelPath, '--positives', positives, '--negatives', negatives, '--threshold', '1.5'],
        /--threshold/,
      ],
      [
        ['--model', join(dir, 'missing.kws'), '--positives', positives, '--negatives', negatives],
        /missing\.kws/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await run(args);
      expect(code, args.join(' ')).toBe(2);
      // Progress lines may come first; the reason is the last line, and one line.
      expect(stderr.trim().split('\n').at(-1)).toMatch(message);
    }
  });
});
