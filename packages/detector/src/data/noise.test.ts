import { describe, expect, it } from 'vitest';
import { meanPower } from './envelope.ts';
import { babbleNoise, makeNoise, pinkNoise, whiteNoise } from './noise.ts';
import { createRng } from './random.ts';
import { bandPower, tone } from './testing.ts';

const FREQS = [125, 250, 500, 1000, 2000, 4000];

/** Least-squares slope of band power in dB per octave. */
function slopeDbPerOctave(x: Float32Array): number {
  const pts = FREQS.map((f) => [Math.log2(f), 10 * Math.log10(bandPower(x, f))]);
  const mx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const my = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  const num = pts.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = pts.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return num / den;
}

describe('noise generators', () => {
  it('white noise is flat and pink noise falls 3 dB per octave', () => {
    const n = 16_000 * 30;
    expect(slopeDbPerOctave(whiteNoise(n, createRng(1)))).toBeCloseTo(0, 0);
    const pinkSlope = slopeDbPerOctave(pinkNoise(n, createRng(2)));
    expect(pinkSlope).toBeGreaterThan(-3.5);
    expect(pinkSlope).toBeLessThan(-2.5);
  });

  it('returns unit RMS, deterministic for a seed', () => {
    for (const kind of ['white', 'pink'] as const) {
      const a = makeNoise(kind, 20_000, createRng('k'));
      expect(meanPower(a)).toBeCloseTo(1, 4);
      expect(makeNoise(kind, 20_000, createRng('k'))).toEqual(a);
    }
  });

  it('babble is a mix of the given speech, continuous over the clip', () => {
    const speech = [tone(300, 8000), tone(700, 12_000), tone(1500, 5000)];
    const x = babbleNoise(48_000, createRng(9), speech);
    expect(meanPower(x)).toBeCloseTo(1, 4);
    // Energy comes from the clips' frequencies, not elsewhere.
    const inBand = bandPower(x, 300) + bandPower(x, 700) + bandPower(x, 1500);
    expect(inBand).toBeGreaterThan(1000 * bandPower(x, 4000));
    // Four talkers with ≤ 0.3 s pauses: no half-second stretch is silent.
    for (let s = 0; s + 8000 <= x.length; s += 8000)
      expect(meanPower(x.subarray(s, s + 8000))).toBeGreaterThan(0.01);
    expect(babbleNoise(48_000, createRng(9), speech)).toEqual(x);
    expect(() => babbleNoise(10, createRng(1), [])).toThrow(/at least one non-empty speech clip/);
  });
});
