/**
 * Streaming detection speed as × real time on one core (the target: ≥ 500× at the stored hop).
 *
 *   npm run bench -w @kws/detector [-- --json] [--seconds S] [--runs N] [--model M.kws]
 *   (KWS_NN_BACKEND=ts|wasm picks packages/nn's kernels; nn's kernel thread stays off unless KWS_NN_THREADS=2)
 *
 * Over S seconds (default 120) of deterministic speech-like audio, after one warm-up run, N runs (default 7)
 * of each of:
 *
 * - `file`: what `kws detect IN.wav` does for each file once the model is loaded: read a 16-bit WAV file
 *   from disk, decode it, and run `detect()` over it (1 s pushes, so up to 4 windows per forward pass at
 *   hop 0.25 s). MFCC and file reading are included; loading the model (once per command, whatever the
 *   audio length) is timed separately.
 * - `stream`: `detect()` on samples already in memory, pushed in 0.1 s pieces as a live stream would push
 *   them (one window per forward pass).
 *
 * Each is reported as × real time from wall-clock time (median run) and from the process's CPU time (user +
 * system; median run, and the best run). Detection runs on one thread, so CPU time is the one-core cost,
 * and it does not count the time the scheduler gave to other processes on a shared machine (wall-clock
 * time does).
 * Also reported: one window's forward pass at batch 1 and the MFCC stream's share of the `stream` time.
 * The model is the committed base model when it exists (or --model), otherwise a freshly initialized
 * detector of the same architecture: speed does not depend on the weights.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createMfccStream, encodeWav } from '@kws/audio';
import { kernels } from '@kws/nn';
import { readWavArg } from '../src/cli/commands/inputs.ts';
import { detect } from '../src/detect/detector.ts';
import { createDetectorNetwork } from '../src/model/architecture.ts';
import { BASE_MODEL_PATH, readDetectorModel } from '../src/model/base-model.ts';
import { detectorHeader } from '../src/model/header.ts';
import { type DetectorModel, saveDetectorModel } from '../src/model/model-file.ts';

const RATE = 16_000;

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

interface Timing {
  wallMs: number;
  cpuMs: number;
  /** The least CPU time of any run: the least disturbed by other processes on a shared machine. */
  bestCpuMs: number;
}

async function time(runs: number, body: () => unknown): Promise<Timing> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await body();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu), bestCpuMs: Math.min(...cpu) };
}

const xRealTime = (seconds: number, ms: number) => Math.round((seconds * 1000) / ms);

const report = (seconds: number, t: Timing) => ({
  xRealTimeCpu: xRealTime(seconds, t.cpuMs),
  xRealTimeCpuBest: xRealTime(seconds, t.bestCpuMs),
  xRealTimeWall: xRealTime(seconds, t.wallMs),
});

export async function benchDetect(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      seconds: { type: 'string' },
      runs: { type: 'string' },
      model: { type: 'string' },
    },
    strict: true,
  });
  const seconds = Number(values.seconds ?? 120);
  const runs = Number(values.runs ?? 7);
  const modelPath = values.model ?? (existsSync(BASE_MODEL_PATH) ? BASE_MODEL_PATH : null);
  const model: DetectorModel = modelPath
    ? (await readDetectorModel(modelPath)).model
    : { network: createDetectorNetwork({ seed: 1 }), header: detectorHeader({ keyword: 'hey nova' }) };
  const audio = speechLike(seconds);

  const dir = mkdtempSync(join(tmpdir(), 'kws-bench-detect-'));
  try {
    const wav = join(dir, 'speech.wav');
    writeFileSync(wav, encodeWav(audio, RATE));
    const modelFile = modelPath ?? join(dir, 'model.kws');
    if (!modelPath) writeFileSync(modelFile, saveDetectorModel(model));
    const load = await time(runs, () => readDetectorModel(modelFile));
    const kwsDetect = async () => detect(model, await readWavArg(wav));
    const stream = () => detect(model, audio, {}, RATE / 10);

    await kwsDetect(); // warm-up
    stream();
    const file = await time(runs, kwsDetect);
    const live = await time(runs, stream);

    const mfcc = await time(runs, () => {
      const s = createMfccStream(model.header.feature_config);
      for (let i = 0; i < audio.length; i += RATE / 10) s.push(audio.subarray(i, i + RATE / 10));
    });

    const input = model.network.inputShape ?? [148, 13];
    const window = { shape: [1, ...input], data: audio.subarray(0, input[0] * input[1]) };
    for (let i = 0; i < 5; i++) model.network.forward(window);
    const one = await time(31, () => model.network.forward(window));
    return {
      bench: 'detect',
      model: modelPath ?? 'fresh (untrained) detector, same architecture',
      backend: kernels().name,
      audioS: seconds,
      runs,
      hopS: model.header.smoothing.hop_s,
      file: report(seconds, file),
      stream: report(seconds, live),
      modelLoadMs: Number(load.wallMs.toFixed(1)),
      mfccShareOfStream: Number((mfcc.cpuMs / live.cpuMs).toFixed(3)),
      windowMsBatch1: Number(one.wallMs.toFixed(3)),
      load1: Number(loadavg()[0].toFixed(2)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
