import { describe, expect, it } from 'vitest';
import { fixtureMelWeights, fixtureMfcc, fixtureSignal, mfccFixtures } from '../../test/mfcc-fixtures.ts';
import { ReferenceBatchRealFft } from '../fft/reference.ts';
import { DEFAULT_FEATURE_CONFIG, resolveFeatureConfig } from './config.ts';
import { dctMatrix } from './dct.ts';
import { melWeights } from './mel.ts';
import { mfcc, planFor } from './mfcc.ts';
import { ReferenceMfccPlan } from './reference-plan.ts';
import { hannPeriodic } from './window.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('mfcc against the float64 NumPy implementation of DESIGN §1', () => {
  it('covers the required signals and lengths', () => {
    const names = mfccFixtures.map((f) => f.name);
    for (const name of [
      'silence',
      'white-noise',
      'chirp',
      'speech-like',
      'len-0',
      'len-399',
      'len-400',
      'len-401',
      'len-560',
    ]) {
      expect(names).toContain(name);
    }
    expect(mfccFixtures.some((f) => f.samples === 16007)).toBe(true);
  });

  for (const fixture of mfccFixtures) {
    it(`${fixture.name} (${fixture.samples} samples → ${fixture.frames} frames): max abs error ≤ 1e-3`, () => {
      const result = mfcc(fixtureSignal(fixture.name), fixture.config);
      const coeffs = fixture.config.num_mfcc ?? 13;
      expect(result.frames).toBe(fixture.frames);
      expect(result.coeffs).toBe(coeffs);
      expect(result.data.length).toBe(fixture.frames * coeffs);
      expect(maxAbsDiff(result.data, fixtureMfcc(fixture.name))).toBeLessThanOrEqual(1e-3);
    });
  }

  it('silence gives ln(log_offset) in every mel band: c0 = √40·ln(1e-6), the rest 0', () => {
    const { frames, data } = mfcc(new Float32Array(1000));
    expect(frames).toBe(4);
    for (let f = 0; f < frames; f++) {
      expect(data[f * 13]).toBeCloseTo(Math.sqrt(40) * Math.log(1e-6), 4);
      for (let i = 1; i < 13; i++) expect(Math.abs(data[f * 13 + i])).toBeLessThan(1e-5);
    }
  });

  it('the wasm kernel agrees with the TypeScript float64 plan on a reference DFT (default config)', () => {
    const config = resolveFeatureConfig();
    for (const name of ['speech-like', 'chirp', 'white-noise', 'quiet-noise']) {
      const signal = fixtureSignal(name);
      const slow = new Float32Array(98 * 13);
      new ReferenceMfccPlan(config, new ReferenceBatchRealFft(512, 7)).compute(signal, 0, 98, slow, 0);
      expect(maxAbsDiff(mfcc(signal).data, slow), name).toBeLessThan(1e-3);
    }
  });

  it('the wasm kernel handles sizes that are not multiples of its 4-lane vectors', () => {
    const config = { frame_length: 397, frame_step: 101, fft_length: 520, num_mel_bins: 37, num_mfcc: 11 };
    const resolved = resolveFeatureConfig(config);
    const signal = fixtureSignal('speech-like').subarray(0, 5003);
    const got = mfcc(signal, config);
    const want = new Float32Array(got.frames * 11);
    new ReferenceMfccPlan(resolved, new ReferenceBatchRealFft(520, 5)).compute(
      signal,
      0,
      got.frames,
      want,
      0,
    );
    expect(got.frames).toBe(1 + Math.floor((5003 - 397) / 101));
    expect(maxAbsDiff(got.data, want)).toBeLessThan(1e-3);
  });

  it('inputs longer than one kernel call (256 frames) are processed in chunks without seams', () => {
    const noise = new Float32Array(16000 * 25);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.sin(i * 12.9898) * 0.5 * Math.sin(i / 3000);
    const got = mfcc(noise);
    const want = new Float32Array(got.frames * 13);
    new ReferenceMfccPlan(resolveFeatureConfig()).compute(noise, 0, got.frames, want, 0);
    expect(got.frames).toBe(2498);
    expect(maxAbsDiff(got.data, want)).toBeLessThan(1e-3);
  });

  it('refuses to return Inf/NaN features: overflowing or NaN input throws, naming the frame', () => {
    const loud = new Float32Array(800);
    loud[500] = 1e30;
    expect(() => mfcc(loud)).toThrow(
      'mfcc: frame 1 peaks at 1.0000000150474662e+30, overflowing float32 power',
    );
    const nan = new Float32Array(800);
    nan[10] = Number.NaN;
    expect(() => mfcc(nan)).toThrow('mfcc: frame 0 contains NaN');
  });
});

describe('feature tables', () => {
  it('mel weights equal the NumPy filterbank', () => {
    expect(maxAbsDiff(melWeights(resolveFeatureConfig()), fixtureMelWeights())).toBeLessThan(1e-12);
  });

  it('the full 40 × 40 DCT-II matrix is orthonormal', () => {
    const d = dctMatrix(40, 40);
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 40; j++) {
        let dot = 0;
        for (let m = 0; m < 40; m++) dot += d[i * 40 + m] * d[j * 40 + m];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });

  it('the window is periodic Hann: 0 at n = 0, 1 at n = L/2, w[n] = w[L − n]', () => {
    const w = hannPeriodic(400);
    expect(w[0]).toBe(0);
    expect(w[200]).toBe(1);
    for (let n = 1; n < 400; n++) expect(w[n]).toBe(w[400 - n]);
  });
});

describe('feature config', () => {
  it('defaults are the model-file defaults of DESIGN §1', () => {
    expect(DEFAULT_FEATURE_CONFIG).toEqual({
      sample_rate: 16000,
      frame_length: 400,
      frame_step: 160,
      fft_length: 512,
      window: 'hann_periodic',
      num_mel_bins: 40,
      lower_edge_hertz: 20,
      upper_edge_hertz: 7600,
      log_offset: 1e-6,
      num_mfcc: 13,
    });
    expect(Object.isFrozen(DEFAULT_FEATURE_CONFIG)).toBe(true);
  });

  it('builds tables once per configuration', () => {
    const a = planFor(resolveFeatureConfig({ num_mfcc: 12 }));
    mfcc(new Float32Array(800), { num_mfcc: 12 });
    expect(planFor(resolveFeatureConfig({ num_mfcc: 12 }))).toBe(a);
  });

  it('rejects unknown keys and impossible values, naming key, value and rule', () => {
    const bad = (config: object) => () => mfcc(new Float32Array(400), config);
    expect(bad({ frameLength: 400 })).toThrow('unknown feature config key "frameLength"');
    expect(bad({ fft_length: 256 })).toThrow('fft_length must be even and ≥ frame_length (400), got 256');
    expect(bad({ frame_step: 0 })).toThrow('frame_step must be an integer ≥ 1, got 0');
    expect(bad({ num_mfcc: 41 })).toThrow('num_mfcc must be ≤ num_mel_bins (40), got 41');
    expect(bad({ upper_edge_hertz: 9000 })).toThrow(
      'upper_edge_hertz ≤ 8000 (sample_rate / 2), got 20 and 9000',
    );
    expect(bad({ log_offset: 0 })).toThrow('log_offset must be a finite number > 0, got 0');
    expect(bad({ window: 'hamming' })).toThrow('window must be "hann_periodic", got "hamming"');
    expect(() => mfcc([0, 1] as unknown as Float32Array)).toThrow('mfcc expects a Float32Array');
  });
});
