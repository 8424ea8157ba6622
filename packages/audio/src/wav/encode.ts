/**
 * Writes mono 16-bit PCM WAV (the canonical 44-byte header). Samples are scaled by 32768 — the inverse of
 * `decodeWav`'s 1/32768 — rounded to nearest and clamped to [-32768, 32767], so full scale +1.0 becomes
 * 32767. Values k/32768 round-trip exactly.
 */

const HEADER_BYTES = 44;
/** RIFF sizes are uint32: the header plus the data must fit. */
const MAX_SAMPLES = Math.floor((0xffff_ffff - HEADER_BYTES) / 2);

export function encodeWav(
  samples: Float32Array | Float64Array | readonly number[],
  sampleRate: number,
): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffff_ffff / 2) {
    throw new RangeError(`encodeWav sample rate must be a positive integer (Hz), got ${sampleRate}`);
  }
  if (samples.length > MAX_SAMPLES) {
    throw new RangeError(`encodeWav got ${samples.length} samples, a WAV file holds at most ${MAX_SAMPLES}`);
  }
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(HEADER_BYTES + dataBytes);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string): void => {
    for (let i = 0; i < 4; i++) bytes[at + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, HEADER_BYTES - 8 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i];
    if (!Number.isFinite(value))
      throw new RangeError(`encodeWav sample ${i} is ${value}, expected a finite number`);
    const q = Math.round(value * 32768);
    view.setInt16(HEADER_BYTES + 2 * i, Math.min(32767, Math.max(-32768, q)), true);
  }
  return bytes;
}
