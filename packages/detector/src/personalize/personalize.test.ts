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
  blendWeights,
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

/** How many of `clips` the model detects at its own threshold. */
function detections(model: Uint8Array, clips: Float32Array[]): number {
  const m = loadDetectorModel(model);
  return clips.filter((c) => detect(m, c).detected).length;
}

describe('personalize', () => {
  it("makes the model detect more of the user's other recordings than the base did, and reports it", async () => {
    const progress: number[] = [];
    // The default budget: a few dozen steps first pull scores down (replayed negatives dominate early).
    const { model, report } = await personalize({
      createdAt: TINY.createdAt,
      base: baseBytes,
      clips: enroll,
      seed: 'user',
      onProgress: (p) => progress.push(p.pct),
    });
    // Each at its own threshold: the user model's is chosen per user, so raw scores do not compare.
    expect(detections(model, others)).toBeGreaterThan(detections(baseBytes, others));
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
    expect(report.training).toMatchObject({
      steps: PERSONALIZE_DEFAULTS.steps,
      stopped_early: false,
    });
    expect(PERSONALIZE_DEFAULTS.fineTunedShares).toContain(report.training.fine_tuned_share);
    expect(progress.at(-1)).toBe(100);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true);
  }, 60_000);

  it('keeps the base network and threshold for a voice whose every enrollment clip the base detects', async () => {
    // Clean takes of a held-out voice (en-us+Andrea) the base scores ≥ 0.99.
    const takes = await Promise.all(
      [150, 165, 175, 190, 205].map((speed, i) =>
        synthesize('hey nova', HELDOUT_VOICES[0], { speed, pitch: 40 + 6 * i }),
      ),
    );
    const base = loadDetectorModel(baseBytes);
    expect(takes.every((t) => detect(base, t).detected)).toBe(true);
    const { model, report } = await personalize({ ...TINY, base: baseBytes, clips: takes, seed: 'known' });
    const user = loadDetectorModel(model);
    expect(report.training.fine_tuned_share).toBe(0);
    expect(user.header.threshold).toBe(base.header.threshold);
    const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    user.network.weights.forEach((w, i) => {
      expect(
        bytes(w.value as Float32Array).equals(bytes(base.network.weights[i].value as Float32Array)),
      ).toBe(true);
    });
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
    const { report } = await personalize({
      ...TINY,
      base: baseBytes,
      clips: enroll,
      steps: 100_000,
      maxSeconds: 1,
    });
    expect(report.training.stopped_early).toBe(true);
    expect(report.training.steps).toBeLessThan(100_000);
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

  it('chooses the lowest threshold in [0.95, 0.99] that keeps new held-out negatives from firing', () => {
    // A base calibrated at 0.99: nothing new fires, so the bottom of the range, not the base's 0.99...
    expect(chooseThreshold([0.97, 0.99], [0.1, 0.3], 0.99)).toBe(PERSONALIZE_DEFAULTS.minThreshold);
    // ...a negative at 0.962 needs the first grid threshold above it, as long as positives stay above...
    expect(chooseThreshold([0.98, 0.99, 0.995], [0.1, 0.962], 0.99)).toBe(0.97);
    // ...and one above every positive costs more than the missed positives (falseAcceptCost).
    expect(chooseThreshold([0.96, 0.97, 0.975, 0.995], [0.1, 0.985], 0.99)).toBe(0.99);
    // A negative no threshold in the range stops: the bottom (a higher one would only lose positives).
    expect(chooseThreshold([0.999], [0.998], 0.99)).toBe(PERSONALIZE_DEFAULTS.minThreshold);
    // A base below the range lowers its bottom to the base's threshold.
    expect(chooseThreshold([0.9], [0.1], 0.3)).toBe(0.3);
    expect(chooseThreshold([0.9], [0.1, 0.5], 0.3)).toBe(0.51);
  });

  it('blends weights as base + share · (tuned − base), against a float64 reference rounded once', () => {
    const make = () => loadDetectorModel(baseBytes).network;
    const base = make();
    const tuned = make();
    const rng = createRng('blend');
    for (const w of tuned.weights) for (let k = 0; k < w.value.length; k++) w.value[k] += rng.uniform(-1, 1);
    const tunedValues = tuned.weights.map((w) => Float64Array.from(w.value));
    const baseValues = base.weights.map((w) => Float64Array.from(w.value));
    for (const share of [0, 0.5, 1]) {
      const net = make();
      net.setWeights(tuned.getWeights());
      blendWeights(net, base, share);
      net.weights.forEach((w, i) => {
        for (let k = 0; k < w.value.length; k += 97) {
          const expected = baseValues[i][k] + share * (tunedValues[i][k] - baseValues[i][k]);
          expect(w.value[k]).toBe(Math.fround(expected));
        }
      });
    }
  });
});
