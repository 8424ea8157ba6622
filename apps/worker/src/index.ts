/** @kws/worker — the BullMQ worker that runs personalization jobs (DESIGN §5, §6). */
export { ConfigError, loadWorkerConfig, type WorkerConfig } from './config.ts';
export { main } from './main.ts';
export { type CheckedModel, checkModel } from './model-check.ts';
export { createProcessor, JobTimedOut, ShutdownRequested, toJobFailure } from './processor.ts';
export { runTrainingInThread, TrainingThreadError } from './training/run-in-thread.ts';
export {
  DEFAULT_LOCK_SETTINGS,
  type LockSettings,
  PersonalizationWorker,
  type PersonalizationWorkerOptions,
} from './worker.ts';
