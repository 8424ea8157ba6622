/** From a decoded file to the front end's input: mono float32 at 16 kHz (DESIGN §1). */
import { AudioFormatError } from './errors.ts';
import { resample } from './resample.ts';
import type { DecodedAudio } from './wav/decode.ts';

export const TARGET_SAMPLE_RATE = 16_000;

/**
 * Averages the channels of each frame, then resamples (band-limited) to 16 kHz. Throws an `AudioFormatError`
 * (`NON_FINITE_SAMPLE`) when float samples near the float32 limit overshoot it while resampling: such a file
 * decodes, but is not audio anything downstream can measure.
 */
export function toMono16k(decoded: DecodedAudio): Float32Array<ArrayBuffer> {
  const { channels, samples, sampleRate } = decoded;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`toMono16k needs at least 1 channel, got ${channels}`);
  }
  if (samples.length % channels !== 0) {
    throw new RangeError(
      `toMono16k got ${samples.length} samples, not a whole number of ${channels}-channel frames`,
    );
  }
  const downmixed = downmix(samples, channels);
  // Already at 16 kHz: the decoded samples (or their downmix) are the front end's input as they are, so
  // they are returned without a copy — the caller owns the decoded audio either way. Decoding rejected
  // non-finite samples, and without resampling nothing can overflow.
  if (sampleRate === TARGET_SAMPLE_RATE && downmixed.buffer instanceof ArrayBuffer) {
    return downmixed as Float32Array<ArrayBuffer>;
  }
  const mono = resample(downmixed, sampleRate, TARGET_SAMPLE_RATE);
  for (let i = 0; i < mono.length; i++) {
    if (!Number.isFinite(mono[i])) {
      throw new AudioFormatError(
        'NON_FINITE_SAMPLE',
        `resampling ${sampleRate} Hz to ${TARGET_SAMPLE_RATE} Hz overflows float32 at output sample ${i}: ` +
          'the file holds float samples near ±3.4e38, expected audio within about ±1',
      );
    }
  }
  return mono;
}

function downmix(samples: Float32Array, channels: number): Float32Array {
  if (channels === 1) return samples;
  const frames = samples.length / channels;
  const mono = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c];
    mono[f] = sum / channels;
  }
  return mono;
}
