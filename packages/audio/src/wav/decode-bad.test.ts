import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wavFile } from '../../test/wav-builder.ts';
import { AudioFormatError, type AudioFormatErrorCode } from '../errors.ts';
import { decodeWav } from './decode.ts';

const badDir = new URL('../../test/fixtures/bad/', import.meta.url);

/** What each committed malformed file (scripts/make-bad-wavs.ts) must produce. */
const expected: Record<string, [AudioFormatErrorCode, string]> = {
  'empty.wav': ['TRUNCATED', 'the file is 0 bytes, a RIFF/WAVE header needs 12'],
  'truncated-riff-header.wav': ['TRUNCATED', 'the file is 10 bytes, a RIFF/WAVE header needs 12'],
  'truncated-fmt.wav': ['TRUNCATED', 'WAV fmt chunk says 16 bytes but only 8 remain'],
  'truncated-data.wav': ['TRUNCATED', 'WAV data chunk says 4410 bytes but only 1000 remain'],
  'truncated-chunk-header.wav': ['TRUNCATED', 'chunk header at offset 4454 truncated: 3 bytes left'],
  'wrong-riff-magic.wav': ['BAD_MAGIC', 'not a WAV file: it starts with "OggS", expected "RIFF"'],
  'wrong-wave-magic.wav': ['BAD_MAGIC', 'RIFF form type is "AVI ", expected "WAVE"'],
  'big-endian-rifx.wav': ['BAD_MAGIC', 'big-endian RIFX'],
  'rf64.wav': ['BAD_MAGIC', 'RF64'],
  'riff-size-too-small.wav': ['BAD_CHUNK', 'RIFF size is 2 bytes'],
  'riff-size-4gb.wav': ['TRUNCATED', 'RIFF header says the file is 4294967303 bytes but it is only 4454'],
  'odd-chunk-missing-pad.wav': [
    'BAD_CHUNK',
    'odd-sized WAV LIST chunk at offset 36 (5 bytes) lacks its pad byte',
  ],
  'odd-fmt-size.wav': ['BAD_CHUNK', 'fmt chunk is 13 bytes, expected at least 16'],
  'data-beyond-end.wav': ['TRUNCATED', 'WAV data chunk says 88200 bytes but only 4410 remain'],
  'data-size-4gb.wav': ['TRUNCATED', 'WAV data chunk says 4294967295 bytes but only 4410 remain'],
  'list-size-4gb.wav': ['TRUNCATED', 'WAV LIST chunk says 4294967280 bytes'],
  'zero-frames.wav': ['NO_FRAMES', 'WAV data chunk holds 0 frames'],
  'partial-frame.wav': ['BAD_BLOCK_ALIGN', 'data chunk is 6 bytes, not a whole number of 4-byte frames'],
  'missing-fmt.wav': ['MISSING_CHUNK', 'no fmt chunk'],
  'missing-data.wav': ['MISSING_CHUNK', 'no data chunk'],
  'fmt-after-data.wav': ['CHUNK_ORDER', 'fmt chunk at offset 4430 comes after the data chunk at offset 12'],
  'two-data-chunks.wav': ['BAD_CHUNK', 'second data chunk'],
  'two-fmt-chunks.wav': ['BAD_CHUNK', 'second fmt chunk'],
  'alaw.wav': ['UNSUPPORTED_CODEC', 'format tag 0x0006 (A-law)'],
  'mulaw.wav': ['UNSUPPORTED_CODEC', 'format tag 0x0007 (µ-law)'],
  'ms-adpcm.wav': ['UNSUPPORTED_CODEC', 'format tag 0x0002 (Microsoft ADPCM)'],
  'ima-adpcm.wav': ['UNSUPPORTED_CODEC', 'format tag 0x0011 (IMA ADPCM)'],
  'mp3-in-wav.wav': ['UNSUPPORTED_CODEC', 'format tag 0x0055 (MPEG layer 3)'],
  'float32-nan.wav': ['NON_FINITE_SAMPLE', 'float sample at frame 18, channel 1 is NaN'],
  'float32-inf.wav': ['NON_FINITE_SAMPLE', 'float sample at frame 18, channel 1 is Infinity'],
  'float64-neg-inf.wav': ['NON_FINITE_SAMPLE', 'float sample at frame 18, channel 1 is -Infinity'],
  'float64-beyond-float32.wav': ['NON_FINITE_SAMPLE', 'is 1e+300, beyond the float32 range'],
  'rate-1hz.wav': ['BAD_SAMPLE_RATE', 'sample rate 1 Hz is out of range, expected 8000–192000 Hz'],
  'rate-7999hz.wav': ['BAD_SAMPLE_RATE', 'sample rate 7999 Hz is out of range'],
  'rate-10mhz.wav': ['BAD_SAMPLE_RATE', 'sample rate 10000000 Hz is out of range'],
  'zero-channels.wav': ['BAD_CHANNELS', 'fmt chunk says 0 channels'],
  'block-align-mismatch.wav': [
    'BAD_BLOCK_ALIGN',
    'fmt block align is 3 bytes but 2 channel(s) × 16 bits need 4',
  ],
  'bits-12.wav': ['UNSUPPORTED_BIT_DEPTH', '12-bit integer PCM is not supported'],
  'float-16bit.wav': ['UNSUPPORTED_BIT_DEPTH', '16-bit IEEE float is not supported'],
  'extensible-short-fmt.wav': [
    'BAD_CHUNK',
    'WAVE_FORMAT_EXTENSIBLE fmt chunk is 18 bytes, expected at least 40',
  ],
  'extensible-bad-guid.wav': ['UNSUPPORTED_CODEC', 'subformat {42420001-4242-4242-4242-424242424242}'],
  'extensible-alaw.wav': ['UNSUPPORTED_CODEC', 'format tag 0x0006 (A-law)'],
  'extensible-valid-bits-over-container.wav': ['BAD_CHUNK', '24 valid bits in a 16-bit container'],
  'extensible-small-cbsize.wav': ['BAD_CHUNK', 'extension is 0 bytes, expected at least 22'],
};

