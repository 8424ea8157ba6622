import { describe, expect, it } from 'vitest';
import { analyzeQuality, QUALITY_FLOOR_DB, SNR_CAP_DB } from './quality.ts';

/** Deterministic Gaussian noise (Box–Muller over a small LCG). */
function gaussian(n: number, sigma: number, seed = 1): Float32Array {
  let state = seed;
  const uniform = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = sigma * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/** Noise of power σ² everywhere, plus 700 Hz tone bursts whose power is `snrDb` above it, over [start, end) s. */
function burstsInNoise(snrDb: number, bursts: [number, number][], seconds = 2.5, sigma = 0.01): Float32Array {
  const x = gaussian(Math.round(16000 * seconds), sigma);
  const amplitude = Math.sqrt(2 * sigma * sigma * 10 ** (snrDb / 10));
  for (const [start, end] of bursts) {
    for (let i = Math.round(start * 16000); i < Math.round(end * 16000); i++) {
      x[i] += amplitude * Math.sin((2 * Math.PI * 700 * i) / 16000);
    }
  }
  return x;
}

describe('analyzeQuality', () => {
  it('digital silence: no speech, floor peak, no clipping, SNR 0', () => {
    expect(analyzeQuality(new Float32Array(16000))).toEqual({
      durationS: 1,
      peakDb: QUALITY_FLOOR_DB,
      clippingFraction: 0,
      speechS: 0,
      snrDb: 0,
    });
  });

  it('an empty clip is all zeros, not NaN', () => {
    expect(analyzeQuality(new Float32Array(0))).toEqual({
      durationS: 0,
      peakDb: QUALITY_FLOOR_DB,
      clippingFraction: 0,
      speechS: 0,
      snrDb: 0,
    });
  });

  for (const snr of [10, 20, 30]) {
    it(`tone bursts in noise at ${snr} dB SNR: speech duration and SNR recovered`, () => {
      const q = analyzeQuality(
        burstsInNoise(snr, [
          [0.5, 1.0],
          [1.5, 1.8],
        ]),
      );
      expect(q.durationS).toBe(2.5);
      expect(q.speechS).toBeGreaterThan(0.75);
      expect(q.speechS).toBeLessThan(0.87);
      expect(Math.abs(q.snrDb - snr)).toBeLessThan(2);
      expect(q.clippingFraction).toBe(0);
    });
  }

  it('stationary noise alone has no speech', () => {
    const q = analyzeQuality(gaussian(32000, 0.05));
    expect(q.speechS).toBe(0);
    expect(q.snrDb).toBe(0);
  });

  it('speech-level bursts in digital silence: SNR capped, not infinite', () => {
    const x = new Float32Array(32000);
    for (let i = 8000; i < 16000; i++) x[i] = 0.3 * Math.sin(i / 5);
    const q = analyzeQuality(x);
    expect(q.speechS).toBeCloseTo(0.5, 1);
    expect(q.snrDb).toBe(SNR_CAP_DB);
  });

  it('bursts at −70 dBFS (30 dB over −100 dBFS noise) are too quiet to count as speech', () => {
    expect(analyzeQuality(burstsInNoise(30, [[0.5, 1.5]], 2.5, 0.00001)).speechS).toBe(0);
  });

  it('peak in dBFS', () => {
    const x = new Float32Array(1600);
    x[100] = -0.5;
    expect(analyzeQuality(x).peakDb).toBeCloseTo(-6.0206, 3);
  });

  it('a sine driven to twice full scale and clipped reports the clipped share', () => {
    const x = new Float32Array(16000);
    for (let i = 0; i < x.length; i++)
      x[i] = Math.max(-1, Math.min(1, 2 * Math.sin((2 * Math.PI * 200 * i) / 16000)));
    const q = analyzeQuality(x);
    // |2 sin θ| ≥ 0.99 for a fraction 1 − (2/π)·asin(0.495) of the period.
    expect(q.clippingFraction).toBeCloseTo(1 - (2 / Math.PI) * Math.asin(0.495), 2);
    expect(q.peakDb).toBe(0);
  });

  it('an unclipped sine peaking at −1 dBFS has no clipping', () => {
    const x = new Float32Array(16000);
    for (let i = 0; i < x.length; i++) x[i] = 0.891 * Math.sin((2 * Math.PI * 200 * i) / 16000);
    expect(analyzeQuality(x).clippingFraction).toBe(0);
  });

  it('uses the given sample rate for durations', () => {
    const q = analyzeQuality(burstsInNoise(20, [[0.5, 1.0]]), 32000);
    expect(q.durationS).toBe(1.25);
    expect(q.speechS).toBeGreaterThan(0.22);
    expect(q.speechS).toBeLessThan(0.28);
  });

  it('rejects NaN samples and bad sample rates', () => {
    expect(() => analyzeQuality(new Float32Array([0, Number.NaN]))).toThrow('analyzeQuality sample 1 is NaN');
    expect(() => analyzeQuality(new Float32Array(4), 0)).toThrow(
      'sample rate must be a positive number (Hz), got 0',
    );
  });
});
