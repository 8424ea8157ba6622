/** @kws/detector — synthetic training data (this slice); model, training and detection follow. */
export {
  type EngineChoice,
  type EspeakEngine,
  findEspeakBinary,
  SynthesisError,
  type SynthesizeOptions,
  synthesize,
} from './data/espeak.ts';
export { confusablesFor, DEFAULT_KEYWORD } from './data/phrases.ts';
export type { NegativeStreamManifest, StreamBlockNoise, StreamSegment } from './data/stream.ts';
export {
  type ClipRecord,
  DatasetExistsError,
  type DatasetManifest,
  type DatasetOptions,
  type DatasetProgress,
  generateDataset,
} from './data/synth.ts';
export { BASE_VOICES, HELDOUT_VOICES, type VoiceSet, voicesOf } from './data/voices.ts';