function decodeError(bytes: Uint8Array): unknown {
  try {
    decodeWav(bytes);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('decodeWav on the committed malformed corpus', () => {
  const files = readdirSync(badDir).filter((name) => name.endsWith('.wav'));

  it('has an expectation for every file and a file for every expectation', () => {
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [name, [code, fragment]] of Object.entries(expected)) {
    it(`${name} → ${code}`, () => {
      const error = decodeError(readFileSync(new URL(name, badDir)));
      expect(error).toBeInstanceOf(AudioFormatError);
      expect((error as AudioFormatError).code).toBe(code);
      expect((error as AudioFormatError).message).toContain(fragment);
    });
  }
});

describe('decodeWav on arbitrary damage', () => {
  const good = wavFile(
    'pcm24',
    2,
    44100,
    Array.from({ length: 200 }, (_, i) => (i * 40_009) % 8_388_607),
    { extensible: true },
  );

  it('every truncation of a good file throws AudioFormatError, never a RangeError', () => {
    for (let length = 0; length < good.length; length++) {
      const error = decodeError(good.subarray(0, length));
      expect(error, `length ${length}`).toBeInstanceOf(AudioFormatError);
    }
  });

  it('random byte overwrites either decode or throw AudioFormatError (no out-of-bounds reads)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(good.length),
        (edits, cut) => {
          // A view at a non-zero byteOffset: the decoder must respect both ends of it. Its DataView throws
          // RangeError on any read past the end, which would fail this property.
          const padded = new Uint8Array(good.length + 64).fill(0x41);
          padded.set(good, 32);
          for (const [at, value] of edits) padded[32 + at] = value;
          const bytes = padded.subarray(32, 32 + cut);
          const error = decodeError(bytes);
          if (error !== undefined) expect(error).toBeInstanceOf(AudioFormatError);
          else expect(() => decodeWav(bytes)).not.toThrow();
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuses a non-Uint8Array argument with a TypeError naming it', () => {
    expect(() => decodeWav('RIFF' as unknown as Uint8Array)).toThrow(
      'decodeWav expects a Uint8Array, got string',
    );
  });
});
