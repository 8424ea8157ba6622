/**
 * `npm run bench -w @kws/nn`: the reference model of `kws-nn bench` timed in one run on our kernels and on
 * tfjs 4.22 — cpu backend (training step and inference), wasm backend (inference; its training attempt is
 * shown failing with tfjs' own error) — with the same weights, same inputs, same loss and optimizer
 * (binary cross-entropy, Adam lr 1e-3 β 0.9/0.999 ε 1e-7), medians after warm-up, ratios against ours and
 * the peak RSS of the whole run. Ours runs on each of our backends: wasm with its kernel thread (the
 * default), wasm on one thread, and pure TS. Before that, the wasm SGEMM's GFLOP/s at 256³ and at the
 * model's real shapes, next to the machine's SIMD peak measured in the same run.
 * Options: `--runs N` (default: the `kws-nn bench` defaults).
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
import { kernels, setKernels } from '../src/kernels/backend.ts';
import type { Kernels } from '../src/kernels/kernels.ts';
import { tsKernels } from '../src/kernels/ts.ts';
import { createWasmKernels, type WasmKernels } from '../src/kernels/wasm.ts';
import type { Tensor } from '../src/tensor.ts';
import { GEMM_SHAPES, measureGemm, measurePeak } from './gemm.ts';

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

  // SGEMM against the peak, on a wasm instance of its own (one thread, nothing else in its heap).
  const gemmKernels = createWasmKernels({ threads: 1 });
  const gemm: { what: string; op: string; gflops: number; ofPeak: number }[] = [];
  let peakGflops: number | null = null;
  if (gemmKernels) {
    const peakBefore = measurePeak(gemmKernels);
    const results = GEMM_SHAPES.map((shape) => measureGemm(gemmKernels, shape));
    const peakAfter = measurePeak(gemmKernels);
    peakGflops = Math.max(peakBefore, peakAfter);
    log('');
    log(
      `SIMD peak (12 f32x4 multiply-add chains, one core): ${peakBefore.toFixed(1)} GFLOP/s before the GEMMs, ` +
        `${peakAfter.toFixed(1)} after; % below are of the higher`,
    );
    log('| GEMM | op | m × n × k | GFLOP/s | % of peak |');
    log('|---|---|---|---:|---:|');
    for (const r of results) {
      const op = `${r.transA ? 'T' : 'N'}${r.transB ? 'T' : 'N'}`;
      const ofPeak = (100 * r.gflops) / peakGflops;
      gemm.push({ what: `${r.what} ${op} ${r.m}×${r.n}×${r.k}`, op, gflops: r.gflops, ofPeak });
      log(
        `| ${r.what} | ${op} | ${r.m} × ${r.n} × ${r.k} | ${r.gflops.toFixed(1)} | ${ofPeak.toFixed(0)} % |`,
      );
    }
  }

  // Ours on each backend, from the same initial weights (the default backend's model, which tfjs then
  // starts from too). Each model is built while its backend is installed, so its buffers are that
  // backend's (wasm memory or plain arrays).
  const defaultKernels = kernels();
  const ours = referenceModel();
  const initialWeights = ours.model.getWeights();
  ours.model.dispose();
  const variants: { label: string; kernels: Kernels }[] = [
    { label: defaultKernels.name, kernels: defaultKernels },
  ];
  if (defaultKernels.name === 'wasm') {
    const single = createWasmKernels({ threads: 1 });
    if ((defaultKernels as WasmKernels).waitForThread()) {
      variants[0].label = 'wasm, 2 threads';
      if (single) variants.push({ label: 'wasm, 1 thread', kernels: single });
    }
    variants.push({ label: 'ts', kernels: tsKernels });
  }
  let ourWindowOutput = new Float32Array(0);
  const oursByBackend: { label: string; trainStepMs: number; inferMs: number }[] = [];
  for (const v of variants) {
    setKernels(v.kernels);
    const run = referenceModel();
    run.model.setWeights(initialWeights);
    const output = Float32Array.from(run.infer(window).data);
    if (v.kernels === defaultKernels) ourWindowOutput = output;
    const trainStepMs = await medianMs(
      () => run.trainStep(train.x, train.y),
      options.trainWarmup,
      options.trainRuns,
    );
    const inferMs = await medianMs(() => run.infer(window), options.inferWarmup, options.inferRuns);
    run.model.dispose();
    oursByBackend.push({ label: v.label, trainStepMs, inferMs });
    log(`ours (${v.label}): training step ${trainStepMs.toFixed(1)} ms, inference ${inferMs.toFixed(3)} ms`);
  }
  setKernels(defaultKernels);
  const oursTrain = oursByBackend[0].trainStepMs;
  const oursInfer = oursByBackend[0].inferMs;
  const oursRssMb = process.resourceUsage().maxRSS / 1024;

  const rows: Row[] = oursByBackend.flatMap((o) => [
    { what: `ours (${o.label}) training step`, ms: o.trainStepMs },
    { what: `ours (${o.label}) inference`, ms: o.inferMs },
  ]);

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
  log(`| what | median ms | ÷ ours (${oursByBackend[0].label}) |`);
  log('|---|---:|---:|');
  for (const r of rows) {
    const base = r.what.includes('training') ? oursTrain : oursInfer;
    const ratio =
      r.ms === null || r.what === rows[0].what || r.what === rows[1].what ? '' : (r.ms / base).toFixed(2);
    log(`| ${r.what} | ${r.ms === null ? `— (${r.note})` : r.ms.toFixed(r.ms < 100 ? 2 : 0)} | ${ratio} |`);
  }
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  log(
    `\npeak RSS: ${oursRssMb.toFixed(0)} MB after our runs (tfjs imported, not yet run), ${maxRssMb.toFixed(0)} MB for the whole run`,
  );
  const find = (what: string) => rows.find((r) => r.what === what)?.ms ?? null;
  log(
    JSON.stringify({
      backend: kernels().name,
      trainStepMs: oursTrain,
      inferMs: oursInfer,
      oursByBackend,
      peakGflops,
      gemm,
      tfjsCpuTrainStepMs: find('tfjs cpu training step'),
      tfjsCpuInferMs: find('tfjs cpu inference'),
      tfjsWasmInferMs: find('tfjs wasm inference'),
      oursRssMb: Math.round(oursRssMb),
      maxRssMb: Math.round(maxRssMb),
    }),
  );
}

await main(process.argv.slice(2));
