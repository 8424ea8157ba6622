import { readFileSync } from 'node:fs';
import { encodeWav, resample } from '@kws/audio';
import { beforeAll, describe, expect, it } from 'vitest';
import { mixAtSnr } from '../data/augment.ts';
import { synthesize } from '../data/espeak.ts';
import { makeNoise } from '../data/noise.ts';
import { createRng } from '../data/random.ts';
import { HELDOUT_VOICES } from '../data/voices.ts';
import { detect } from '../detect/detector.ts';
import { BASE_MODEL_PATH } from '../model/base-model.ts';
import { loadDetectorModel, modelSha256 } from '../model/model-file.ts';
import { PersonalizeInputError } from './enrollment.ts';
import {
  chooseThreshold,
  PERSONALIZE_DEFAULTS,
  type PersonalizeOptions,
  personalize,
} from './personalize.ts';

/** A held-out "user" (never in the base set), speaking the keyword at varied speeds and pitches in a noisy room. */
const VOICE = HELDOUT_VOICES[3];
const baseBytes = readFileSync(BASE_MODEL_PATH);
let enroll: Float32Array[] = [];
let others: Float32Array[] = [];

async function userClip(i: number): Promise<Float32Array> {
  const rng = createRng(`user-${i}`);
  const speech = await synthesize('hey nova', VOICE, { speed: 150 + 10 * (i % 5), pitch: 40 + 4 * i });
  const clip = new Float32Array(Math.round(0.4 * 16_000) + speech.length + 8000);
  clip.set(speech, Math.round(0.4 * 16_000));
  return mixAtSnr(clip, makeNoise('pink', clip.length, rng), 10).samples;
}

beforeAll(async () => {
  const clips = await Promise.all(Array.from({ length: 11 }, (_, i) => userClip(i)));
  enroll = clips.slice(0, 5);
  others = clips.slice(5);
}, 60_000);

const TINY: Partial<PersonalizeOptions> = { steps: 40, createdAt: '2026-11-25T00:00:00.000Z' };

function meanScore(model: Uint8Array, clips: Float32Array[]): number {
  const m = loadDetectorModel(model);
  return clips.reduce((s, c) => s + detect(m, c).score, 0) / clips.length;
}

