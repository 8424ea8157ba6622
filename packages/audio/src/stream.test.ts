import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureSignal } from '../test/mfcc-fixtures.ts';
import { mfcc } from './mfcc/mfcc.ts';
import { createMfccStream } from './stream.ts';

function streamAll(
  signal: Float32Array,
  cuts: number[],
  config = {},
): { frames: number; data: Float32Array } {
  const stream = createMfccStream(config);
  const parts: Float32Array[] = [];
  let frames = 0;
  let at = 0;
  for (const size of cuts) {
    const out = stream.push(signal.subarray(at, Math.min(signal.length, at + size)));
    expect(out.data.length).toBe(out.frames * out.coeffs);
    parts.push(out.data);
    frames += out.frames;
    at = Math.min(signal.length, at + size);
  }
  const rest = stream.push(signal.subarray(at));
  parts.push(rest.data);
  frames += rest.frames;
  const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.length;
  }
  return { frames, data };
}

describe('createMfccStream', () => {
  const speech = fixtureSignal('speech-like');
  const batch = mfcc(speech);

  it('gives bit-identical frames to the batch function for any chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 3000 })), {
          maxLength: 60,
        }),
        fc.integer({ min: 0, max: speech.length }),
        (cuts, length) => {
          const signal = speech.subarray(0, length);
          const expected = mfcc(signal);
          const got = streamAll(signal, cuts);
          expect(got.frames).toBe(expected.frames);
          expect(got.data).toEqual(expected.data);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sample-by-sample pushing yields each frame exactly when its last sample arrives', () => {
    const stream = createMfccStream();
    const arrivals: number[] = [];
    for (let i = 0; i < 1200; i++) {
      if (stream.push(speech.subarray(i, i + 1)).frames > 0) arrivals.push(i + 1);
    }
    expect(arrivals).toEqual([400, 560, 720, 880, 1040, 1200]);
  });

  it('works with a non-default configuration', () => {
    const config = { frame_length: 480, frame_step: 240, fft_length: 1024, num_mfcc: 20, num_mel_bins: 64 };
    const got = streamAll(speech, [1, 479, 0, 241, 7000], config);
    expect(got.data).toEqual(mfcc(speech, config).data);
  });

  it('reset starts a new signal', () => {
    const stream = createMfccStream();
    stream.push(speech.subarray(0, 5000));
    stream.reset();
    const out = stream.push(speech);
    expect(out.frames).toBe(batch.frames);
    expect(out.data).toEqual(batch.data);
  });

  it('exposes its resolved, frozen config and rejects non-Float32Array chunks', () => {
    const stream = createMfccStream({ num_mfcc: 10 });
    expect(stream.config.num_mfcc).toBe(10);
    expect(stream.config.frame_length).toBe(400);
    expect(Object.isFrozen(stream.config)).toBe(true);
    expect(() => stream.push([1, 2] as unknown as Float32Array)).toThrow(
      'MfccStream.push expects a Float32Array',
    );
  });
});
