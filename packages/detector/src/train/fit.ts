/**
 * The training loop, Keras `fit`-style, for base training and for personalization alike:
 * seeded batches of windows (a fixed share of positives, negatives, and replayed negatives), weighted
 * per-frame binary cross-entropy, Adam with global-norm gradient clipping and decoupled weight decay,
 * validation every so often, progress callbacks, cancellation, checkpoints and exact resume.
 *
 * The batch of step k is drawn from `derive(seed, 'batch', k)` alone, so a run resumed from a checkpoint at
 * step k continues exactly as the uninterrupted run would have. Personalization starts from a base model's
 * network, freezes layers by name (`freeze`) and replays the base set's negatives (`data.replay`).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Adam, BinaryCrossentropy, type Sequential, type Tensor } from '@kws/nn';
import { derive } from '../data/random.ts';
import { DEFAULT_SMOOTHING } from '../model/header.ts';
import { weightNames } from '../model/model-file.ts';
import { CheckpointError, type HistoryEntry, type TrainingCheckpoint } from './checkpoint.ts';
import type { FeatureClip } from './dataset.ts';
import { countCorrectFrames, type ValidationMetrics, ValidationSet } from './validation.ts';
import { fillWindow, sampleWindowStart, silenceFrame, type WindowGeometry } from './windows.ts';

export interface TrainingData {
  positives: readonly FeatureClip[];
  negatives: readonly FeatureClip[];
  /** Negatives from elsewhere (the base set when personalizing), a fixed share of every batch. */
  replay?: readonly FeatureClip[];
}

export interface FitOptions {
  /** Built, initialized network (fresh, or a base model's); trained in place. */
  network: Sequential;
  geometry: WindowGeometry;
  data: TrainingData;
  validation?: readonly FeatureClip[];
  /** Total optimizer steps (a resumed run counts the steps already done). */
  steps: number;
  batchSize?: number;
  /** Share of each batch drawn from the positives. */
  positiveFraction?: number;
  /** Share of each batch drawn from `data.replay` (when it is given). */
  replayFraction?: number;
  learningRate?: number;
  /**
   * Learning rate at the last step: the rate falls from `learningRate` to this along a half cosine over the
   * run (default: `learningRate`, a constant rate).
   */
  learningRateEnd?: number;
  /** Gradients are scaled so that their global L2 norm is at most this. */
  globalClipnorm?: number;
  /** Decoupled weight decay (AdamW) on kernels; biases and BatchNormalization are not decayed. */
  weightDecay?: number;
  /** Class weight of positive frames in the loss (negatives weigh 1): positives are ~10 % of frames. */
  positiveWeight?: number;
  /** Names of layers whose weights stay fixed (a frozen BatchNormalization runs on its moving statistics). */
  freeze?: readonly string[];
  seed?: number | string;
  /** Steps between validations (and history entries); default: about ten per run. */
  validateEvery?: number;
  /** Posterior smoothing used for the window metrics of validation, in output frames. */
  smoothingFrames?: number;
  /** Steps between checkpoints; 0 or absent for none. */
  checkpointEvery?: number;
  /** Receives checkpoints (every `checkpointEvery` steps, at the end, and when aborted). */
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => void | Promise<void>;
  /** Continue from this checkpoint. */
  resume?: TrainingCheckpoint;
  onProgress?: (progress: FitProgress) => void;
  /** Aborting stops training between steps: a checkpoint is handed out, then `signal.reason` is thrown. */
  signal?: AbortSignal;
}

export interface FitProgress {
  /** Steps completed. */
  step: number;
  totalSteps: number;
  /** 1-based pass over the training clips the current step belongs to. */
  epoch: number;
  /** Mean training loss since the previous progress report. */
  loss: number;
  /** 0–100. */
  pct: number;
  elapsedS: number;
  /** Estimated seconds left, from the mean step time of this run. */
  etaS: number;
  /** The latest validation, when one ran at this step. */
  validation?: ValidationMetrics;
}

export interface FitResult {
  steps: number;
  history: HistoryEntry[];
  /** Validation after the last step, when there is a validation set. */
  validation: ValidationMetrics | null;
}

export const FIT_DEFAULTS = {
  batchSize: 16,
  positiveFraction: 0.5,
  replayFraction: 0.25,
  learningRate: 1e-3,
  globalClipnorm: 5,
  weightDecay: 0,
  positiveWeight: 2,
} as const;

/** Training that cannot go on: bad settings, a diverged loss, or a checkpoint of another run. */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

