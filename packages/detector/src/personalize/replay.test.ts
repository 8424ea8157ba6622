import { DEFAULT_FEATURE_CONFIG } from '@kws/audio';
import { describe, expect, it } from 'vitest';
import { createRng } from '../data/random.ts';
import type { FeatureClip } from '../train/dataset.ts';
import type { WindowGeometry } from '../train/windows.ts';
import { decodeReplaySet, encodeReplaySet, ReplaySetError } from './replay.ts';

const g: WindowGeometry = {
  inputFrames: 20,
  numMfcc: 13,
  outputFrames: 10,
  featureConfig: DEFAULT_FEATURE_CONFIG,
};

function negative(i: number, frames: number): FeatureClip {
  const rng = createRng(`neg-${i}`);
  // Coefficient 0 spans a far wider range than the rest, as log energy does.
  const features = Float32Array.from(
    { length: frames * 13 },
    (_, k) => (k % 13 === 0 ? 40 : 3) * rng.normal(),
  );
  return { file: `n${i}`, label: 0, frames, features, keywordStartS: null, keywordEndS: null };
}

describe('replay set file', () => {
  it('round-trips windows of the negatives within half a quantization step per coefficient', () => {
    const clips = [negative(0, 20), negative(1, 35), negative(2, 12)];
    const bytes = encodeReplaySet(clips, g, 's', { note: 'test' });
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('KWSR');
    const set = decodeReplaySet(bytes);
    expect(set.clips.length).toBe(3);
    expect(set.sources).toEqual({ note: 'test' });
    expect(set.featureConfig).toEqual(DEFAULT_FEATURE_CONFIG);
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(8, 8 + new DataView(bytes.buffer).getUint32(4, true))),
    );
    const scales: number[] = header.scales;
    // Clip 0 is exactly one window long: its window is the clip itself.
    const got = set.clips[0];
    expect(got.frames).toBe(20);
    for (let k = 0; k < 20 * 13; k++) {
      expect(Math.abs(got.features[k] - clips[0].features[k])).toBeLessThanOrEqual(scales[k % 13] / 2 + 1e-6);
    }
    expect(scales[0]).toBeGreaterThan(5 * scales[1]);
    // Clip 2 is shorter than a window: edge frames repeat, every window has the full length.
    expect(set.clips[2].frames).toBe(20);
    expect(set.clips.every((c) => c.label === 0 && c.keywordEndS === null)).toBe(true);
  });

  it('refuses positives and malformed files with messages that say what was expected', () => {
    const positive = { ...negative(3, 20), label: 1 as const, keywordStartS: 0.1, keywordEndS: 0.2 };
    expect(() => encodeReplaySet([positive], g, 1)).toThrow(/is a positive; expected negatives only/);
    const good = encodeReplaySet([negative(4, 20)], g, 1);
    expect(() => decodeReplaySet(new Uint8Array(3))).toThrow(ReplaySetError);
    expect(() => decodeReplaySet(good.subarray(0, good.length - 1), 'x.kwsr')).toThrow(
      /x\.kwsr: 1 windows of 20×13 need 260 data bytes; the file holds 259/,
    );
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(4, 1e6, true);
    expect(() => decodeReplaySet(lying)).toThrow(/header says 1000000 bytes/);
  });
});
