/**
 * DESIGN §1 steps 1–6 in plain TypeScript with float64 arithmetic after the FFT, over any `BatchRealFft`.
 * The production path is the wasm kernel (wasm-plan.ts); this one is its independent cross-check, and with
 * the O(N²) reference DFT it has no float32 FFT in it at all. Tables are built once, nothing is allocated
 * per call.
 */
import type { BatchRealFft } from '../fft/fft.ts';
import { outputStride } from '../fft/fft.ts';
import { kissBatchRealFft } from '../fft/kissfft.ts';
import type { FeatureConfig } from './config.ts';
import { dctMatrix } from './dct.ts';
import { type SparseMelWeights, sparseMelWeights } from './mel.ts';
import { checkComputeArgs, type MfccPlan } from './plan.ts';
import { hannPeriodic } from './window.ts';

/** Frames per FFT call: enough to amortize the JS → wasm calls, small enough to stay in cache. */
const FFT_BATCH = 32;

export class ReferenceMfccPlan implements MfccPlan {
  readonly config: FeatureConfig;
  private readonly fft: BatchRealFft;
  /** [frame_length] */
  private readonly window: Float32Array;
  private readonly mel: SparseMelWeights;
  /** [num_mfcc, num_mel_bins] */
  private readonly dct: Float64Array;
  /** [num_mel_bins + 1]: the extra slot takes the (zero) second weight of the last filter's bins. */
  private readonly melEnergy: Float64Array;
  /** [num_mel_bins] */
  private readonly logMel: Float64Array;

  /** `fft` may be swapped for a reference transform in tests; it must have size `fft_length`. */
  constructor(config: FeatureConfig, fft: BatchRealFft = kissBatchRealFft(config.fft_length, FFT_BATCH)) {
    if (fft.size !== config.fft_length) {
      throw new RangeError(`MfccPlan needs an FFT of size ${config.fft_length}, got ${fft.size}`);
    }
    this.config = config;
    this.fft = fft;
    this.window = hannPeriodic(config.frame_length);
    this.mel = sparseMelWeights(config);
    this.dct = dctMatrix(config.num_mfcc, config.num_mel_bins);
    this.melEnergy = new Float64Array(config.num_mel_bins + 1);
    this.logMel = new Float64Array(config.num_mel_bins);
  }

  compute(samples: Float32Array, start: number, frames: number, out: Float32Array, outRow: number): void {
    const { frame_length: length, frame_step: step, num_mfcc: coeffs, num_mel_bins: mels } = this.config;
    checkComputeArgs(this.config, samples, start, frames, out, outRow);
    if (frames === 0) return;
    const size = this.fft.size;
    const stride = outputStride(size);
    const window = this.window;
    const { binStart, binEnd, first, w0, w1 } = this.mel;
    const melEnergy = this.melEnergy;
    const logMel = this.logMel;
    const dct = this.dct;
    const offset = this.config.log_offset;

    for (let done = 0; done < frames; done += this.fft.batch) {
      const count = Math.min(this.fft.batch, frames - done);
      // Steps 1–2: frame and window. Samples frame_length … fft_length − 1 stay zero (the FFT never writes them).
      const input = this.fft.input();
      for (let f = 0; f < count; f++) {
        const src = start + (done + f) * step;
        const dst = f * size;
        for (let n = 0; n < length; n++) input[dst + n] = samples[src + n] * window[n];
      }
      // Step 3: real FFT.
      this.fft.transform(count);
      const spectrum = this.fft.output();
      for (let f = 0; f < count; f++) {
        // Steps 3–4: power spectrum straight into the two mel filters each bin feeds.
        melEnergy.fill(0);
        const base = f * stride;
        for (let k = binStart; k < binEnd; k++) {
          const re = spectrum[base + 2 * k];
          const im = spectrum[base + 2 * k + 1];
          const power = re * re + im * im;
          const m = first[k];
          melEnergy[m] += power * w0[k];
          melEnergy[m + 1] += power * w1[k];
        }
        // Step 5: log mel energies.
        for (let m = 0; m < mels; m++) logMel[m] = Math.log(melEnergy[m] + offset);
        // Step 6: DCT-II, first num_mfcc rows.
        const row = (outRow + done + f) * coeffs;
        for (let i = 0; i < coeffs; i++) {
          let acc = 0;
          const d = i * mels;
          for (let m = 0; m < mels; m++) acc += dct[d + m] * logMel[m];
          out[row + i] = acc;
        }
      }
    }
  }
}
