import { describe, expect, it } from 'vitest';
import { decodeWav } from './decode.ts';
import { encodeWav } from './encode.ts';

describe('encodeWav', () => {
  it('writes the canonical 44-byte PCM header', () => {
    const bytes = encodeWav(new Float32Array(3), 22050);
    const view = new DataView(bytes.buffer);
    const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
    expect(bytes.length).toBe(50);
    expect([text(0), view.getUint32(4, true), text(8), text(12), view.getUint32(16, true)]).toEqual([
      'RIFF',
      42,
      'WAVE',
      'fmt ',
      16,
    ]);
    // tag, channels, rate, byte rate, block align, bits
    expect([
      view.getUint16(20, true),
      view.getUint16(22, true),
      view.getUint32(24, true),
      view.getUint32(28, true),
      view.getUint16(32, true),
      view.getUint16(34, true),
    ]).toEqual([1, 1, 22050, 44100, 2, 16]);
    expect([text(36), view.getUint32(40, true)]).toEqual(['data', 6]);
  });

  it('scales by 32768, rounds to nearest and clamps to int16', () => {
    const bytes = encodeWav([0.5, -0.5, 1, -1, 2, -2, 1.4 / 32768, 1.6 / 32768, -1.6 / 32768], 16000);
    const view = new DataView(bytes.buffer, 44);
    const codes = Array.from({ length: 9 }, (_, i) => view.getInt16(2 * i, true));
    expect(codes).toEqual([16384, -16384, 32767, -32768, 32767, -32768, 1, 2, -2]);
  });

  it('round-trips every value k / 32768 exactly through decodeWav', () => {
    const samples = new Float32Array(65536);
    for (let i = 0; i < samples.length; i++) samples[i] = (i - 32768) / 32768;
    const decoded = decodeWav(encodeWav(samples, 16000));
    expect(decoded.sampleRate).toBe(16000);
    expect(decoded.channels).toBe(1);
    expect(decoded.samples).toEqual(samples);
  });

  it('refuses non-finite samples and bad rates, naming them', () => {
    expect(() => encodeWav([0, Number.NaN], 16000)).toThrow(
      'encodeWav sample 1 is NaN, expected a finite number',
    );
    expect(() => encodeWav([0], 0)).toThrow('encodeWav sample rate must be a positive integer (Hz), got 0');
    expect(() => encodeWav([0], 44100.5)).toThrow('got 44100.5');
  });
});
