import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav, resample } from '@kws/audio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mixAtSnr } from '../../data/augment.ts';
import { synthesize } from '../../data/espeak.ts';
import { makeNoise } from '../../data/noise.ts';
import { createRng } from '../../data/random.ts';
import { HELDOUT_VOICES } from '../../data/voices.ts';
import { BASE_MODEL_PATH } from '../../model/base-model.ts';
import { loadDetectorModel, modelSha256 } from '../../model/model-file.ts';
import { runMain } from '../testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'kws-personalize-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const clips = join(dir, 'clips');

beforeAll(async () => {
  mkdirSync(clips);
  for (let i = 0; i < 4; i++) {
    const speech = await synthesize('hey nova', HELDOUT_VOICES[0], { speed: 160 + 10 * i });
    const clip = new Float32Array(6400 + speech.length + 6400);
    clip.set(speech, 6400);
    const noisy = mixAtSnr(clip, makeNoise('white', clip.length, createRng(i)), 20).samples;
    writeFileSync(join(clips, `take-${i}.wav`), encodeWav(noisy, 16_000));
  }
}, 60_000);

const run = (args: string[]) => runMain(['personalize', ...args]);

describe('kws personalize', () => {
  it('writes the user model, the JSON report and the DET plot', async () => {
    const out = join(dir, 'user.kws');
    const report = join(dir, 'report.json');
    const plot = join(dir, 'det.svg');
    const { code, stdout, stderr } = await run([
      '--clips',
      clips,
      '--out',
      out,
      '--report',
      report,
      '--plot',
      plot,
      '--steps',
      '8',
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^wrote .*user\.kws \(\d+ bytes\): held-out FRR [\d.]+% → [\d.]+%/);
    expect(stderr).toMatch(/kws personalize: 100% epoch \d+ loss/);
    const model = loadDetectorModel(readFileSync(out));
    expect(model.header.base_model_sha256).toBe(modelSha256(readFileSync(BASE_MODEL_PATH)));
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json.clips).toBe(4);
    expect(json.after.threshold).toBe(model.header.threshold);
    expect(json.training.steps).toBe(8);
    const svg = readFileSync(plot, 'utf8');
    expect(svg.match(/<polyline/g)?.length).toBe(2);
  }, 60_000);

  it('exits 2 with a one-line reason for bad input', async () => {
    const two = join(dir, 'two');
    mkdirSync(two);
    writeFileSync(join(two, 'a.wav'), readFileSync(join(clips, 'take-0.wav')));
    writeFileSync(join(two, 'b.wav'), readFileSync(join(clips, 'take-1.wav')));
    const loud44k = join(dir, 'rate');
    mkdirSync(loud44k);
    for (let i = 0; i < 3; i++) {
      const bytes = readFileSync(join(clips, `take-${i}.wav`));
      const samples = new Float32Array(
        new Int16Array(bytes.buffer, bytes.byteOffset + 44, (bytes.length - 44) / 2),
      ).map((v) => v / 32768);
      writeFileSync(join(loud44k, `r${i}.wav`), encodeWav(resample(samples, 16_000, 44_100), 44_100));
    }
    const out = join(dir, 'bad.kws');
    const cases: [string[], RegExp][] = [
      [['--out', out], /--clips DIR is required/],
      [['--clips', clips], /--out FILE is required/],
      [['--clips', join(dir, 'nope'), '--out', out], /cannot read --clips .*nope: no such directory/],
      [['--clips', two, '--out', out], /holds 2 \.wav files; expected 3–10/],
      [
        ['--clips', loud44k, '--out', out],
        /r0\.wav: clip 1: expected 16000 Hz mono audio; received 44100 Hz/,
      ],
      [
        ['--clips', clips, '--out', out, '--base', join(dir, 'no.kws')],
        /base model: cannot read model .*no\.kws/,
      ],
      [['--clips', clips, '--out', out, '--steps', '0'], /--steps must be an integer ≥ 1/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await run(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n').length).toBe(1);
    }
  }, 60_000);
});
