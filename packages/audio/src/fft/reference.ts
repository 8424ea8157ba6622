/**
 * A plain float64 DFT by the definition, X[k] = Σ x[n]·e^(−2πikn/N), behind the `BatchRealFft` interface.
 * O(N²) and independent of any FFT algorithm: it is the oracle the kissfft transform is tested against.
 */
import { type BatchRealFft, checkCount, checkFftArgs, outputStride } from './fft.ts';

export class ReferenceBatchRealFft implements BatchRealFft {
  readonly size: number;
  readonly batch: number;
  private readonly inBuf: Float32Array;
  private readonly outBuf: Float32Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(size: number, batch: number) {
    checkFftArgs(size, batch);
    this.size = size;
    this.batch = batch;
    this.inBuf = new Float32Array(batch * size);
    this.outBuf = new Float32Array(batch * outputStride(size));
    this.cos = new Float64Array(size);
    this.sin = new Float64Array(size);
    for (let n = 0; n < size; n++) {
      this.cos[n] = Math.cos((2 * Math.PI * n) / size);
      this.sin[n] = Math.sin((2 * Math.PI * n) / size);
    }
  }

  input(): Float32Array {
    return this.inBuf;
  }

  output(): Float32Array {
    return this.outBuf;
  }

  transform(count: number): void {
    checkCount(count, this.batch);
    const n = this.size;
    const stride = outputStride(n);
    for (let f = 0; f < count; f++) {
      const x = f * n;
      const o = f * stride;
      for (let k = 0; k <= n / 2; k++) {
        let re = 0;
        let im = 0;
        for (let t = 0; t < n; t++) {
          const phase = (k * t) % n;
          re += this.inBuf[x + t] * this.cos[phase];
          im -= this.inBuf[x + t] * this.sin[phase];
        }
        this.outBuf[o + 2 * k] = re;
        this.outBuf[o + 2 * k + 1] = im;
      }
    }
  }
}
