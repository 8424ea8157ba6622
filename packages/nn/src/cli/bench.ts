/**
 * `kws-nn bench [--json]` (DESIGN §2 "Benchmark runner"): times the reference model with the current
 * (fastest installed) kernels. `trainStepMs` is the median of one training step — forward, binary
 * cross-entropy, backward, Adam — on a batch of 16 × 150 × 13; `inferMs` the median of one inference of a
 * single 150 × 13 window; both after warm-up. The last line printed is `{ "backend", "trainStepMs",
 * "inferMs" }`.
 */
import { kernels } from '../kernels/backend.ts';
import type { LayerSpec } from '../layers/layer.ts';
import { BinaryCrossentropy } from '../losses/binary-crossentropy.ts';
import { Sequential } from '../model/sequential.ts';
import { Adam } from '../optimizers/adam.ts';
import type { Tensor } from '../tensor.ts';

/** The reference model: Conv1D 13→32 k3 same, BN, ReLU, Bidirectional(LSTM 64) concat, TimeDistributed(Dense 1). */
export const REFERENCE_MODEL_LAYERS: LayerSpec[] = [
  {
    class_name: 'Conv1D',
    config: {
      name: 'conv1d',
      filters: 32,
      kernel_size: [3],
      padding: 'same',
      activation: 'linear',
      batch_input_shape: [null, 150, 13],
    },
  },
  {
    class_name: 'BatchNormalization',
    config: { name: 'batch_normalization', momentum: 0.99, epsilon: 0.001 },
  },
  { class_name: 'Activation', config: { name: 'activation', activation: 'relu' } },
  {
    class_name: 'Bidirectional',
    config: {
      name: 'bidirectional',
      merge_mode: 'concat',
      layer: {
        class_name: 'LSTM',
        config: { name: 'lstm', units: 64, return_sequences: true, recurrent_activation: 'sigmoid' },
      },
    },
  },
  {
    class_name: 'TimeDistributed',
    config: {
      name: 'time_distributed',
      layer: { class_name: 'Dense', config: { name: 'dense', units: 1, activation: 'sigmoid' } },
    },
  },
];

export const BENCH_BATCH = 16;
export const BENCH_FRAMES = 150;
export const BENCH_FEATURES = 13;

/** Deterministic inputs: features in [−1, 1) and 0/1 frame labels (mulberry32). */
export function benchData(batch: number, seed = 1): { x: Tensor; y: Tensor } {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = new Float32Array(batch * BENCH_FRAMES * BENCH_FEATURES);
  for (let i = 0; i < x.length; i++) x[i] = 2 * random() - 1;
  const y = new Float32Array(batch * BENCH_FRAMES);
  for (let i = 0; i < y.length; i++) y[i] = random() < 0.2 ? 1 : 0;
  return {
    x: { shape: [batch, BENCH_FRAMES, BENCH_FEATURES], data: x },
    y: { shape: [batch, BENCH_FRAMES, 1], data: y },
  };
}

/** The reference model, built, with its training step (forward + BCE + backward + Adam) and inference. */
export function referenceModel(): {
  model: Sequential;
  trainStep: (x: Tensor, y: Tensor) => number;
  infer: (x: Tensor) => Tensor;
} {
  const model = Sequential.fromSpec(REFERENCE_MODEL_LAYERS);
  model.build([BENCH_FRAMES, BENCH_FEATURES]);
  const loss = new BinaryCrossentropy();
  const optimizer = new Adam(model.layers);
  return {
    model,
    trainStep(x, y) {
      model.zeroGrad();
      const out = model.forwardTrain(x);
      const { value, dPred } = loss.valueAndGrad(y, out);
      model.backward(dPred);
      optimizer.step();
      return value;
    },
    infer: (x) => model.forward(x),
  };
}

/** Median of `runs` timings (ms) of `fn` after `warmup` untimed calls. */
export async function medianMs(fn: () => unknown, warmup: number, runs: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((p, q) => p - q);
  const mid = times.length >> 1;
  return times.length % 2 === 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

export interface BenchResult {
  backend: string;
  trainStepMs: number;
  inferMs: number;
}

export interface BenchOptions {
  trainWarmup: number;
  trainRuns: number;
  inferWarmup: number;
  inferRuns: number;
}

export const BENCH_DEFAULTS: BenchOptions = { trainWarmup: 2, trainRuns: 7, inferWarmup: 5, inferRuns: 31 };

/** Times our reference model with the installed kernels. */
export async function benchReferenceModel(options: BenchOptions = BENCH_DEFAULTS): Promise<BenchResult> {
  const { model, trainStep, infer } = referenceModel();
  try {
    const train = benchData(BENCH_BATCH, 1);
    const window = benchData(1, 2).x;
    const trainStepMs = await medianMs(
      () => trainStep(train.x, train.y),
      options.trainWarmup,
      options.trainRuns,
    );
    const inferMs = await medianMs(() => infer(window), options.inferWarmup, options.inferRuns);
    return { backend: kernels().name, trainStepMs, inferMs };
  } finally {
    model.dispose();
  }
}

const USAGE = 'usage: kws-nn bench [--json] [--runs N] [--warmup N]';

/**
 * `kws-nn bench [--json] [--runs N] [--warmup N]`: `--runs`/`--warmup` set the timed and untimed repetitions
 * of both measurements (defaults: training 7 after 2, inference 31 after 5). With `--json` only the JSON
 * line is printed. Returns the exit code: 0, or 2 for bad arguments (with a one-line reason on stderr).
 */
export async function benchCommand(argv: string[]): Promise<number> {
  let json = false;
  const options = { ...BENCH_DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--runs' || arg === '--warmup') {
      const n = Number(argv[++i]);
      const min = arg === '--runs' ? 1 : 0;
      if (argv[i] === undefined || !Number.isInteger(n) || n < min) {
        process.stderr.write(
          `kws-nn bench: ${arg} needs an integer >= ${min}, got ${argv[i] ?? 'nothing'}\n${USAGE}\n`,
        );
        return 2;
      }
      if (arg === '--runs') {
        options.trainRuns = n;
        options.inferRuns = n;
      } else {
        options.trainWarmup = n;
        options.inferWarmup = n;
      }
    } else {
      process.stderr.write(`kws-nn bench: unknown argument ${arg}\n${USAGE}\n`);
      return 2;
    }
  }
  if (!json) {
    process.stdout.write(
      `reference model: Conv1D 13→32 k3 same, BN, ReLU, Bidirectional(LSTM 64) concat, TimeDistributed(Dense 1 sigmoid)\n` +
        `training step: batch ${BENCH_BATCH}×${BENCH_FRAMES}×${BENCH_FEATURES}, BCE + Adam, median of ${options.trainRuns} after ${options.trainWarmup} warm-up\n` +
        `inference: 1×${BENCH_FRAMES}×${BENCH_FEATURES}, median of ${options.inferRuns} after ${options.inferWarmup} warm-up\n`,
    );
  }
  const result = await benchReferenceModel(options);
  if (!json) {
    process.stdout.write(
      `backend ${result.backend}: training step ${result.trainStepMs.toFixed(1)} ms, inference ${result.inferMs.toFixed(2)} ms\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({ backend: result.backend, trainStepMs: round(result.trainStepMs), inferMs: round(result.inferMs) })}\n`,
  );
  return 0;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
