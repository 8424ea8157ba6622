/**
 * Writes the malformed-WAV corpus to test/fixtures/bad/ (committed). Each file breaks exactly one rule; the
 * decoder's expected reaction to each is listed in src/wav/decode-bad.test.ts, not here.
 *
 *   cd packages/audio && node --import tsx scripts/make-bad-wavs.ts
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ascii, chunk, concat, fmtBody, riff, sampleBytes, wavFile } from '../test/wav-builder.ts';

const outDir = fileURLToPath(new URL('../test/fixtures/bad/', import.meta.url));

/** 2205 samples (0.14 s) of a 16-bit mono 440 Hz tone at 16 kHz: the good file most cases start from. */
const tone = Array.from({ length: 2205 }, (_, i) =>
  Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 16000)),
);
const good = wavFile('pcm16', 1, 16000, tone);
const pcm16Fmt = chunk('fmt ', fmtBody({ tag: 1, channels: 1, sampleRate: 16000, bits: 16 }));
const toneData = chunk('data', sampleBytes('pcm16', tone));

function withFmt(fields: Parameters<typeof fmtBody>[0], data: Uint8Array): Uint8Array {
  return riff([chunk('fmt ', fmtBody(fields)), chunk('data', data)]);
}

function floats(format: 'float32' | 'float64', poison: number): Uint8Array {
  const values = Array.from({ length: 64 }, (_, i) => 0.25 * Math.sin(i / 3));
  values[37] = poison;
  return withFmt(
    { tag: 3, channels: 2, sampleRate: 16000, bits: format === 'float32' ? 32 : 64 },
    sampleBytes(format, values),
  );
}

function patchU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

