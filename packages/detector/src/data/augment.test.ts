import { describe, expect, it } from 'vitest';
import {
  applyGain,
  changeSpeed,
  mixAtSnr,
  quantizeSpeed,
  reverb,
  roomImpulse,
  timeShift,
} from './augment.ts';
import { pinkNoise, whiteNoise } from './noise.ts';
import { createRng } from './random.ts';
import { bandPower, powerDb, RATE, tone } from './testing.ts';

describe('mixAtSnr', () => {
  it('hits the target speech-to-noise ratio within 0.5 dB, however much silence pads the clip', () => {
    for (const [snr, pad] of [
      [0, 4000],
      [10, 20_000],
      [25, 500],
      [30, 0],
    ]) {
      const x = new Float32Array(pad + 8000 + pad);
      x.set(tone(500, 8000, 0.4), pad);
      const noise = pinkNoise(5000, createRng(snr)); // shorter than the clip: looped
      const { samples } = mixAtSnr(x, noise, snr, 1234);
      const added = samples.map((v, i) => v - x[i]);
      // Independent measurement: the burst's power (known region) over the noise actually added.
      const measured = powerDb(x, pad, pad + 8000) - powerDb(added);
      expect(Math.abs(measured - snr)).toBeLessThan(0.5);
    }
  });

  it('leaves a silent clip alone and rejects bad input', () => {
    const silent = new Float32Array(100);
    expect(mixAtSnr(silent, whiteNoise(50, createRng(1)), 10).samples).toEqual(silent);
    expect(() => mixAtSnr(silent, new Float32Array(0), 10)).toThrow(/noise for mixing is empty/);
    expect(() => mixAtSnr(silent, silent, Number.NaN)).toThrow(/SNR must be a finite number of dB, got NaN/);
  });
});

describe('gain and time shift', () => {
  it('scales by 10^(dB/20)', () => {
    const x = tone(300, 1000);
    const y = applyGain(x, 20 * Math.log10(2));
    for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(2 * x[i], 6);
    expect(powerDb(applyGain(x, -12)) - powerDb(x)).toBeCloseTo(-12, 6);
  });

  it('moves content by whole samples and keeps the length', () => {
    const x = Float32Array.from({ length: 10 }, (_, i) => i + 1);
    expect(Array.from(timeShift(x, 3))).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(timeShift(x, -4))).toEqual([5, 6, 7, 8, 9, 10, 0, 0, 0, 0]);
    expect(Array.from(timeShift(x, 12))).toEqual(new Array(10).fill(0));
    expect(() => timeShift(x, 1.5)).toThrow(/integer number of samples, got 1.5/);
  });
});

describe('speed perturbation', () => {
  it('scales duration by 1/factor and frequency by factor', () => {
    const x = tone(1000, RATE);
    for (const factor of [0.9, 1.1]) {
      const y = changeSpeed(x, factor);
      expect(Math.abs(y.length - RATE / factor)).toBeLessThanOrEqual(1);
      // The tone moved to 1000·factor Hz: most of its power is there, not at 1 kHz.
      const mid = y.subarray(2000, y.length - 2000);
      expect(bandPower(mid, 1000 * factor)).toBeGreaterThan(100 * bandPower(mid, 1000));
    }
    expect(changeSpeed(x, 1)).toEqual(x);
    expect(() => changeSpeed(x, 3)).toThrow(/speed factor must be in \[0.5, 2\], got 3/);
    expect(quantizeSpeed(1.0349)).toBe(1.03);
  });
});

describe('reverb', () => {
  it('adds an exponentially decaying tail that falls 60 dB in rt60', () => {
    for (const rt60S of [0.3, 0.6]) {
      const impulse = new Float32Array(RATE * 2);
      impulse[0] = 1;
      const h = reverb(impulse, { rt60S, wet: 1 }, createRng(5));
      // Energy is conserved (direct + tail = 1) and sits after the direct sound.
      expect(powerDb(h) + 10 * Math.log10(h.length)).toBeCloseTo(0, 1);
      // Schroeder backward integration; fit the −5 … −25 dB part and extrapolate to −60 dB (T20).
      const edc = new Float64Array(h.length);
      let acc = 0;
      for (let i = h.length - 1; i >= 0; i--) {
        acc += h[i] * h[i];
        edc[i] = acc;
      }
      const db = (i: number): number => 10 * Math.log10(edc[i] / edc[0]);
      const t5 = edc.findIndex((_, i) => db(i) <= -5);
      const t25 = edc.findIndex((_, i) => db(i) <= -25);
      const estimate = ((t25 - t5) / RATE) * 3;
      expect(Math.abs(estimate - rt60S) / rt60S).toBeLessThan(0.15);
    }
  });

  it('keeps the direct sound, leaves a tail after a burst, and is deterministic', () => {
    const x = new Float32Array(RATE);
    x.set(tone(800, 4000, 0.5), 2000);
    const dry = reverb(x, { rt60S: 0.5, wet: 0 }, createRng(1));
    for (let i = 0; i < x.length; i++) expect(dry[i]).toBeCloseTo(x[i], 6);
    const wet = reverb(x, { rt60S: 0.5, wet: 0.4 }, createRng(1));
    // The burst ends at sample 6000. Over its first 100 ms the tail holds on average ≈ 14 % of the wet
    // share's level (−9 dB under the burst) and decays by 12 dB per 100 ms (60 dB in 0.5 s).
    expect(powerDb(x, 6000, 7600)).toBe(-Infinity);
    const tail = powerDb(wet, 6000, 7600);
    expect(tail).toBeGreaterThan(powerDb(wet, 2000, 6000) - 15);
    expect(powerDb(wet, 9200, 10_800)).toBeLessThan(tail - 20); // 200 ms later: ≈ 24 dB down
    expect(reverb(x, { rt60S: 0.5, wet: 0.4 }, createRng(1))).toEqual(wet);
    expect(() => roomImpulse({ rt60S: 0, wet: 0.5 }, createRng(1))).toThrow(
      /rt60 must be in \(0, 3\] seconds, got 0/,
    );
  });
});