function checkFraction(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${value}`);
}

export interface Composition {
  positives: number;
  negatives: number;
  replay: number;
}

/** How many windows of a batch come from each pool (see `FitOptions`). */
export function composeBatch(
  data: TrainingData,
  batchSize: number,
  options: Pick<FitOptions, 'positiveFraction' | 'replayFraction'> = {},
): Composition {
  const positiveFraction = options.positiveFraction ?? FIT_DEFAULTS.positiveFraction;
  const replayFraction = data.replay?.length ? (options.replayFraction ?? FIT_DEFAULTS.replayFraction) : 0;
  checkFraction('positiveFraction', positiveFraction);
  checkFraction('replayFraction', replayFraction);
  const positives = Math.round(batchSize * positiveFraction);
  let replay = Math.min(batchSize - positives, Math.round(batchSize * replayFraction));
  let negatives = batchSize - positives - replay;
  // With no negatives of its own a batch takes all its negatives from the replay set, and vice versa.
  if (data.negatives.length === 0) [replay, negatives] = [replay + negatives, 0];
  if (!data.replay?.length) [negatives, replay] = [negatives + replay, 0];
  if (positives > 0 && data.positives.length === 0) {
    throw new TrainingError('no positive clips to train on (positiveFraction > 0)');
  }
  if (negatives + replay > 0 && data.negatives.length === 0 && !data.replay?.length) {
    throw new TrainingError('no negative clips to train on (neither negatives nor replay)');
  }
  return { positives, negatives, replay };
}

/** The learning rate of step `step` (0-based) of `steps`: a half cosine from `start` to `end`. */
export function learningRateAt(step: number, steps: number, start: number, end: number): number {
  if (start === end || steps <= 1) return start;
  const progress = Math.min(1, step / (steps - 1));
  return end + ((start - end) * (1 + Math.cos(Math.PI * progress))) / 2;
}

/** What a resumed run must share with the run that wrote the checkpoint. */
function runSettings(
  options: FitOptions,
  batchSize: number,
  composition: Composition,
): Record<string, unknown> {
  return {
    seed: String(options.seed ?? 1),
    batchSize,
    composition,
    learningRate: options.learningRate ?? FIT_DEFAULTS.learningRate,
    learningRateEnd: options.learningRateEnd ?? options.learningRate ?? FIT_DEFAULTS.learningRate,
    globalClipnorm: options.globalClipnorm ?? FIT_DEFAULTS.globalClipnorm,
    weightDecay: options.weightDecay ?? FIT_DEFAULTS.weightDecay,
    positiveWeight: options.positiveWeight ?? FIT_DEFAULTS.positiveWeight,
    freeze: [...(options.freeze ?? [])],
    clips: {
      positives: options.data.positives.length,
      negatives: options.data.negatives.length,
      replay: options.data.replay?.length ?? 0,
    },
  };
}

function checkResume(
  checkpoint: TrainingCheckpoint,
  settings: Record<string, unknown>,
  network: Sequential,
): void {
  for (const [key, value] of Object.entries(settings)) {
    const theirs = JSON.stringify(checkpoint.settings[key]);
    if (theirs !== JSON.stringify(value)) {
      throw new CheckpointError(
        `cannot resume: the checkpoint was made with ${key} ${theirs}, this run has ${JSON.stringify(value)}`,
      );
    }
  }
  const ours = JSON.stringify(network.toJSON().config.layers);
  if (JSON.stringify(checkpoint.layers) !== ours) {
    throw new CheckpointError('cannot resume: the checkpoint holds a network with other layers');
  }
}

export async function fit(options: FitOptions): Promise<FitResult> {
  const { network, geometry: g, data } = options;
  const batchSize = options.batchSize ?? FIT_DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  }
  if (!Number.isInteger(options.steps) || options.steps < 0) {
    throw new RangeError(`steps must be an integer ≥ 0, got ${options.steps}`);
  }
  const composition = composeBatch(data, batchSize, options);
  const settings = runSettings(options, batchSize, composition);
  const seed = settings.seed as string;
  const smoothingFrames = options.smoothingFrames ?? DEFAULT_SMOOTHING.window_frames;
  const validateEvery = options.validateEvery ?? Math.max(1, Math.round(options.steps / 10));
  const checkpointEvery = options.checkpointEvery ?? 0;
  const silence = silenceFrame(g.featureConfig);

  const layerNames = new Set(network.layers.map((l) => l.name));
  for (const name of options.freeze ?? []) {
    if (!layerNames.has(name)) {
      throw new RangeError(`cannot freeze layer "${name}": the network has ${[...layerNames].join(', ')}`);
    }
  }
  const wasTrainable = network.layers.map((l) => l.trainable);
  for (const layer of network.layers) if (options.freeze?.includes(layer.name)) layer.trainable = false;

  try {
    const loss = new BinaryCrossentropy({
      classWeights: { positive: options.positiveWeight ?? FIT_DEFAULTS.positiveWeight, negative: 1 },
    });
    const optimizer = new Adam(network.layers, {
      learningRate: settings.learningRate as number,
      globalClipnorm: settings.globalClipnorm as number,
      weightDecay: settings.weightDecay as number,
      excludeFromWeightDecay: ['bias', 'gamma', 'beta'],
    });
    let step = 0;
    const history: HistoryEntry[] = [];
    if (options.resume) {
      checkResume(options.resume, settings, network);
      network.setWeights(options.resume.weights);
      optimizer.setState(options.resume.optimizer);
      step = options.resume.step;
      history.push(...options.resume.history);
    }
    const validation =
      options.validation && options.validation.length > 0
        ? new ValidationSet(options.validation, g, silence, seed)
        : null;

    const snapshot = (): TrainingCheckpoint => ({
      step,
      layers: network.toJSON().config.layers,
      weightNames: weightNames(network),
      weights: network.getWeights(),
      optimizer: optimizer.getState(),
      history: history.map((h) => ({ ...h })),
      settings,
    });

    // One block per batch for inputs, targets and frame weights, reused every step.
    const inSize = g.inputFrames * g.numMfcc;
    const x = new Float32Array(batchSize * inSize);
    const targets = new Float32Array(batchSize * g.outputFrames);
    const weights = new Float32Array(batchSize * g.outputFrames);
    const xT: Tensor = { shape: [batchSize, g.inputFrames, g.numMfcc], data: x };
    const yT: Tensor = { shape: [batchSize, g.outputFrames, 1], data: targets };
    const wT: Tensor = { shape: [batchSize, g.outputFrames], data: weights };
    const pools: [readonly FeatureClip[], number][] = [
      [data.positives, composition.positives],
      [data.negatives, composition.negatives],
      [data.replay ?? [], composition.replay],
    ];
    const trainClips = data.positives.length + data.negatives.length + (data.replay?.length ?? 0);
    const stepsPerEpoch = Math.max(1, Math.ceil(trainClips / batchSize));

    const started = performance.now();
    const firstStep = step;
    let lossSum = 0;
    let correct = 0;
    let counted = 0;
    let sinceReport = 0;
    let lastValidation: ValidationMetrics | null = null;

    while (step < options.steps) {
      if (options.signal?.aborted) {
        await options.onCheckpoint?.(snapshot());
        options.signal.throwIfAborted();
      }
      const rng = derive(seed, 'batch', step);
      let b = 0;
      for (const [pool, count] of pools) {
        for (let i = 0; i < count; i++, b++) {
          const clip = rng.pick(pool);
          const start = sampleWindowStart(clip, g, rng);
          fillWindow(g, clip, start, silence, x, b * inSize, targets, weights, b * g.outputFrames);
        }
      }
      network.zeroGrad();
      const y = network.forwardTrain(xT);
      const { value, dPred } = loss.valueAndGrad(yT, y, wT);
      if (!Number.isFinite(value)) {
        throw new TrainingError(`training diverged at step ${step + 1}: the loss is ${value}`);
      }
      const [c, n] = countCorrectFrames(y.data as Float32Array, targets, weights, targets.length);
      network.backward(dPred);
      optimizer.learningRate = learningRateAt(
        step,
        options.steps,
        settings.learningRate as number,
        settings.learningRateEnd as number,
      );
      optimizer.step();
      step++;
      lossSum += value;
      correct += c;
      counted += n;
      sinceReport++;

      const last = step === options.steps;
      let validated: ValidationMetrics | undefined;
      if (step % validateEvery === 0 || last) {
        if (validation) {
          validated = validation.evaluate(network, loss, smoothingFrames);
          lastValidation = validated;
        }
        history.push({
          step,
          loss: lossSum / sinceReport,
          frameAccuracy: counted === 0 ? 0 : correct / counted,
          ...(validated ? { validation: validated } : {}),
        });
      }
      const elapsedS = (performance.now() - started) / 1000;
      options.onProgress?.({
        step,
        totalSteps: options.steps,
        epoch: Math.floor((step - 1) / stepsPerEpoch) + 1,
        loss: lossSum / sinceReport,
        pct: (100 * step) / options.steps,
        elapsedS,
        etaS: (elapsedS / (step - firstStep)) * (options.steps - step),
        ...(validated ? { validation: validated } : {}),
      });
      if (validated !== undefined || step % validateEvery === 0 || last) {
        lossSum = 0;
        correct = 0;
        counted = 0;
        sinceReport = 0;
      }
      if ((checkpointEvery > 0 && step % checkpointEvery === 0) || last) {
        await options.onCheckpoint?.(snapshot());
      }
      // Let timers, signals and I/O run between the (synchronous, long) steps.
      await nextTurn();
    }
    if (validation && lastValidation === null)
      lastValidation = validation.evaluate(network, loss, smoothingFrames);
    return { steps: step, history, validation: lastValidation };
  } finally {
    network.layers.forEach((layer, i) => {
      layer.trainable = wasTrainable[i];
    });
  }
}