describe('personalize', () => {
  it("makes the model score the user's other recordings higher than the base did, and reports it", async () => {
    const progress: number[] = [];
    // The default budget: a few dozen steps first pull scores down (replayed negatives dominate early).
    const { model, report } = await personalize({
      createdAt: TINY.createdAt,
      base: baseBytes,
      clips: enroll,
      seed: 'user',
      onProgress: (p) => progress.push(p.pct),
    });
    const before = meanScore(baseBytes, others);
    const after = meanScore(model, others);
    expect(after).toBeGreaterThan(before);
    const user = loadDetectorModel(model);
    expect(user.header.base_model_sha256).toBe(modelSha256(baseBytes));
    expect(user.header.threshold).toBe(report.after.threshold);
    expect(user.header.keyword).toBe('hey nova');
    expect(user.header.metrics).toMatchObject({
      frr: report.after.frr,
      fa_per_hour: report.after.fa_per_hour,
    });
    expect(report.clips).toBe(5);
    expect(report.held_out_clips.length).toBe(1);
    expect(report.before.det.length).toBe(99);
    expect(report.training).toMatchObject({ steps: PERSONALIZE_DEFAULTS.steps, stopped_early: false });
    expect(progress.at(-1)).toBe(100);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true);
  }, 60_000);

  it('gives the same bytes for the same clips and seed (as WAV bytes or samples), other bytes for another seed', async () => {
    const options = { ...TINY, steps: 6, base: baseBytes };
    const a = await personalize({ ...options, clips: enroll, seed: 7 });
    const b = await personalize({ ...options, clips: enroll.map((c) => encodeWav(c, 16_000)), seed: 7 });
    const c = await personalize({ ...options, clips: enroll, seed: 8 });
    // WAV stores 16-bit samples: the same clips through WAV differ by rounding, so only samples are compared.
    const a2 = await personalize({ ...options, clips: enroll, seed: 7 });
    expect(Buffer.from(a2.model).equals(Buffer.from(a.model))).toBe(true);
    expect(b.report.clips).toBe(5);
    expect(loadDetectorModel(b.model).header.base_model_sha256).toBe(modelSha256(baseBytes));
    expect(Buffer.from(c.model).equals(Buffer.from(a.model))).toBe(false);
  }, 60_000);

  it('stops when aborted, with the abort reason', async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const run = personalize({
      ...TINY,
      base: baseBytes,
      clips: enroll,
      steps: 500,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.pct >= 1) controller.abort(reason);
      },
    });
    await expect(run).rejects.toBe(reason);
    const already = AbortSignal.abort(reason);
    await expect(personalize({ base: baseBytes, clips: enroll, signal: already })).rejects.toBe(reason);
  }, 60_000);

  it('keeps to a time budget', async () => {
    const started = performance.now();
    const { report } = await personalize({
      ...TINY,
      base: baseBytes,
      clips: enroll,
      steps: 100_000,
      maxSeconds: 1,
    });
    expect(report.training.stopped_early).toBe(true);
    expect(report.training.steps).toBeLessThan(100_000);
    expect((performance.now() - started) / 1000).toBeLessThan(15);
  }, 60_000);

  it('rejects bad input with errors that say what was received and expected', async () => {
    const at44k = encodeWav(resample(enroll[0], 16_000, 44_100), 44_100);
    const cases: [Partial<PersonalizeOptions>, RegExp][] = [
      [{ clips: enroll.slice(0, 2) }, /needs 3–10 clips of the keyword; received 2/],
      [{ clips: [...enroll, ...enroll, enroll[0]] }, /needs 3–10 clips of the keyword; received 11/],
      [
        { clips: [at44k, ...enroll.slice(1)] },
        /clip 1: expected 16000 Hz mono audio; received 44100 Hz with 1 channel/,
      ],
      [{ clips: [...enroll.slice(0, 2), new Float32Array(16_000)] }, /clip 3: no speech found/],
      [
        { clips: [...enroll.slice(0, 2), new Float32Array(100)] },
        /clip 3: expected 0\.3–10 s of audio; received 0\.01 s/,
      ],
      [{ clips: [new Uint8Array([1, 2, 3]), ...enroll.slice(1)] }, /clip 1: WAV header truncated/],
      [{ clips: enroll, base: new Uint8Array(64) }, /base model: /],
      [
        { clips: enroll, base: '/nonexistent/base.kws' },
        /base model: cannot read model \/nonexistent\/base\.kws: no such file/,
      ],
      [{ clips: enroll, steps: 0 }, /steps must be an integer ≥ 1; received 0/],
      [{ clips: enroll, negativesDir: '/nonexistent' }, /negatives: cannot read directory \/nonexistent/],
    ];
    for (const [options, message] of cases) {
      const run = personalize({ base: baseBytes, ...options } as PersonalizeOptions);
      await expect(run, String(message)).rejects.toThrow(PersonalizeInputError);
      await expect(personalize({ base: baseBytes, ...options } as PersonalizeOptions)).rejects.toThrow(
        message,
      );
    }
  }, 60_000);

  it('chooses the lowest threshold that keeps held-out negatives from firing, not held to the base threshold', () => {
    // Negatives up to 0.62: the first grid threshold above them, as long as positives stay above it.
    expect(chooseThreshold([0.9, 0.95, 0.99], [0.1, 0.62, 0.3], 0.5)).toBe(0.63);
    // Nothing fires anywhere: the floor.
    expect(chooseThreshold([0.9, 0.95], [0.1, 0.2], 0.5)).toBe(0.5);
    // A negative above every positive: one missed positive costs less than a false fire.
    expect(chooseThreshold([0.7, 0.8, 0.9, 0.95], [0.1, 0.85], 0.5)).toBe(0.86);
    // Never above the ceiling.
    expect(chooseThreshold([0.99], [0.98], 0.5)).toBeLessThanOrEqual(PERSONALIZE_DEFAULTS.maxThreshold);
    // A base calibrated at 0.99 does not hold the user model to 0.99: its own held-out scores decide...
    expect(chooseThreshold([0.8, 0.9], [0.1, 0.3], 0.99)).toBe(0.5);
    expect(chooseThreshold([0.8, 0.9], [0.1, 0.7], 0.99)).toBe(0.71);
    // ...and the range reaches up to the base's threshold when false fires need it.
    expect(chooseThreshold([0.995], [0.1, 0.97], 0.99)).toBe(0.98);
    expect(chooseThreshold([0.995], [0.1, 0.985], 0.99)).toBe(0.99);
    // A base below minThreshold lowers the range.
    expect(chooseThreshold([0.9], [0.1], 0.3)).toBe(0.3);
  });
});
