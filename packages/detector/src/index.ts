/** @kws/detector — synthetic training data, the detector model, training, streaming detection, tfjs export. */
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
export {
  type Detection,
  type DetectionOptions,
  type DetectionResult,
  detect,
  StreamingDetector,
  type WindowScore,
} from './detect/detector.ts';
export { countDetections, type DetPoint, detCurve, falseRejectRate, THRESHOLD_GRID } from './eval/det.ts';
export { type EvalOptions, type EvalReport, evaluateModel, FA_BUDGET_PER_HOUR } from './eval/evaluate.ts';
export { EvalInputError } from './eval/files.ts';
export { type DetSeries, detSvg } from './eval/plot.ts';
export { type TfjsModelJson, toTfjs, writeTfjs } from './export/tfjs.ts';
export {
  createDetectorNetwork,
  DEFAULT_SIZES,
  type DetectorSizes,
  detectorLayers,
  LAYER_NAMES,
  WINDOW_FRAMES,
} from './model/architecture.ts';
export { BASE_MODEL_PATH, readDetectorModel } from './model/base-model.ts';
export {
  DEFAULT_SMOOTHING,
  DEFAULT_THRESHOLD,
  type DetectorHeader,
  DetectorModelError,
  detectorHeader,
  type ModelMetrics,
  type Smoothing,
} from './model/header.ts';
export {
  type DetectorModel,
  isModelInputError,
  loadDetectorModel,
  modelSha256,
  networkGeometry,
  saveDetectorModel,
} from './model/model-file.ts';
export {
  type EnrollmentClip,
  MAX_CLIPS,
  MIN_CLIPS,
  PersonalizeInputError,
} from './personalize/enrollment.ts';
export {
  type ModelQuality,
  PERSONALIZE_DEFAULTS,
  type PersonalizeOptions,
  type PersonalizeProgress,
  type PersonalizeReport,
  type PersonalizeResult,
  personalize,
} from './personalize/personalize.ts';
export { BASE_REPLAY_PATH, ReplaySetError } from './personalize/replay.ts';
export {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type HistoryEntry,
  type TrainingCheckpoint,
} from './train/checkpoint.ts';
export {
  type ClipAudio,
  DatasetError,
  type FeatureClip,
  loadDataset,
  splitClips,
  toFeatureClip,
} from './train/dataset.ts';
export {
  FIT_DEFAULTS,
  type FitOptions,
  type FitProgress,
  type FitResult,
  fit,
  type TrainingData,
  TrainingError,
} from './train/fit.ts';
export type { ValidationMetrics } from './train/validation.ts';
export { type WindowGeometry, windowGeometry } from './train/windows.ts';
export { typeScriptWorkerSource } from './ts-worker.ts';
