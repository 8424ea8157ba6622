/** From a decoded file to the front end's input: mono float32 at 16 kHz (DESIGN §1). */
import { resample } from './resample.ts';
import type { DecodedAudio } from './wav/decode.ts';

export const TARGET_SAMPLE_RATE = 16_000;

/** Averages the channels of each frame, then resamples (band-limited) to 16 kHz. */
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
  return resample(downmix(samples, channels), sampleRate, TARGET_SAMPLE_RATE);
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
