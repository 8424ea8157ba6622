import { describe, expect, it } from 'vitest';
import { SAMPLE_RATE } from '../data/augment.ts';
import { createRng } from '../data/random.ts';
import { augmentEnrollment, type EnrolledClip, enrollClips } from './enrollment.ts';

/** A sine of `hz` for `seconds`. */
function tone(hz: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: Math.round(seconds * SAMPLE_RATE) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE),
  );
}

/**
 * Power near `hz` (Goertzel), the best over ±12 % since copies are sped up or slowed down by up to 10 %, as
 * a centroid in seconds too: where in the copy that frequency sits.
 */
function near(x: Float32Array, hz: number): { power: number; centroidS: number } {
  let best = { power: 0, centroidS: 0 };
  for (let f = hz * 0.88; f <= hz * 1.12; f += hz * 0.02) {
    const block = 320;
    let total = 0;
    let weighted = 0;
    for (let start = 0; start + block <= x.length; start += block) {
      let s1 = 0;
      let s2 = 0;
      const c = 2 * Math.cos((2 * Math.PI * f) / SAMPLE_RATE);
      for (let i = start; i < start + block; i++) [s1, s2] = [x[i] + c * s1 - s2, s1];
      const p = s1 * s1 + s2 * s2 - c * s1 * s2;
      total += p;
      weighted += p * ((start + block / 2) / SAMPLE_RATE);
    }
    if (total > best.power) best = { power: total, centroidS: weighted / total };
  }
  return best;
}

/** A "keyword" whose first half is a 300 Hz tone and second half a 1200 Hz tone, in 0.4 s of silence each side. */
function twoPartClip(): EnrolledClip {
  const samples = new Float32Array(Math.round(1.4 * SAMPLE_RATE));
  samples.set(tone(300, 0.3), Math.round(0.4 * SAMPLE_RATE));
  samples.set(tone(1200, 0.3), Math.round(0.7 * SAMPLE_RATE));
  const [clip] = enrollClips([samples, samples, samples]);
  return clip;
}

describe('augmentEnrollment', () => {
  const clip = twoPartClip();

  it('locates the keyword by its energy', () => {
    expect(clip.keyword.startS).toBeCloseTo(0.4, 1);
    expect(clip.keyword.endS).toBeCloseTo(1.0, 1);
  });

  it('keeps the whole keyword as a positive with its span, and a part of it as a negative', () => {
    for (let k = 0; k < 8; k++) {
      const whole = augmentEnrollment(clip, createRng(`whole-${k}`), 'w');
      expect(whole.label).toBe(1);
      const low = near(whole.samples, 300);
      const high = near(whole.samples, 1200);
      expect(Math.min(low.power, high.power) / Math.max(low.power, high.power)).toBeGreaterThan(0.2);
      expect(low.centroidS).toBeLessThan(high.centroidS);
      expect(whole.keywordEndS! - whole.keywordStartS!).toBeGreaterThan(0.5);

      const prefix = augmentEnrollment(clip, createRng(`prefix-${k}`), 'p', { part: { from: 0, to: 0.35 } });
      expect(prefix.label).toBe(0);
      expect(near(prefix.samples, 300).power).toBeGreaterThan(10 * near(prefix.samples, 1200).power);

      const suffix = augmentEnrollment(clip, createRng(`suffix-${k}`), 's', { part: { from: 0.65, to: 1 } });
      expect(suffix.label).toBe(0);
      expect(near(suffix.samples, 1200).power).toBeGreaterThan(10 * near(suffix.samples, 300).power);
    }
  });

  it('puts a leader just before the part and a follower after it', () => {
    const speech = tone(3000, 0.5);
    for (let k = 0; k < 8; k++) {
      const led = augmentEnrollment(clip, createRng(`leader-${k}`), 'l', {
        part: { from: 0.55, to: 1 },
        leader: speech,
      });
      const leader = near(led.samples, 3000);
      const part = near(led.samples, 1200);
      expect(leader.power).toBeGreaterThan(0.1 * part.power);
      // The leader is 0.15–0.35 s long and ends 0–0.08 s before the part (0.3 s long, ±10 % speed).
      const gap = part.centroidS - leader.centroidS;
      expect(gap).toBeGreaterThan(0.15);
      expect(gap).toBeLessThan(0.45);

      const followed = augmentEnrollment(clip, createRng(`follower-${k}`), 'f', { follower: speech });
      expect(followed.label).toBe(1);
      expect(near(followed.samples, 3000).centroidS).toBeGreaterThan(followed.keywordEndS!);
    }
  });
});
