import { encodeWav } from '@kws/audio';

/** mulberry32: a small deterministic PRNG, so every generated clip is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FORMANTS = [
  { f: 700, bw: 130 },
  { f: 1220, bw: 90 },
  { f: 2600, bw: 160 },
];

export interface SpeechOptions {
  sampleRate?: number;
  /** Fundamental, Hz. */
  f0?: number;
  seed?: number;
  /** Peak amplitude (full scale 1). */
  peak?: number;
}

/**
 * A speech-like signal: syllables (≈ 0.22 s voiced, 0.06 s pauses) of a gliding harmonic tone whose
 * harmonics are weighted by three vowel formants, with a raised-sine envelope, between 0.1 s of faint
 * noise at each end. Not speech, but what energy/spectrum-based speech detectors treat as voiced sound.
 */
export function speechLike(durationS: number, options: SpeechOptions = {}): Float32Array {
  const { sampleRate = 16_000, f0 = 140, seed = 1, peak = 0.5 } = options;
  const random = prng(seed);
  const n = Math.round(durationS * sampleRate);
  const out = new Float32Array(n);
  const edge = Math.min(0.1, durationS / 4);
  const syllable = 0.22;
  const pause = 0.06;
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    let v = (random() - 0.5) * 0.002;
    if (t >= edge && t < durationS - edge) {
      const local = (t - edge) % (syllable + pause);
      if (local < syllable) {
        const env = Math.sin((Math.PI * local) / syllable) ** 2;
        const f = f0 * (1 + 0.1 * Math.sin(2 * Math.PI * 3 * t));
        phase += (2 * Math.PI * f) / sampleRate;
        let s = 0;
        for (let k = 1; k * f0 < 4000; k++) {
          let w = 0;
          for (const { f: fc, bw } of FORMANTS) w += 1 / (1 + ((k * f - fc) / bw) ** 2);
          s += (w / k) * Math.sin(k * phase);
        }
        v += env * s;
      }
    }
    out[i] = v;
  }
  let max = 0;
  for (const v of out) max = Math.max(max, Math.abs(v));
  for (let i = 0; i < n; i++) out[i] = (out[i] / max) * peak;
  return out;
}

export function speechWav(durationS: number, options: SpeechOptions = {}): Uint8Array {
  return encodeWav(speechLike(durationS, options), options.sampleRate ?? 16_000);
}

export function silenceWav(durationS: number, sampleRate = 16_000): Uint8Array {
  return encodeWav(new Float32Array(Math.round(durationS * sampleRate)), sampleRate);
}

/** Speech-like audio driven far into full scale: a large share of samples sit at ±1. */
export function clippedWav(durationS: number): Uint8Array {
  const s = speechLike(durationS, { peak: 8 });
  for (let i = 0; i < s.length; i++) s[i] = Math.max(-1, Math.min(1, s[i]));
  return encodeWav(s, 16_000);
}

/** White noise at a steady level (no syllable structure). */
export function noiseWav(durationS: number, amplitude = 0.3, seed = 7): Uint8Array {
  const random = prng(seed);
  const s = new Float32Array(Math.round(durationS * 16_000));
  for (let i = 0; i < s.length; i++) s[i] = (random() * 2 - 1) * amplitude;
  return encodeWav(s, 16_000);
}

export interface RawWavOptions {
  formatTag?: number;
  channels?: number;
  sampleRate?: number;
  bits?: number;
  data: Uint8Array;
  /** Declared data chunk size, when it should lie. */
  dataSize?: number;
  magic?: string;
}

/** A hand-built RIFF/WAVE file, for inputs `encodeWav` can't produce (other codecs, lying sizes, stereo). */
export function rawWav(o: RawWavOptions): Uint8Array {
  const { formatTag = 1, channels = 1, sampleRate = 16_000, bits = 16, data, magic = 'RIFF' } = o;
  const bytes = new Uint8Array(44 + data.length);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i);
  };
  ascii(0, magic);
  view.setUint32(4, 36 + data.length, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, formatTag, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, (sampleRate * channels * bits) / 8, true);
  view.setUint16(32, (channels * bits) / 8, true);
  view.setUint16(34, bits, true);
  ascii(36, 'data');
  view.setUint32(40, o.dataSize ?? data.length, true);
  bytes.set(data, 44);
  return bytes;
}

/** 16-bit PCM samples of `speechLike` at any rate and channel count (channels carry the same signal). */
export function pcm16(durationS: number, sampleRate: number, channels: number): Uint8Array {
  const mono = speechLike(durationS, { sampleRate });
  const out = new Uint8Array(mono.length * channels * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < mono.length; i++) {
    for (let c = 0; c < channels; c++)
      view.setInt16((i * channels + c) * 2, Math.round(mono[i] * 32767), true);
  }
  return out;
}
