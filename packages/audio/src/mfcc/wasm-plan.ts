/**
 * The production MFCC path: wasm/mfcc_kernel.c (WebAssembly SIMD) running inside kissfft-wasm's memory and
 * calling its `kiss_fft` directly, so a batch of frames is one JS → wasm call (DESIGN §1 steps 1–6). The
 * FFT is a kissfft `RealFFTConfig` used the way kiss_fftr uses it (its complex sub-state, then its
 * super-twiddles), with that last split step vectorized in the kernel.
 *
 * Tables (window, per-filter mel weights, transposed DCT) and every buffer are allocated once per plan
 * with kissfft's allocator; `compute` copies samples in and coefficients out, at most CHUNK_FRAMES frames
 * per call, so memory stays bounded for long inputs.
 */
import { readFileSync } from 'node:fs';
import { kissfft } from '../fft/kissfft.ts';
import type { FeatureConfig } from './config.ts';
import { dctMatrix } from './dct.ts';
import { melWeights } from './mel.ts';
import { checkComputeArgs, type MfccPlan } from './plan.ts';
import { hannPeriodic } from './window.ts';

const CHUNK_FRAMES = 256;
const F32 = 4;

interface KernelExports {
  mfcc_frames(plan: number, samples: number, frames: number, out: number): void;
}

const kernel = new WebAssembly.Instance(
  new WebAssembly.Module(readFileSync(new URL('./mfcc_kernel.wasm', import.meta.url))),
  { env: { memory: kissfft.memory }, kissfft: { kiss_fft: kissfft.kissFft } },
).exports as unknown as KernelExports;

const roundUp4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Field order of `struct plan` in wasm/mfcc_kernel.c: 18 four-byte fields. */
const PLAN_FIELDS = 18;

/**
 * A kissfft real-FFT config for length n, opened up: kiss_fftr_state is { kiss_fft_cfg substate;
 * kiss_fft_cpx *tmpbuf; kiss_fft_cpx *super_twiddles; } and the sub-state starts { int nfft; int inverse; }.
 * The checks pin that layout (kissfft-wasm 1.1.2); the config lives as long as the process.
 */
function realFftParts(n: number): { substate: number; superTwiddles: number } {
  const config = kissfft.realFftConfig(n);
  const heap = kissfft.heapI32();
  const substate = heap[config.pointer / 4];
  const superTwiddles = heap[config.pointer / 4 + 2];
  if (heap[substate / 4] !== n / 2 || heap[substate / 4 + 1] !== 0) {
    throw new Error(`kissfft real-FFT config for ${n} points does not have the kissfft 1.1.2 layout`);
  }
  return { substate, superTwiddles };
}

export class WasmMfccPlan implements MfccPlan {
  readonly config: FeatureConfig;
  private readonly plan: number;
  private readonly samplesPtr: number;
  private readonly outPtr: number;

  constructor(config: FeatureConfig) {
    this.config = config;
    const {
      fft_length: n,
      frame_length: length,
      frame_step: step,
      num_mel_bins: mels,
      num_mfcc: coeffs,
    } = config;
    const bins = n / 2 + 1;
    const binCount = roundUp4(bins);
    const coeffBlocks = Math.ceil(coeffs / 4);

    // Mel filters as contiguous bin ranges, each padded with zero weights to a multiple of 4.
    const dense = melWeights(config);
    const starts: number[] = [];
    const widths: number[] = [];
    const offsets: number[] = [];
    const weights: number[] = [];
    for (let m = 0; m < mels; m++) {
      let first = -1;
      let last = -1;
      for (let k = 0; k < bins; k++) {
        if (dense[k * mels + m] > 0) {
          if (first < 0) first = k;
          last = k;
        }
      }
      if (first < 0) {
        throw new RangeError(
          `mel filter ${m} covers no FFT bin at fft_length ${n} between ${config.lower_edge_hertz} and ` +
            `${config.upper_edge_hertz} Hz; use fewer mel bins or a longer FFT`,
        );
      }
      const width = roundUp4(last - first + 1);
      starts.push(first);
      widths.push(width);
      offsets.push(weights.length);
      for (let k = first; k < first + width; k++) weights.push(k < bins ? dense[k * mels + m] : 0);
    }
    const dct = dctMatrix(coeffs, mels);
    const dctT = new Float32Array(mels * 4 * coeffBlocks);
    for (let m = 0; m < mels; m++) {
      for (let i = 0; i < coeffs; i++) dctT[m * 4 * coeffBlocks + i] = dct[i * mels + m];
    }

    const floats = (values: ArrayLike<number>, size = values.length): number => {
      const ptr = kissfft.malloc(Math.max(1, size) * F32);
      const heap = kissfft.heapF32();
      heap.fill(0, ptr / F32, ptr / F32 + size);
      heap.set(values, ptr / F32);
      return ptr;
    };
    const ints = (values: number[]): number => {
      const ptr = kissfft.malloc(values.length * 4);
      kissfft.heapI32().set(values, ptr / 4);
      return ptr;
    };
    const fft = realFftParts(n);
    const fields = [
      fft.substate,
      n,
      length,
      step,
      mels,
      coeffs,
      0, // log_offset, written as a float below
      floats(hannPeriodic(length)),
      ints(starts),
      ints(widths),
      ints(offsets),
      floats(weights),
      floats(dctT),
      floats([], n),
      floats([], n),
      floats([], Math.max(binCount, ...starts.map((s, m) => s + widths[m])) + 4),
      floats([], roundUp4(mels)),
      fft.superTwiddles,
    ];
    if (fields.length !== PLAN_FIELDS) throw new Error('struct plan layout mismatch');
    this.plan = ints(fields);
    kissfft.heapF32()[this.plan / F32 + 6] = config.log_offset;
    this.samplesPtr = floats([], (CHUNK_FRAMES - 1) * step + length);
    this.outPtr = floats([], CHUNK_FRAMES * coeffs + 4);
  }

  compute(samples: Float32Array, start: number, frames: number, out: Float32Array, outRow: number): void {
    checkComputeArgs(this.config, samples, start, frames, out, outRow);
    const { frame_length: length, frame_step: step, num_mfcc: coeffs } = this.config;
    for (let done = 0; done < frames; done += CHUNK_FRAMES) {
      const count = Math.min(CHUNK_FRAMES, frames - done);
      const from = start + done * step;
      kissfft
        .heapF32()
        .set(samples.subarray(from, from + (count - 1) * step + length), this.samplesPtr / F32);
      kernel.mfcc_frames(this.plan, this.samplesPtr, count, this.outPtr);
      const heap = kissfft.heapF32();
      const rows = heap.subarray(this.outPtr / F32, this.outPtr / F32 + count * coeffs);
      // Any Inf or NaN in a frame reaches its c0 (the plain sum of the log energies).
      for (let f = 0; f < count; f++) {
        if (!Number.isFinite(rows[f * coeffs]))
          throw nonFiniteFrame(samples, from + f * step, length, done + f);
      }
      out.set(rows, (outRow + done) * coeffs);
    }
  }
}

function nonFiniteFrame(samples: Float32Array, from: number, length: number, frame: number): RangeError {
  let peak = 0;
  for (let i = from; i < from + length; i++) peak = Math.max(peak, Math.abs(samples[i]));
  const reason = Number.isNaN(peak) ? 'contains NaN' : `peaks at ${peak}, overflowing float32 power`;
  return new RangeError(`mfcc: frame ${frame} ${reason}; expected finite audio roughly within [-1, 1]`);
}
