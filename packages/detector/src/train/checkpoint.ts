/**
 * Training checkpoints: everything `fit` needs to continue exactly where it stopped — the network's weights
 * (BatchNormalization's moving statistics included), the optimizer's step count and slots, the step, the
 * history, and the settings that must not change across a resume. Batches are a function of (seed, step),
 * so resuming from step k gives bit-for-bit the weights an uninterrupted run has after the same steps.
 *
 * On disk a checkpoint is a `.kws` container (packages/nn): the network's layers, its weights named as in a
 * model file, then the optimizer slots as `optimizer/<i>`, and the rest under the header field
 * `kws_checkpoint`. It is not a detector model (it has no detector header); `kws train-base` writes the
 * model separately.
 */
import {
  type LayerSpec,
  ModelFileError,
  type ModelTensor,
  type OptimizerState,
  readModelFile,
  type Tensor,
  writeModelFile,
} from '@kws/nn';
import type { ValidationMetrics } from './validation.ts';

export const CHECKPOINT_VERSION = 1;
const HEADER_KEY = 'kws_checkpoint';

/** One point of the training curve. */
export interface HistoryEntry {
  step: number;
  /** Mean training loss over the steps since the previous entry. */
  loss: number;
  /** Training-batch frame accuracy over the same steps. */
  frameAccuracy: number;
  validation?: ValidationMetrics;
}

export interface TrainingCheckpoint {
  /** Optimizer steps completed. */
  step: number;
  layers: LayerSpec[];
  /** Names of `weights`, `<layer>/<weight>`. */
  weightNames: string[];
  /** Network weights in `get_weights()` order. */
  weights: Tensor[];
  optimizer: OptimizerState;
  history: HistoryEntry[];
  /** Settings a resumed run must share (seed, batch composition, optimizer, data sizes). */
  settings: Record<string, unknown>;
}

/** A checkpoint that cannot be read, or that does not belong to this training run. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function encodeCheckpoint(c: TrainingCheckpoint): Uint8Array {
  const f32 = (t: Tensor) => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
  const tensors: ModelTensor[] = [
    ...c.weights.map((t, i) => ({ name: c.weightNames[i], shape: [...t.shape], data: f32(t) })),
    ...c.optimizer.slots.map((t, i) => ({ name: `optimizer/${i}`, shape: [...t.shape], data: f32(t) })),
  ];
  return writeModelFile({
    layers: c.layers,
    tensors,
    extra: {
      [HEADER_KEY]: {
        version: CHECKPOINT_VERSION,
        step: c.step,
        weight_count: c.weights.length,
        optimizer_iterations: c.optimizer.iterations,
        history: c.history,
        settings: c.settings,
      },
    },
  });
}

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): TrainingCheckpoint {
  let contents: ReturnType<typeof readModelFile>;
  try {
    contents = readModelFile(bytes);
  } catch (error) {
    if (error instanceof ModelFileError) throw new CheckpointError(`${source}: ${error.message}`);
    throw error;
  }
  const meta = contents.extra[HEADER_KEY] as Record<string, unknown> | undefined;
  if (meta === undefined || meta === null || typeof meta !== 'object') {
    throw new CheckpointError(
      `${source} is a model file, not a training checkpoint (no ${HEADER_KEY} header)`,
    );
  }
  if (meta.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      `${source}: checkpoint version ${JSON.stringify(meta.version)}, expected ${CHECKPOINT_VERSION}`,
    );
  }
  const count = meta.weight_count;
  const step = meta.step;
  const iterations = meta.optimizer_iterations;
  if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > contents.tensors.length) {
    throw new CheckpointError(
      `${source}: weight_count ${JSON.stringify(count)} does not fit ${contents.tensors.length} tensors`,
    );
  }
  if (!Number.isInteger(step) || (step as number) < 0 || !Number.isInteger(iterations)) {
    throw new CheckpointError(`${source}: step and optimizer_iterations must be integers ≥ 0`);
  }
  const tensors = contents.tensors;
  const split = count as number;
  return {
    step: step as number,
    layers: contents.layers,
    weightNames: tensors.slice(0, split).map((t) => t.name),
    weights: tensors.slice(0, split).map((t) => ({ shape: t.shape, data: t.data })),
    optimizer: {
      iterations: iterations as number,
      slots: tensors.slice(split).map((t) => ({ shape: t.shape, data: t.data })),
    },
    history: (meta.history ?? []) as HistoryEntry[],
    settings: (meta.settings ?? {}) as Record<string, unknown>,
  };
}
