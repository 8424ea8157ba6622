import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ascii, BITS, chunk, type SampleFormat, wavFile } from '../../test/wav-builder.ts';
import { decodeWav } from './decode.ts';

const goodDir = new URL('../../test/fixtures/good/', import.meta.url);

describe('decodeWav on files from independent writers (SciPy, SoX)', () => {
  const expected: Record<string, { sampleRate: number; channels: number; samples: number[] }> = JSON.parse(
    readFileSync(new URL('expected.json', goodDir), 'utf8'),
  );
  for (const [name, want] of Object.entries(expected)) {
    it(name, () => {
      const got = decodeWav(readFileSync(new URL(name, goodDir)));
      expect(got.sampleRate).toBe(want.sampleRate);
      expect(got.channels).toBe(want.channels);
      expect(Array.from(got.samples)).toEqual(want.samples.map(Math.fround));
    });
  }
});

/** Integer codes (or float values) that cover the extremes, zero and ±1 of each format, and their meaning. */
function codesFor(format: SampleFormat, count: number): { stored: number[]; value: number[] } {
  const bits = BITS[format];
  if (format.startsWith('float')) {
    const value = Array.from({ length: count }, (_, i) =>
      Math.fround(Math.sin(i * 0.7) * (i % 3 === 0 ? 1.25 : 0.8)),
    );
    return { stored: value, value };
  }
  const full = 2 ** (bits - 1);
  const signed = Array.from({ length: count }, (_, i) => {
    const special = [-full, full - 1, 0, 1, -1];
    return i < special.length ? special[i] : Math.round((Math.sin(i * 1.3) * 0.999 + 0) * (full - 1));
  });
  const stored = format === 'pcm8' ? signed.map((v) => v + 128) : signed;
  return { stored, value: signed.map((v) => v / full) };
}

describe('decodeWav good-file matrix', () => {
  const formats: SampleFormat[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'];
  const rates = [8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000];
  for (const format of formats) {
    for (const extensible of [false, true]) {
      for (const channels of [1, 2, 5]) {
        it(`${format}${extensible ? ' extensible' : ''}, ${channels} channel(s), every rate`, () => {
          const frames = 23;
          const { stored, value } = codesFor(format, frames * channels);
          for (const rate of rates) {
            const got = decodeWav(wavFile(format, channels, rate, stored, { extensible }));
            expect(got.sampleRate).toBe(rate);
            expect(got.channels).toBe(channels);
            expect(got.samples.length).toBe(frames * channels);
            expect(Array.from(got.samples)).toEqual(value.map(Math.fround));
          }
        });
      }
    }
  }

  it('full-scale integer codes map to exactly -1 and (2^(b-1) - 1) / 2^(b-1)', () => {
    expect(Array.from(decodeWav(wavFile('pcm16', 1, 16000, [-32768, 32767, 0])).samples)).toEqual([
      -1,
      Math.fround(32767 / 32768),
      0,
    ]);
    expect(Array.from(decodeWav(wavFile('pcm8', 1, 16000, [0, 255, 128])).samples)).toEqual([
      -1,
      127 / 128,
      0,
    ]);
    expect(Array.from(decodeWav(wavFile('pcm24', 1, 16000, [-8_388_608, 8_388_607])).samples)).toEqual([
      -1,
      Math.fround(8_388_607 / 8_388_608),
    ]);
  });

  it('skips unknown chunks before and after the data, honouring odd-size pad bytes', () => {
    const list = chunk('LIST', ascii('INFOISFT'));
    const odd = chunk('junk', ascii('abc')); // 3 bytes + pad
    const bytes = wavFile('pcm16', 1, 16000, [100, -200, 300], { before: [odd, list], after: [odd, list] });
    expect(Array.from(decodeWav(bytes).samples)).toEqual([100, -200, 300].map((v) => Math.fround(v / 32768)));
  });

  it('accepts an odd-sized data chunk whose pad byte is missing at the very end (SciPy writes these)', () => {
    const withPad = wavFile('pcm8', 1, 8000, [1, 2, 3]);
    const bytes = withPad.slice(0, withPad.length - 1);
    new DataView(bytes.buffer).setUint32(4, bytes.length - 8, true);
    expect(decodeWav(bytes).samples.length).toBe(3);
  });

  it('ignores bytes after the RIFF chunk and respects a view’s byteOffset', () => {
    const file = wavFile('pcm16', 1, 16000, [7, 8, 9]);
    const host = new Uint8Array(file.length + 20).fill(0xee);
    host.set(file, 10);
    const got = decodeWav(host.subarray(10, 10 + file.length + 5));
    expect(Array.from(got.samples)).toEqual([7, 8, 9].map((v) => Math.fround(v / 32768)));
  });

  it('keeps float samples beyond full scale as stored (no clipping)', () => {
    const got = decodeWav(wavFile('float32', 1, 16000, [1.5, -3]));
    expect(Array.from(got.samples)).toEqual([1.5, -3]);
  });
});
