export type {
  TrainingJobData,
  TrainingProgress,
  TrainingResult,
} from '@kws/store';
export { MAX_CLIPS_PER_USER, Store, TRAINING_JOB, TRAINING_QUEUE } from '@kws/store';
export type { Config } from './config.ts';
export { ConfigError, loadConfig } from './config.ts';
export { errors, KwsError, toKwsError } from './errors.ts';
export { main } from './main.ts';
export type { BuildOptions } from './server.ts';
export { buildApp } from './server.ts';
