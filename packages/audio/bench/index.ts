/**
 * Front-end speed on one core: `npm run bench -w @kws/audio` (add `-- --json` for one JSON line).
 *
 * - MFCC of 10 s of 16 kHz audio (998 frames) by `mfcc()`, as × real time: median of many runs after warm-up.
 * - meyda 5.6 MFCC over the same frame starts in the same run. meyda wants power-of-two buffers, so it gets
 *   512-sample frames at the same 160-sample hop (its frames differ; this compares speed only).
 * - the raw 512-point real FFT (kissfft-wasm behind our batch interface) in µs per frame, and kissfft-wasm's
 *   own one-shot `rfft()` for comparison.
 * - resampling 5 s of 44.1 kHz audio to 16 kHz (what an upload costs before feature extraction), and 2 s at
 *   48 / 44.1 / 22.05 kHz by `resample()` (the wasm SIMD kernel) against the float64 JavaScript filter it
 *   replaced, the two timed alternately in the same rounds (median and best of 40 each).
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { kissBatchRealFft } from '../src/fft/kissfft.ts';
import { mfcc, resample } from '../src/index.ts';
import { resampleFloat64 } from '../src/resample.ts';

interface MeydaLike {
  bufferSize: number;
  sampleRate: number;
  melBands: number;
  numberOfMFCCCoefficients: number;
  windowingFunction: string;
  extract(feature: 'mfcc', signal: Float32Array): number[];
}

const require = createRequire(import.meta.url);
const json = process.argv.includes('--json');
const SECONDS = 10;
const RATE = 16000;

/** Speech-like test audio: two gliding harmonics under a syllable envelope, plus noise (deterministic). */
function testSignal(): Float32Array {
  const x = new Float32Array(SECONDS * RATE);
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

/** Median wall time in ms of `fn` over `runs` runs, after `warmup` unmeasured runs. */
function medianMs(fn: () => void, runs: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const signal = testSignal();
const frames = mfcc(signal).frames;

const oursMs = medianMs(() => mfcc(signal), 300, 100);

const Meyda = require('meyda') as MeydaLike;
Meyda.bufferSize = 512;
Meyda.sampleRate = RATE;
Meyda.melBands = 40;
Meyda.numberOfMFCCCoefficients = 13;
Meyda.windowingFunction = 'hanning';
const meydaFrames = 1 + Math.floor((signal.length - 512) / 160);
let sink = 0;
const meydaMs = medianMs(
  () => {
    for (let f = 0; f < meydaFrames; f++)
      sink += Meyda.extract('mfcc', signal.subarray(f * 160, f * 160 + 512))[0];
  },
  15,
  3,
);

const fft = kissBatchRealFft(512, 32);
fft.input().set(signal.subarray(0, 32 * 512));
const fftBatchUs = (medianMs(() => fft.transform(32), 2000, 500) * 1000) / 32;
const kiss = require('kissfft-wasm') as { rfft(input: Float32Array): Float32Array };
const frame = signal.slice(0, 512);
const fftOneShotUs = medianMs(() => kiss.rfft(frame), 5000, 1000) * 1000;

const upload = new Float32Array(5 * 44100);
for (let i = 0; i < upload.length; i++) upload[i] = signal[i % signal.length];
const resampleMs = medianMs(() => resample(upload, 44100, 16000), 15, 3);

/** Median and best ms of `kernel` and `float64` on 2 s at `rate`, timed alternately (same load for both). */
function resample2s(rate: number) {
  const clip = new Float32Array(2 * rate);
  for (let i = 0; i < clip.length; i++) clip[i] = signal[i % signal.length];
  const times = { kernel: [] as number[], float64: [] as number[] };
  const time = (fn: () => void) => {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  for (let round = 0; round < 45; round++) {
    const kernelMs = time(() => resample(clip, rate, 16000));
    const float64Ms = time(() => resampleFloat64(clip, rate, 16000));
    if (round < 5) continue; // warm-up
    times.kernel.push(kernelMs);
    times.float64.push(float64Ms);
  }
  const stats = (t: number[]) => {
    t.sort((a, b) => a - b);
    return { medianMs: t[Math.floor(t.length / 2)], bestMs: t[0] };
  };
  return { rate, kernel: stats(times.kernel), float64: stats(times.float64) };
}
const resample2sTo16k = [48000, 44100, 22050].map(resample2s);

const result = {
  node: process.version,
  seconds: SECONDS,
  frames,
  mfccMs: oursMs,
  mfccRealTime: (SECONDS * 1000) / oursMs,
  usPerFrame: (oursMs * 1000) / frames,
  meydaMs,
  meydaRealTime: (SECONDS * 1000) / meydaMs,
  speedupVsMeyda: meydaMs / oursMs,
  fft512UsPerFrame: fftBatchUs,
  kissfftRfftOneShotUs: fftOneShotUs,
  resample5sFrom44kMs: resampleMs,
  resample2sTo16k,
  loadAverage: loadavg()[0],
};
if (sink === Number.POSITIVE_INFINITY) process.stderr.write('unreachable\n'); // keeps meyda's result live
if (json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const f = (v: number, d = 2) => v.toFixed(d);
  process.stdout.write(
    [
      `MFCC, ${SECONDS} s of 16 kHz audio (${frames} frames), one core, median of 300 runs after 100 warm-up (${process.version}):`,
      `  @kws/audio mfcc(): ${f(oursMs, 3)} ms = ${f(result.mfccRealTime, 0)}× real time (${f(result.usPerFrame)} µs/frame)`,
      `  meyda 5.6.3 mfcc (512-sample frames, hop 160, ${meydaFrames} frames, median of 15): ${f(meydaMs, 1)} ms = ${f(result.meydaRealTime, 0)}× real time`,
      `  speed-up over meyda: ${f(result.speedupVsMeyda, 1)}×`,
      `  512-point real FFT (kissfft-wasm, reused config and buffers, batches of 32): ${f(fftBatchUs)} µs/frame`,
      `  512-point real FFT (kissfft-wasm one-shot rfft()): ${f(fftOneShotUs)} µs/call`,
      `  resample 5 s 44.1 kHz → 16 kHz (median of 15): ${f(resampleMs, 1)} ms`,
      ...resample2sTo16k.map(
        ({ rate, kernel, float64 }) =>
          `  resample 2 s ${rate / 1000} kHz → 16 kHz, median / best of 40: wasm kernel ${f(kernel.medianMs)} / ${f(kernel.bestMs)} ms, ` +
          `float64 JS ${f(float64.medianMs)} / ${f(float64.bestMs)} ms (${f(float64.medianMs / kernel.medianMs, 1)}×)`,
      ),
      `  (1-minute load average at the end: ${f(result.loadAverage)})`,
      '',
    ].join('\n'),
  );
}
