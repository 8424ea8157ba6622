/** @kws/audio — WAV in, 16 kHz mono, MFCC features out (DESIGN §1). */
export { AudioFormatError, type AudioFormatErrorCode } from './errors.ts';
export {
  DEFAULT_FEATURE_CONFIG,
  type FeatureConfig,
  frameCount,
  resolveFeatureConfig,
} from './mfcc/config.ts';
export { type MfccResult, mfcc } from './mfcc/mfcc.ts';
export { TARGET_SAMPLE_RATE, toMono16k } from './mono16k.ts';
export {
  analyzeQuality,
  CLIP_LEVEL,
  QUALITY_FLOOR_DB,
  type SignalQuality,
  SNR_CAP_DB,
  SPEECH_FLOOR_DB,
  SPEECH_MARGIN_DB,
} from './quality.ts';
export { resample } from './resample.ts';
export { createMfccStream, type MfccStream } from './stream.ts';
export { DEFAULT_CHUNK_FRAMES, readWavChunks } from './wav/chunks.ts';
export { type DecodedAudio, decodeWav, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from './wav/decode.ts';
export { encodeWav } from './wav/encode.ts';
