export type { Config } from './config.ts';
export { ConfigError, loadConfig } from './config.ts';
export { errors, KwsError, toKwsError } from './errors.ts';
export { main } from './main.ts';
export type {
  TrainingJobData,
  TrainingProgress,
  TrainingResult,
} from './queue/contract.ts';
export { TRAINING_JOB, TRAINING_QUEUE } from './queue/contract.ts';
export type { BuildOptions } from './server.ts';
export { buildApp } from './server.ts';
export { MAX_CLIPS_PER_USER, Store } from './store/store.ts';
