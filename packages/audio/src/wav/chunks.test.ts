import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, fmtBody, riff, sampleBytes } from '../../test/wav-builder.ts';
import { AudioFormatError } from '../errors.ts';
import { readWavChunks } from './chunks.ts';
import { decodeWav } from './decode.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kws-wav-chunks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(path: string, frames: number) {
  const pieces = [];
  for await (const piece of readWavChunks(path, frames)) pieces.push(piece);
  return pieces;
}

function joined(pieces: { samples: Float32Array }[]): Float32Array {
  const out = new Float32Array(pieces.reduce((n, p) => n + p.samples.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p.samples, at);
    at += p.samples.length;
  }
  return out;
}

describe('readWavChunks', () => {
  it('yields pieces that join to exactly what decodeWav reads from the whole file (stereo, chunks around data)', async () => {
    const values = Array.from({ length: 2 * 1001 }, (_, i) => ((i * 7919) % 65536) - 32768);
    const bytes = riff([
      chunk('LIST', new Uint8Array(5)), // odd-sized, padded
      chunk('fmt ', fmtBody({ tag: 1, channels: 2, sampleRate: 22_050, bits: 16 })),
      chunk('data', sampleBytes('pcm16', values)),
      chunk('LIST', new Uint8Array(6)),
    ]);
    const path = join(dir, 'stereo.wav');
    await writeFile(path, bytes);
    const whole = decodeWav(bytes);
    for (const frames of [1, 100, 1000, 1001, 5000]) {
      const pieces = await collect(path, frames);
      expect(pieces.length).toBe(Math.ceil(1001 / frames));
      for (const p of pieces) {
        expect(p.sampleRate).toBe(22_050);
        expect(p.channels).toBe(2);
        expect(p.samples.length).toBeLessThanOrEqual(2 * frames);
      }
      expect(joined(pieces)).toEqual(whole.samples);
    }
  });

  it('reads float32 files too', async () => {
    const values = Array.from({ length: 777 }, (_, i) => Math.sin(i / 10));
    const bytes = riff([
      chunk('fmt ', fmtBody({ tag: 3, channels: 1, sampleRate: 16_000, bits: 32 })),
      chunk('data', sampleBytes('float32', values)),
    ]);
    const path = join(dir, 'float.wav');
    await writeFile(path, bytes);
    expect(joined(await collect(path, 64))).toEqual(decodeWav(bytes).samples);
  });

  it('rejects truncated and malformed files with the decoder’s errors', async () => {
    const good = sampleBytes('pcm16', [1, 2, 3, 4]);
    const truncated = riff([
      chunk('fmt ', fmtBody({ tag: 1, channels: 1, sampleRate: 16_000, bits: 16 })),
      chunk('data', good, { declaredSize: 4000 }),
    ]);
    await writeFile(join(dir, 'truncated.wav'), truncated);
    await expect(collect(join(dir, 'truncated.wav'), 10)).rejects.toThrow(
      /data chunk says 4000 bytes but only 8 remain/,
    );
    await writeFile(join(dir, 'text.wav'), new TextEncoder().encode('hello, this is not audio'));
    await expect(collect(join(dir, 'text.wav'), 10)).rejects.toBeInstanceOf(AudioFormatError);
    const adpcm = riff([
      chunk('fmt ', fmtBody({ tag: 2, channels: 1, sampleRate: 16_000, bits: 16 })),
      chunk('data', good),
    ]);
    await writeFile(join(dir, 'adpcm.wav'), adpcm);
    await expect(collect(join(dir, 'adpcm.wav'), 10)).rejects.toThrow(/ADPCM/);
    await expect(collect(join(dir, 'missing.wav'), 10)).rejects.toThrow(/ENOENT/);
    await expect(collect(join(dir, 'adpcm.wav'), 0)).rejects.toThrow(/chunk size must be an integer ≥ 1/);
  });
});
