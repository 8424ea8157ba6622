import { describe, expect, it } from 'vitest';
import { AudioFormatError } from './errors.ts';
import { toMono16k } from './mono16k.ts';
import { resample, resampleFloat64 } from './resample.ts';

function tone(frequency: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = amplitude * Math.sin((2 * Math.PI * frequency * i) / rate + 0.3);
  return x;
}

/**
 * Least-squares fit of A·sin + B·cos at `frequency` over the middle 80 % (away from the zero-padded edges).
 * Returns the fitted amplitude, the residual power relative to the fitted tone (a tone that moved in
 * frequency leaves a large residual), and the total power in dB relative to `reference` amplitude.
 */
function fitTone(y: Float32Array, frequency: number, rate: number, reference: number) {
  const start = Math.floor(y.length * 0.1);
  const end = Math.floor(y.length * 0.9);
  let ss = 0;
  let cc = 0;
  let sc = 0;
  let ys = 0;
  let yc = 0;
  let yy = 0;
  for (let i = start; i < end; i++) {
    const s = Math.sin((2 * Math.PI * frequency * i) / rate);
    const c = Math.cos((2 * Math.PI * frequency * i) / rate);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += y[i] * s;
    yc += y[i] * c;
    yy += y[i] * y[i];
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  let residual = 0;
  for (let i = start; i < end; i++) {
    const r =
      y[i] -
      a * Math.sin((2 * Math.PI * frequency * i) / rate) -
      b * Math.cos((2 * Math.PI * frequency * i) / rate);
    residual += r * r;
  }
  const amplitude = Math.hypot(a, b);
  const n = end - start;
  return {
    gainDb: 20 * Math.log10(amplitude / reference),
    residualDb: 10 * Math.log10(residual / n / (amplitude ** 2 / 2)),
    powerDb: 10 * Math.log10(yy / n / (reference ** 2 / 2)),
  };
}

describe('resample to 16 kHz', () => {
  const rates = [8000, 11025, 22050, 44100, 48000, 96000, 192000];
  for (const rate of rates) {
    for (const frequency of [440, 1000, 3400, 6500, 6999]) {
      if (frequency >= rate * 0.4375) continue; // not representable below the input's own passband edge
      it(`keeps a ${frequency} Hz tone from ${rate} Hz: amplitude within 0.1 dB, same frequency`, () => {
        const { gainDb, residualDb } = fitTone(
          resample(tone(frequency, rate, 0.5), rate, 16000),
          frequency,
          16000,
          0.5,
        );
        expect(Math.abs(gainDb)).toBeLessThan(0.1);
        expect(residualDb).toBeLessThan(-60);
      });
    }
  }

  it('attenuates a 12 kHz tone at 44.1 kHz by at least 60 dB (no alias at 4 kHz)', () => {
    const y = resample(tone(12000, 44100, 0.5), 44100, 16000);
    expect(fitTone(y, 4000, 16000, 0.5).powerDb).toBeLessThan(-60);
  });

  for (const rate of [22050, 44100, 48000, 96000, 192000]) {
    it(`attenuates everything from 8.05 kHz to the input Nyquist at ${rate} Hz by ≥ 60 dB`, () => {
      for (let frequency = 8050; frequency < rate / 2; frequency += rate < 50000 ? 950 : 7950) {
        const y = resample(tone(frequency, rate, 0.3), rate, 16000);
        expect(fitTone(y, 1000, 16000, 0.5).powerDb, `${frequency} Hz`).toBeLessThan(-60);
      }
    });
  }

  it('passes 16 kHz input through unchanged, as a copy', () => {
    const x = tone(440, 16000, 0.1);
    const y = resample(x, 16000, 16000);
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
  });

  it('has unit DC gain and ceil(N·to/from) output samples, with no delay', () => {
    const x = new Float32Array(44100).fill(0.25);
    const y = resample(x, 44100, 16000);
    expect(y.length).toBe(16000);
    for (let i = 200; i < 15800; i++) expect(Math.abs(y[i] - 0.25)).toBeLessThan(1e-6);
    expect(resample(new Float32Array(11), 22050, 16000).length).toBe(Math.ceil((11 * 16000) / 22050));
    expect(resample(new Float32Array(0), 44100, 16000).length).toBe(0);
    // An impulse at input sample 4410 (0.1 s) peaks at output sample 1600 (0.1 s).
    const impulse = new Float32Array(44100);
    impulse[4410] = 1;
    const out = resample(impulse, 44100, 16000);
    expect(out.indexOf(Math.max(...out))).toBe(1600);
  });

  // The exact filter computes the outputs of one phase four at a time (up and down in lowest terms: output
  // n + up reads the input `down` samples later than output n). Delaying the input by `down` samples must
  // then delay the output by exactly `up` samples, bit for bit, wherever each output lands in its group.
  it('is shift-invariant: input delayed by `down` samples gives the output delayed by `up`, bit for bit', () => {
    for (const [rate, up, down] of [
      [48000, 1, 3],
      [44100, 160, 441],
      [22050, 320, 441],
      [8000, 2, 1],
    ]) {
      for (const length of [7, 1001, 4 * down + 5, rate + 17]) {
        const x = new Float32Array(length).map((_, i) => Math.sin(i * 0.37) * 0.5 + ((i * 7919) % 13) / 40);
        const delayed = new Float32Array(length + down);
        delayed.set(x, down);
        const y = resample(x, rate, 16000);
        const yd = resample(delayed, rate, 16000);
        expect(yd.length, `${rate} Hz, ${length} samples`).toBe(y.length + up);
        expect(yd.subarray(up), `${rate} Hz, ${length} samples`).toEqual(y);
      }
    }
  });

  it('handles rates with no small common factor (interpolated phases) as accurately', () => {
    const { gainDb, residualDb } = fitTone(resample(tone(1000, 44099, 0.5), 44099, 16000), 1000, 16000, 0.5);
    expect(Math.abs(gainDb)).toBeLessThan(0.01);
    expect(residualDb).toBeLessThan(-80);
  });

  it('also converts away from 16 kHz (e.g. speed perturbation), band-limited to the lower rate', () => {
    const up = resample(tone(3000, 16000, 0.5), 16000, 17600);
    expect(Math.abs(fitTone(up, 3000, 17600, 0.5).gainDb)).toBeLessThan(0.01);
  });

  it('rejects rates that are not integers in range, naming the argument', () => {
    expect(() => resample(new Float32Array(4), 16000.5, 16000)).toThrow(
      'resample fromRate must be an integer from 1000 to 384000 Hz, got 16000.5',
    );
    expect(() => resample(new Float32Array(4), 16000, 0)).toThrow('resample toRate must be an integer');
  });
});

// The exact polyphase filter runs in the wasm kernel (float32); resampleFloat64 is the float64 JavaScript
// filter it replaced. Each output is a dot product of ≤ 4·(taps/4) float32 products added in 4 lanes of
// ≤ taps/4 terms, so its rounding error is a few float32 ulps of the signal's peak; 2e-6 × peak allows
// ~34 ulps at peak 1 (measured: ≤ 4 ulps). A wrong tap, row, offset or chunk seam is off by far more.
describe('resample: the wasm kernel against the float64 filter', () => {
  const signal = (length: number) =>
    new Float32Array(length).map((_, i) => Math.sin(i * 0.37) * 0.6 + (((i * 7919) % 13) - 6) / 30);
  const pairs = [
    [48000, 16000],
    [44100, 16000],
    [22050, 16000],
    [11025, 16000],
    [32000, 16000],
    [8000, 16000],
    [96000, 16000],
    [192000, 16000],
    [16000, 17600],
    [16000, 14400],
    [384000, 16000],
  ];
  for (const [from, to] of pairs) {
    // 0, 1, odd, not a multiple of 4 or of `down`, and past the kernel's 16,384-output chunk (two seams).
    const lengths = [0, 1, 2, 3, 5, 17, 441, 1001, Math.ceil((34_000 * from) / to) + 7];
    it(`${from} → ${to} Hz matches within float32 rounding at ${lengths.join(', ')} samples`, () => {
      for (const length of lengths) {
        const x = signal(length);
        const got = resample(x, from, to);
        const want = resampleFloat64(x, from, to);
        expect(got.length, `${length} samples`).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        expect(worst, `${length} samples`).toBeLessThanOrEqual(2e-6 * 0.8);
      }
    });
  }

  it('gives the float64 result where float32 sums overflow (float samples near ±3.4e38)', () => {
    // A constant 3.3e38 is finite after filtering (unit DC gain), but the positive side lobes' partial sums
    // pass float32's 3.4e38; a step between ±3.4e38 overshoots to ±Infinity in float64 too.
    const constant = new Float32Array(4800).fill(3.3e38);
    const step = new Float32Array(4410).map((_, i) => (i < 2205 ? -3.4e38 : 3.4e38));
    for (const [x, rate] of [
      [constant, 48000],
      [step, 44100],
    ] as const) {
      const got = resample(x, rate, 16000);
      expect(got).toEqual(resampleFloat64(x, rate, 16000));
      expect(got.some((v) => Number.isFinite(v) && Math.abs(v) > 3e38)).toBe(true);
    }
    expect(resample(constant, 48000, 16000)[800]).toBe(Math.fround(3.3e38));
  });
});

describe('toMono16k', () => {
  it('averages channels before resampling', () => {
    const frames = 4800;
    const samples = new Float32Array(frames * 3);
    for (let f = 0; f < frames; f++) {
      samples[3 * f] = 0.3;
      samples[3 * f + 1] = -0.1;
      samples[3 * f + 2] = 0.4;
    }
    const mono = toMono16k({ sampleRate: 48000, channels: 3, samples });
    expect(mono.length).toBe(1600);
    for (let i = 100; i < 1500; i++) expect(mono[i]).toBeCloseTo(0.2, 6);
  });

  it('returns mono 16 kHz samples unchanged', () => {
    const samples = tone(440, 16000, 0.05);
    expect(toMono16k({ sampleRate: 16000, channels: 1, samples })).toEqual(samples);
  });

  // Found by the hostile-input fuzz (issue #7): the filter's overshoot at a step between ±3.4e38 (finite
  // float32, so decodeWav accepts it) gave Infinity, and analyzeQuality's RangeError became a 500 upload.
  it('rejects float samples that overflow float32 while resampling, as an AudioFormatError', () => {
    const samples = new Float32Array(4410).map((_, i) => (i < 2205 ? -3.4e38 : 3.4e38));
    let thrown: unknown;
    try {
      toMono16k({ sampleRate: 44100, channels: 1, samples });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AudioFormatError);
    expect(thrown).toMatchObject({ code: 'NON_FINITE_SAMPLE' });
    expect((thrown as Error).message).toMatch(
      /^resampling 44100 Hz to 16000 Hz overflows float32 at output sample \d+/,
    );
  });

  it('rejects a sample count that is not whole frames', () => {
    expect(() => toMono16k({ sampleRate: 16000, channels: 2, samples: new Float32Array(3) })).toThrow(
      'toMono16k got 3 samples, not a whole number of 2-channel frames',
    );
  });
});
