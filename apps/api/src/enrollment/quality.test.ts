import * as audio from '@kws/audio';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rawWav, speechWav } from '../../test/audio.ts';
import { errors, KwsError } from '../errors.ts';
import { checkClip, MAX_DURATION_S } from './quality.ts';

vi.mock('@kws/audio', async (importOriginal) => {
  const actual = await importOriginal<typeof audio>();
  return { ...actual, toMono16k: vi.fn(actual.toMono16k) };
});

afterEach(() => {
  vi.mocked(audio.toMono16k).mockClear();
});

function rejection(fn: () => unknown): KwsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KwsError);
    return err as KwsError;
  }
  throw new Error('expected checkClip to throw');
}

// Both found by the hostile-input fuzz of issue #7 (reliability/test/hostile-fuzz.test.ts).
describe('checkClip on hostile files', () => {
  it('rejects an over-long file from its decoded length, without resampling it', () => {
    // 8-bit 8 kHz: 5 MB is 655 s; resampling that to 16 kHz took over 4 s of the event loop per file.
    const data = new Uint8Array(5 * 1024 * 1024).fill(128);
    const err = rejection(() =>
      checkClip('long.wav', rawWav({ sampleRate: 8000, bits: 8, channels: 1, data })),
    );
    expect(err.code).toBe(errors.BAD_AUDIO.code);
    expect(err.message).toBe(`file "long.wav": too long: 655.36 s, expected at most ${MAX_DURATION_S} s`);
    expect(audio.toMono16k).not.toHaveBeenCalled();
  });

  it('still resamples and accepts a clip within the limits', () => {
    expect(checkClip('ok.wav', speechWav(1, { sampleRate: 44_100 })).durationS).toBeCloseTo(1, 2);
    expect(audio.toMono16k).toHaveBeenCalledTimes(1);
  });

  it('answers float samples that overflow while resampling with KWS_ERR_BAD_AUDIO, not a 500', () => {
    const data = new Uint8Array(44_100 * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < 44_100; i++) view.setFloat32(4 * i, i < 22_050 ? -3.4e38 : 3.4e38, true);
    const err = rejection(() =>
      checkClip('huge.wav', rawWav({ formatTag: 3, bits: 32, sampleRate: 44_100, data })),
    );
    expect(err.code).toBe(errors.BAD_AUDIO.code);
    expect(err.message).toMatch(
      /^file "huge\.wav": not a usable WAV file: resampling 44100 Hz to 16000 Hz overflows/,
    );
  });
});