const cases: Record<string, Uint8Array> = {
  'empty.wav': new Uint8Array(0),
  'truncated-riff-header.wav': good.slice(0, 10),
  'truncated-fmt.wav': good.slice(0, 28),
  'truncated-data.wav': good.slice(0, 44 + 1000),
  'truncated-chunk-header.wav': riff([pcm16Fmt, toneData, ascii('LIS')]),
  'wrong-riff-magic.wav': concat([ascii('OggS'), good.slice(4)]),
  'wrong-wave-magic.wav': riff([pcm16Fmt, toneData], { form: 'AVI ' }),
  'big-endian-rifx.wav': concat([ascii('RIFX'), good.slice(4)]),
  'rf64.wav': concat([ascii('RF64'), good.slice(4)]),
  'riff-size-too-small.wav': patchU32(good, 4, 2),
  'riff-size-4gb.wav': patchU32(good, 4, 0xffff_ffff),
  'odd-chunk-missing-pad.wav': riff([pcm16Fmt, chunk('LIST', ascii('INFOx'), { pad: false }), toneData]),
  'odd-fmt-size.wav': riff([
    chunk('fmt ', fmtBody({ tag: 1, channels: 1, sampleRate: 16000, bits: 16 }).slice(0, 13)),
    toneData,
  ]),
  'data-beyond-end.wav': riff([pcm16Fmt, chunk('data', sampleBytes('pcm16', tone), { declaredSize: 88200 })]),
  'data-size-4gb.wav': riff([
    pcm16Fmt,
    chunk('data', sampleBytes('pcm16', tone), { declaredSize: 0xffff_ffff }),
  ]),
  'list-size-4gb.wav': riff([
    pcm16Fmt,
    chunk('LIST', ascii('INFO'), { declaredSize: 0xffff_fff0 }),
    toneData,
  ]),
  'zero-frames.wav': riff([pcm16Fmt, chunk('data', new Uint8Array(0))]),
  'partial-frame.wav': withFmt(
    { tag: 1, channels: 2, sampleRate: 16000, bits: 16 },
    sampleBytes('pcm8', [1, 2, 3, 4, 5, 6]),
  ),
  'missing-fmt.wav': riff([toneData]),
  'missing-data.wav': riff([pcm16Fmt, chunk('LIST', ascii('INFO'))]),
  'fmt-after-data.wav': riff([toneData, pcm16Fmt]),
  'two-data-chunks.wav': riff([pcm16Fmt, toneData, toneData]),
  'two-fmt-chunks.wav': riff([pcm16Fmt, pcm16Fmt, toneData]),
  'alaw.wav': withFmt({ tag: 6, channels: 1, sampleRate: 8000, bits: 8 }, new Uint8Array(800).fill(0xd5)),
  'mulaw.wav': withFmt({ tag: 7, channels: 1, sampleRate: 8000, bits: 8 }, new Uint8Array(800).fill(0xff)),
  'ms-adpcm.wav': withFmt(
    { tag: 2, channels: 1, sampleRate: 16000, bits: 4, blockAlign: 256 },
    new Uint8Array(1024),
  ),
  'ima-adpcm.wav': withFmt(
    { tag: 0x11, channels: 1, sampleRate: 16000, bits: 4, blockAlign: 256 },
    new Uint8Array(1024),
  ),
  'mp3-in-wav.wav': withFmt(
    { tag: 0x55, channels: 1, sampleRate: 16000, bits: 0, blockAlign: 1 },
    new Uint8Array(417),
  ),
  'float32-nan.wav': floats('float32', Number.NaN),
  'float32-inf.wav': floats('float32', Number.POSITIVE_INFINITY),
  'float64-neg-inf.wav': floats('float64', Number.NEGATIVE_INFINITY),
  'float64-beyond-float32.wav': floats('float64', 1e300),
  'rate-1hz.wav': withFmt({ tag: 1, channels: 1, sampleRate: 1, bits: 16 }, sampleBytes('pcm16', tone)),
  'rate-7999hz.wav': withFmt({ tag: 1, channels: 1, sampleRate: 7999, bits: 16 }, sampleBytes('pcm16', tone)),
  'rate-10mhz.wav': withFmt(
    { tag: 1, channels: 1, sampleRate: 10_000_000, bits: 16 },
    sampleBytes('pcm16', tone),
  ),
  'zero-channels.wav': withFmt(
    { tag: 1, channels: 0, sampleRate: 16000, bits: 16, blockAlign: 2 },
    sampleBytes('pcm16', tone),
  ),
  'block-align-mismatch.wav': withFmt(
    { tag: 1, channels: 2, sampleRate: 16000, bits: 16, blockAlign: 3 },
    sampleBytes('pcm16', tone),
  ),
  'bits-12.wav': withFmt(
    { tag: 1, channels: 1, sampleRate: 16000, bits: 12, blockAlign: 2 },
    sampleBytes('pcm16', tone),
  ),
  'float-16bit.wav': withFmt(
    { tag: 3, channels: 1, sampleRate: 16000, bits: 16 },
    sampleBytes('pcm16', tone),
  ),
  'extensible-short-fmt.wav': riff([
    chunk(
      'fmt ',
      concat([fmtBody({ tag: 0xfffe, channels: 1, sampleRate: 16000, bits: 16 }), new Uint8Array(2)]),
    ),
    toneData,
  ]),
  'extensible-bad-guid.wav': withFmt(
    {
      tag: 0xfffe,
      channels: 1,
      sampleRate: 16000,
      bits: 16,
      extensible: { subformat: 1, guidTail: Array(14).fill(0x42) },
    },
    sampleBytes('pcm16', tone),
  ),
  'extensible-alaw.wav': withFmt(
    { tag: 0xfffe, channels: 1, sampleRate: 8000, bits: 8, extensible: { subformat: 6 } },
    new Uint8Array(800).fill(0xd5),
  ),
  'extensible-valid-bits-over-container.wav': withFmt(
    { tag: 0xfffe, channels: 1, sampleRate: 16000, bits: 16, extensible: { subformat: 1, validBits: 24 } },
    sampleBytes('pcm16', tone),
  ),
  'extensible-small-cbsize.wav': withFmt(
    { tag: 0xfffe, channels: 1, sampleRate: 16000, bits: 16, extensible: { subformat: 1, cbSize: 0 } },
    sampleBytes('pcm16', tone),
  ),
};

mkdirSync(outDir, { recursive: true });
for (const name of readdirSync(outDir)) if (name.endsWith('.wav')) rmSync(outDir + name);
for (const [name, bytes] of Object.entries(cases)) writeFileSync(outDir + name, bytes);
process.stdout.write(`wrote ${Object.keys(cases).length} files to ${outDir}\n`);
