import type { PersonalizeReport } from '@kws/detector';
import type { TrainingProgress } from '@kws/store';

/** What one training run needs (structured-cloned into the thread). */
export interface TrainingInput {
  /** Path of the base `.kws` model. */
  baseModelPath: string;
  /** The user's clips as stored: 16 kHz mono WAV bytes. */
  clips: Uint8Array[];
  seed: string;
  /** Optimizer steps; undefined = personalize's default. */
  steps?: number;
}

export interface TrainingOutput {
  /** The user's `.kws` bytes. */
  model: Uint8Array;
  report: PersonalizeReport;
}

export type ThreadRequest = { type: 'abort'; reason: string };

export type ThreadReply =
  | { type: 'progress'; progress: TrainingProgress }
  | ({ type: 'done' } & TrainingOutput)
  | { type: 'error'; name: string; message: string; badInput: boolean; aborted: boolean };
