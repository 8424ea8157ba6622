/**
 * Streaming detection speed as × real time on one core (the target: ≥ 500× at the stored hop).
 *
 *   npm run bench -w @kws/detector [-- --json] [--seconds S] [--chunk S] [--model M.kws]
 *   (KWS_NN_BACKEND=ts|wasm picks packages/nn's kernels)
 *
 * Runs `detect()` (MFCC stream → ≈ 1.5 s windows every `smoothing.hop_s` → network → smoothing) over S
 * seconds (default 120) of deterministic speech-like audio, pushed in --chunk second pieces (default 0.1 s,
 * as a live stream would push it; a file is pushed in 1 s pieces), after one warm-up run; reports the median of 3 runs. The model is the committed base model when
 * it exists (or --model), otherwise a freshly initialized detector of the same architecture: speed does not
 * depend on the weights. Also reports one window at batch 1 (what a live stream with 0.1 s chunks runs) and
 * the MFCC share of the time.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createMfccStream } from '@kws/audio';
import { kernels } from '@kws/nn';
import { detect } from '../src/detect/detector.ts';
import { createDetectorNetwork } from '../src/model/architecture.ts';
import { BASE_MODEL_PATH, readDetectorModel } from '../src/model/base-model.ts';
import { detectorHeader } from '../src/model/header.ts';
import type { DetectorModel } from '../src/model/model-file.ts';

const RATE = 16_000;
const RUNS = 3;

/** Syllable-rate envelope over two gliding harmonics plus noise (a fixed LCG, so runs repeat). */
function speechLike(seconds: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * RATE));
  let seed = 12345;
  for (let i = 0; i < x.length; i++) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const t = i / RATE;
    const envelope = Math.max(0, Math.sin(2 * Math.PI * 3 * t));
    const voice =
      Math.sin(2 * Math.PI * (150 + 30 * Math.sin(t)) * t) + 0.5 * Math.sin(2 * Math.PI * 1200 * t);
    x[i] = 0.3 * envelope * voice + 0.01 * (seed / 2 ** 32 - 0.5);
  }
  return x;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchDetect(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      seconds: { type: 'string' },
      model: { type: 'string' },
      chunk: { type: 'string' },
    },
    strict: true,
  });
  const chunk = Math.round(Number(values.chunk ?? 0.1) * RATE);
  const seconds = Number(values.seconds ?? 120);
  const modelPath = values.model ?? (existsSync(BASE_MODEL_PATH) ? BASE_MODEL_PATH : null);
  const model: DetectorModel = modelPath
    ? (await readDetectorModel(modelPath)).model
    : { network: createDetectorNetwork({ seed: 1 }), header: detectorHeader({ keyword: 'hey nova' }) };
  const audio = speechLike(seconds);

  detect(model, audio.subarray(0, 10 * RATE), {}, chunk); // warm-up
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    detect(model, audio, {}, chunk);
    runs.push(performance.now() - t0);
  }
  const ms = median(runs);

  const mfccRuns: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const stream = createMfccStream(model.header.feature_config);
    const t0 = performance.now();
    for (let i = 0; i < audio.length; i += chunk) stream.push(audio.subarray(i, i + chunk));
    mfccRuns.push(performance.now() - t0);
  }

  const input = model.network.inputShape ?? [148, 13];
  const window = { shape: [1, ...input], data: audio.subarray(0, input[0] * input[1]) };
  for (let i = 0; i < 5; i++) model.network.forward(window);
  const windowRuns: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    model.network.forward(window);
    windowRuns.push(performance.now() - t0);
  }
  return {
    bench: 'detect',
    model: modelPath ?? 'fresh (untrained) detector, same architecture',
    backend: kernels().name,
    audioS: seconds,
    hopS: model.header.smoothing.hop_s,
    chunkS: chunk / RATE,
    xRealTime: Math.round((seconds * 1000) / ms),
    msPerAudioSecond: Number((ms / seconds).toFixed(3)),
    mfccShare: Number((median(mfccRuns) / ms).toFixed(3)),
    windowMsBatch1: Number(median(windowRuns).toFixed(3)),
    load1: Number(loadavg()[0].toFixed(2)),
  };
}
