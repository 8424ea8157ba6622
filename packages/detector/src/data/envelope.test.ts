import { describe, expect, it } from 'vitest';
import { activePower, activeRegion, trimSilence } from './envelope.ts';
import { tone } from './testing.ts';

describe('energy envelope', () => {
  it('finds a burst to within one 10 ms frame and trims to it', () => {
    const x = new Float32Array(16_000);
    x.set(tone(440, 4000, 0.3), 3210); // samples 3210 … 7209
    const region = activeRegion(x);
    expect(region).not.toBeNull();
    expect(region?.start).toBe(3200); // frame 20 holds the first burst sample
    expect(region?.end).toBe(7360); // frame 45 holds the last
    expect(trimSilence(x).length).toBe(7360 - 3200);
  });

  it('ignores content more than 40 dB under the loudest frame', () => {
    const x = new Float32Array(16_000);
    x.set(tone(440, 1600, 0.5), 8000);
    x.set(tone(440, 1600, 0.5 * 10 ** (-45 / 20)), 1000); // 45 dB down: not speech
    x.set(tone(440, 1600, 0.5 * 10 ** (-30 / 20)), 12_000); // 30 dB down: speech
    expect(activeRegion(x)).toEqual({ start: 8000, end: 13_600 });
  });

  it('measures active power without the padding, and treats silence as silence', () => {
    const burst = tone(1000, 3200, 0.5);
    const padded = new Float32Array(32_000);
    padded.set(burst, 9920); // frame-aligned: 20 whole frames
    expect(activePower(padded)).toBeCloseTo(0.125, 3); // 0.5² / 2
    // Unaligned, two edge frames are part silence: the error is bounded by the frame granularity.
    const shifted = new Float32Array(32_000);
    shifted.set(burst, 10_000);
    expect(10 * Math.log10(activePower(shifted) / 0.125)).toBeGreaterThan(-0.3);
    expect(activeRegion(new Float32Array(500))).toBeNull();
    expect(trimSilence(new Float32Array(500)).length).toBe(0);
    expect(activePower(new Float32Array(500))).toBe(0);
  });
});
