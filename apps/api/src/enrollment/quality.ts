import { AudioFormatError, analyzeQuality, decodeWav, encodeWav, toMono16k } from '@kws/audio';
import type { ClipQuality } from '@kws/store';
import { errors } from '../errors.ts';

/**
 * What an enrollment clip must satisfy (DESIGN §5: 0.3–5 s, not silent, not clipped, speech present).
 * The numbers are deliberately lenient: a clip is rejected only when it can't help training.
 */
/** Shorter clips can't hold a keyword. */
export const MIN_DURATION_S = 0.3;
/** Longer clips hold more than a keyword (and the model's window is ≈ 1.5 s). */
export const MAX_DURATION_S = 5;
/** A peak below −40 dBFS (1 % of full scale) is silence or a muted microphone. */
export const MIN_PEAK_DB = -40;
/** More than 1 % of samples at full scale means the recording clipped audibly. */
export const MAX_CLIPPING_FRACTION = 0.01;
/** At least this much speech-like activity (as `analyzeQuality` measures it) must be present. */
export const MIN_SPEECH_S = 0.15;

/** The rate clips are stored at: what feature extraction consumes. */
export const STORED_SAMPLE_RATE = 16_000;

export interface CheckedClip {
  /** 16 kHz mono 16-bit WAV: what the store keeps. */
  wav: Uint8Array;
  durationS: number;
  quality: ClipQuality;
}

/**
 * Decodes an uploaded WAV, resamples it to 16 kHz mono and checks it. Throws `KWS_ERR_BAD_AUDIO` (422)
 * naming the file and the reason. The `.wav` stored is the 16 kHz mono form, not the upload.
 */
export function checkClip(fileName: string, bytes: Uint8Array): CheckedClip {
  const reject = (reason: string) => errors.BAD_AUDIO(`file ${JSON.stringify(fileName)}: ${reason}`);
  const tooLong = (durationS: number) =>
    reject(`too long: ${durationS.toFixed(2)} s, expected at most ${MAX_DURATION_S} s`);
  let samples: Float32Array;
  try {
    const decoded = decodeWav(bytes);
    // Before resampling: a 5 MB upload of 8-bit 8 kHz audio is 11 minutes, whose resampling held the event
    // loop for seconds (issue #7's fuzz). The length in frames is known as soon as the file is decoded.
    const declaredS = decoded.samples.length / decoded.channels / decoded.sampleRate;
    if (declaredS > MAX_DURATION_S) throw tooLong(declaredS);
    samples = toMono16k(decoded);
  } catch (err: unknown) {
    if (err instanceof AudioFormatError) throw reject(`not a usable WAV file: ${err.message}`);
    throw err;
  }
  const q = analyzeQuality(samples);
  if (q.durationS < MIN_DURATION_S) {
    throw reject(`too short: ${q.durationS.toFixed(2)} s, expected at least ${MIN_DURATION_S} s`);
  }
  if (q.durationS > MAX_DURATION_S) throw tooLong(q.durationS);
  if (!(q.peakDb >= MIN_PEAK_DB)) {
    throw reject(`silent: peak ${q.peakDb.toFixed(1)} dBFS, expected at least ${MIN_PEAK_DB} dBFS`);
  }
  if (q.clippingFraction > MAX_CLIPPING_FRACTION) {
    throw reject(
      `clipped: ${(q.clippingFraction * 100).toFixed(2)} % of samples at full scale, expected at most ${MAX_CLIPPING_FRACTION * 100} %`,
    );
  }
  if (!(q.speechS >= MIN_SPEECH_S)) {
    throw reject(`no speech found: ${q.speechS.toFixed(2)} s of speech, expected at least ${MIN_SPEECH_S} s`);
  }
  return {
    wav: encodeWav(samples, STORED_SAMPLE_RATE),
    durationS: q.durationS,
    quality: { peakDb: q.peakDb, snrDb: q.snrDb, speechS: q.speechS, clippingFraction: q.clippingFraction },
  };
}
