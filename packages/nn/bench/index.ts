/**
 * `npm run bench -w @kws/nn`: the reference model of `kws-nn bench` timed in one run on our kernels and on
 * tfjs 4.22 — cpu backend (training step and inference), wasm backend (inference; its training attempt is
 * shown failing with tfjs' own error) — with the same weights, same inputs, same loss and optimizer
 * (binary cross-entropy, Adam lr 1e-3 β 0.9/0.999 ε 1e-7), medians after warm-up, ratios against ours and
 * the peak RSS of the whole run. Options: `--runs N` (default: the `kws-nn bench` defaults).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  BENCH_BATCH,
  BENCH_DEFAULTS,
  BENCH_FEATURES,
  BENCH_FRAMES,
  type BenchOptions,
  benchData,
  medianMs,
  referenceModel,
} from '../src/cli/bench.ts';
import { kernels } from '../src/kernels/backend.ts';
import type { Tensor } from '../src/tensor.ts';

/** The reference model in tfjs-layers, layer for layer the same as `REFERENCE_MODEL_LAYERS`. */
function tfjsReferenceModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.conv1d({
      filters: 32,
      kernelSize: 3,
      padding: 'same',
      inputShape: [BENCH_FRAMES, BENCH_FEATURES],
    }),
  );
  model.add(tf.layers.batchNormalization({ momentum: 0.99, epsilon: 0.001 }));
  model.add(tf.layers.activation({ activation: 'relu' }));
  model.add(
    tf.layers.bidirectional({
      // tfjs defaults recurrentActivation to hardSigmoid; Keras (and the reference model) use sigmoid.
      // The initial weights are overwritten with ours: skip tfjs' slow orthogonal initializer.
      layer: tf.layers.lstm({
        units: 64,
        returnSequences: true,
        recurrentActivation: 'sigmoid',
        recurrentInitializer: 'glorotUniform',
      }),
      mergeMode: 'concat',
    }),
  );
  model.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 1, activation: 'sigmoid' }) }));
  model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: 'binaryCrossentropy' });
  return model;
}

const toTf = (t: Tensor) => tf.tensor(Float32Array.from(t.data), [...t.shape]);

interface Row {
  what: string;
  ms: number | null;
  note?: string;
}

async function main(argv: string[]): Promise<void> {
  const options: BenchOptions = { ...BENCH_DEFAULTS };
  const runsAt = argv.indexOf('--runs');
  if (runsAt >= 0) {
    const n = Number(argv[runsAt + 1]);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`--runs needs an integer >= 1, got ${argv[runsAt + 1]}`);
    options.trainRuns = n;
    options.inferRuns = n;
  }
  const unknown = argv.filter((a, i) => a !== '--runs' && argv[i - 1] !== '--runs');
  if (unknown.length > 0)
    throw new Error(`unknown arguments ${unknown.join(' ')}; usage: npm run bench -- [--runs N]`);
  const train = benchData(BENCH_BATCH, 1);
  const window = benchData(1, 2).x;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`node ${process.version}, ${process.platform} ${process.arch}, tfjs ${tf.version.tfjs}`);
  log(
    `training step: batch ${BENCH_BATCH}×${BENCH_FRAMES}×${BENCH_FEATURES}, BCE + Adam, median of ${options.trainRuns} after ${options.trainWarmup} warm-up; ` +
      `inference: 1×${BENCH_FRAMES}×${BENCH_FEATURES}, median of ${options.inferRuns} after ${options.inferWarmup} warm-up`,
  );

  // Ours first, keeping its initial weights so tfjs starts from the same ones.
  const ours = referenceModel();
  const initialWeights = ours.model.getWeights();
  const ourWindowOutput = Float32Array.from(ours.infer(window).data);
  const oursTrain = await medianMs(
    () => ours.trainStep(train.x, train.y),
    options.trainWarmup,
    options.trainRuns,
  );
  const oursInfer = await medianMs(() => ours.infer(window), options.inferWarmup, options.inferRuns);
  ours.model.dispose();

  const rows: Row[] = [
    { what: `ours (${kernels().name}) training step`, ms: oursTrain },
    { what: `ours (${kernels().name}) inference`, ms: oursInfer },
  ];

  for (const backend of ['cpu', 'wasm'] as const) {
    await tf.setBackend(backend);
    await tf.ready();
    const model = tfjsReferenceModel();
    // Per layer: tfjs' model-level setWeights wants all trainable weights first, then the non-trainable ones.
    let next = 0;
    for (const layer of model.layers) {
      const n = layer.weights.length;
      layer.setWeights(initialWeights.slice(next, next + n).map(toTf));
      next += n;
    }
    const x = toTf(train.x);
    const y = toTf(train.y);
    const w = toTf(window);
    const theirs = (model.predict(w) as tf.Tensor).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < theirs.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(theirs[i] - ourWindowOutput[i]));
    log(
      `tfjs ${backend}: same weights, inference output max |difference| from ours ${maxDiff.toExponential(2)}`,
    );
    const inferMs = await medianMs(
      () => tf.tidy(() => (model.predict(w) as tf.Tensor).dataSync()),
      options.inferWarmup,
      options.inferRuns,
    );
    let trainMs: number | null = null;
    let note: string | undefined;
    try {
      trainMs = await medianMs(() => model.trainOnBatch(x, y), options.trainWarmup, options.trainRuns);
    } catch (e) {
      note = `training fails: ${(e as Error).message.split('\n')[0]}`;
      log(`tfjs ${backend}: ${note}`);
    }
    rows.push({ what: `tfjs ${backend} training step`, ms: trainMs, note });
    rows.push({ what: `tfjs ${backend} inference`, ms: inferMs });
    tf.dispose([x, y, w]);
    model.dispose();
  }

  log('');
  log('| what | median ms | tfjs ÷ ours |');
  log('|---|---:|---:|');
  for (const r of rows) {
    const base = r.what.includes('training') ? oursTrain : oursInfer;
    const ratio = r.ms === null || r.what.startsWith('ours') ? '' : (r.ms / base).toFixed(2);
    log(`| ${r.what} | ${r.ms === null ? `— (${r.note})` : r.ms.toFixed(r.ms < 100 ? 2 : 0)} | ${ratio} |`);
  }
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  log(`\npeak RSS of this run: ${maxRssMb.toFixed(0)} MB`);
  const find = (what: string) => rows.find((r) => r.what === what)?.ms ?? null;
  log(
    JSON.stringify({
      backend: kernels().name,
      trainStepMs: oursTrain,
      inferMs: oursInfer,
      tfjsCpuTrainStepMs: find('tfjs cpu training step'),
      tfjsCpuInferMs: find('tfjs cpu inference'),
      tfjsWasmInferMs: find('tfjs wasm inference'),
      maxRssMb: Math.round(maxRssMb),
    }),
  );
}

await main(process.argv.slice(2));
