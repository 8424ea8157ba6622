import { DEFAULT_FEATURE_CONFIG } from '@kws/audio';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../data/random.ts';
import type { FeatureClip } from './dataset.ts';
import {
  fillWindow,
  inputFrameCenterS,
  outputFrameInputIndex,
  sampleWindowStart,
  silenceFrame,
  TARGET_AFTER_S,
  TARGET_BEFORE_S,
  TARGET_CONTEXT_S,
  type WindowGeometry,
} from './windows.ts';

const G: WindowGeometry = {
  inputFrames: 148,
  numMfcc: 13,
  outputFrames: 74,
  featureConfig: DEFAULT_FEATURE_CONFIG,
};

/** A clip whose feature rows are their own frame index, so a window's content shows where it was cut. */
function clip(frames: number, keyword: [number, number] | null): FeatureClip {
  const features = new Float32Array(frames * 13);
  for (let f = 0; f < frames; f++) features.fill(f, f * 13, f * 13 + 13);
  return {
    file: 'c.wav',
    label: keyword ? 1 : 0,
    frames,
    features,
    keywordStartS: keyword?.[0] ?? null,
    keywordEndS: keyword?.[1] ?? null,
  };
}

function window(c: FeatureClip, start: number) {
  const x = new Float32Array(148 * 13);
  const t = new Float32Array(74);
  const w = new Float32Array(74);
  fillWindow(G, c, start, silenceFrame(DEFAULT_FEATURE_CONFIG), x, 0, t, w, 0);
  return { x, t, w };
}

describe('training windows', () => {
  it('places output frames on the input frame grid (stride 2: output j centres on input frame 2j + 0.5)', () => {
    expect(outputFrameInputIndex(G, 0)).toBe(0.5);
    expect(outputFrameInputIndex(G, 73)).toBe(146.5);
    // Frame f spans samples [160 f, 160 f + 400): its centre is (160 f + 200) / 16000 s.
    expect(inputFrameCenterS(G, 10)).toBeCloseTo(0.1125, 10);
  });

  it('marks the keyword end region 1, its edges "don\'t care", and everything else 0', () => {
    const c = clip(200, [0.4, 1.0]);
    const { x, t, w } = window(c, 10); // window starts 0.1 s into the clip
    expect(x[0]).toBe(10);
    expect(x[147 * 13]).toBe(157);
    for (let j = 0; j < 74; j++) {
      const centre = 0.1 + (2 * j + 0.5) * 0.01 + 0.0125;
      const inside = centre >= 1.0 - TARGET_BEFORE_S && centre <= 1.0 + TARGET_AFTER_S;
      const nearEdge = Math.abs(centre - 0.9) < 0.03 || Math.abs(centre - 1.2) < 0.03;
      expect(t[j], `frame ${j} at ${centre.toFixed(4)} s`).toBe(inside ? 1 : 0);
      expect(w[j], `weight ${j}`).toBe(nearEdge ? 0 : 1);
    }
    expect(t.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(14);
    const negative = window(clip(200, null), 10);
    expect(negative.t.every((v) => v === 0)).toBe(true);
    expect(negative.w.every((v) => v === 1)).toBe(true);
  });

  it('pads with the silence frame outside the clip', () => {
    const c = clip(100, null);
    const silence = silenceFrame(DEFAULT_FEATURE_CONFIG);
    expect(silence[0]).toBeLessThan(-80); // c0 of ln(1e-6) in all 40 bands: −13.8 · 40 / √40
    const { x } = window(c, -20);
    expect(Array.from(x.subarray(0, 13))).toEqual(Array.from(silence));
    expect(x[20 * 13]).toBe(0);
    expect(x[119 * 13]).toBe(99);
    expect(Array.from(x.subarray(120 * 13, 121 * 13))).toEqual(Array.from(silence));
  });

  it('always puts the whole keyword and its target region inside a positive window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 400 }), // clip frames
        fc.double({ min: 0.05, max: 0.95, noNaN: true }), // where the keyword starts, as a share of the room
        fc.double({ min: 0.3, max: 0.9, noNaN: true }), // keyword length, s
        fc.integer({ min: 0, max: 1000 }),
        (frames, where, length, seed) => {
          const duration = (400 + (frames - 1) * 160) / 16000;
          const room = duration - length - TARGET_AFTER_S - TARGET_CONTEXT_S - 0.02;
          fc.pre(room > 0);
          const start = TARGET_CONTEXT_S + where * room;
          const c = clip(frames, [start, start + length]);
          const s = sampleWindowStart(c, G, createRng(seed));
          const windowStartS = (s * 160) / 16000;
          const windowEndS = ((s + 147) * 160 + 400) / 16000;
          expect(windowStartS).toBeLessThanOrEqual(start - TARGET_CONTEXT_S + 1e-9);
          expect(windowEndS).toBeGreaterThanOrEqual(start + length + TARGET_AFTER_S - 1e-9);
          // The window stays on the clip where it can: it pads only when the clip is shorter.
          if (frames >= 148) expect(s >= 0 && s + 148 <= frames).toBe(true);
          else expect(s <= 0 && s + 148 >= frames).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('draws negative windows uniformly over every placement', () => {
    const c = clip(152, null); // 5 placements: 0…4
    const rng = createRng('uniform');
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 5000; i++) counts[sampleWindowStart(c, G, rng)]++;
    for (const n of counts) expect(n).toBeGreaterThan(900);
    const short = clip(140, null); // 9 placements: −8…0
    const seen = new Set(Array.from({ length: 2000 }, () => sampleWindowStart(short, G, rng)));
    expect([...seen].sort((a, b) => a - b)).toEqual([-8, -7, -6, -5, -4, -3, -2, -1, 0]);
  });
});
