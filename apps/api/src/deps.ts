import type { Store } from '@kws/store';
import type { Auth } from './auth/guard.ts';
import type { Config } from './config.ts';
import type { ClipCheckPool } from './enrollment/check-pool.ts';
import type { Metrics } from './metrics.ts';
import type { TrainingQueue } from './queue/training-queue.ts';

/** What route plugins receive: the app's parts, built once in `buildApp`. */
export interface Deps {
  config: Config;
  store: Store;
  auth: Auth;
  queue: TrainingQueue;
  metrics: Metrics;
  /** Checks uploaded clips off the event loop. */
  clipChecks: ClipCheckPool;
}
