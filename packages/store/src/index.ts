/**
 * @kws/store — what apps/api and apps/worker share: the durable store (users, clips, immutable model
 * versions with a `current` pointer), the coded errors, the id rule and the training-job contract.
 */
export {
  DEFAULT_JOB_ERROR_CODE,
  JOB_ATTEMPTS,
  JOB_BACKOFF,
  KEEP_COMPLETED,
  KEEP_FAILED,
  TRAINING_JOB,
  TRAINING_QUEUE,
  type TrainingJobData,
  type TrainingProgress,
  type TrainingResult,
} from './contract.ts';
export { errors, KwsError, type KwsErrorFactory, type KwsErrorName } from './errors.ts';
export { assertId, ID_PATTERN, isId } from './ids.ts';
export {
  ConfigError,
  DEFAULT_DATA_DIR,
  DEFAULT_QUEUE_PREFIX,
  DEFAULT_REDIS_URL,
  type Env,
  intVar,
  LOG_LEVELS,
  type LogLevel,
  readSharedConfig,
  type SharedServiceConfig,
} from './service-config.ts';
export {
  type ClipQuality,
  type ClipRecord,
  MAX_CLIPS_PER_USER,
  MODEL_CACHE_BYTES,
  MODEL_FILES,
  type ModelFileInfo,
  type ModelFileName,
  type ModelVersionRecord,
  type NewClip,
  newUserId,
  STALE_AFTER_MS,
  Store,
  sha256Hex,
  type UserRecord,
} from './store.ts';
