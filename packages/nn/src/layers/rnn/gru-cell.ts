/**
 * Keras GRUCell, one step, gate order z, r, h (kernel [in, 3u], recurrent_kernel [u, 3u]):
 *
 *   [xz, xr, xh] = x · kernel + b_in
 *   reset_after = true (TF2 default; bias [2, 3u] = [b_in; b_rec]):
 *     [rz, rr, rh] = h_prev · recurrent_kernel + b_rec
 *     z = σ(xz + rz)   r = σ(xr + rr)   hh = act(xh + r ⊙ rh)
 *   reset_after = false (bias [3u] = b_in):
 *     z = σ(xz + h_prev · U_z)   r = σ(xr + h_prev · U_r)   hh = act(xh + (r ⊙ h_prev) · U_h)
 *   h = z ⊙ h_prev + (1 − z) ⊙ hh
 */
import { kernels } from '../../kernels/backend.ts';
import type { DType, FloatArray } from '../../tensor.ts';
import type { Weight } from '../layer.ts';
import type { RecurrentActivation } from './activations.ts';
import {
  backwardEachStep,
  type CellRequirements,
  type CellWeights,
  forwardEachStep,
  newCellWeights,
  type RecurrentCell,
  type RecurrentWorkspace,
  requireBuilt,
} from './rnn-loop.ts';

export interface GRUCellOptions {
  units: number;
  activation: RecurrentActivation;
  recurrentActivation: RecurrentActivation;
  useBias: boolean;
  resetAfter: boolean;
}

export class GRUCell implements RecurrentCell {
  readonly gateCount = 3;
  readonly requirements: CellRequirements;
  readonly units: number;
  readonly resetAfter: boolean;
  private readonly activation: RecurrentActivation;
  private readonly recurrentActivation: RecurrentActivation;
  private readonly useBias: boolean;
  private w: CellWeights | null = null;

  constructor(options: GRUCellOptions) {
    this.units = options.units;
    this.activation = options.activation;
    this.recurrentActivation = options.recurrentActivation;
    this.useBias = options.useBias;
    this.resetAfter = options.resetAfter;
    this.requirements = {
      cellState: false,
      // reset_after: rh = h_prev · U_h + b_rh (dr needs it); else r ⊙ h_prev (dU_h needs it).
      extraPerRow: options.units,
      // reset_after: forward's whole recurrent matmul [B, 3u] of one step, before r gates its h block;
      // else: backward's d(r ⊙ h_prev) [B, u].
      scratchPerRow: options.resetAfter ? 3 * options.units : options.units,
      separateRecurrentGrad: options.resetAfter,
    };
  }

  build(inputSize: number, dtype: DType): void {
    const u = this.units;
    const biasShape = this.useBias ? (this.resetAfter ? [2, 3 * u] : [3 * u]) : null;
    this.w = newCellWeights(dtype, inputSize, u, 3, biasShape);
  }
  get weights(): readonly Weight[] {
    return this.w?.weights ?? [];
  }
  get kernel(): Weight {
    return requireBuilt(this.w, 'GRUCell').kernel;
  }
  /** The loop adds the first 3u values (b_in) to x · kernel; with reset_after the next 3u are b_rec. */
  get bias(): Weight | null {
    return requireBuilt(this.w, 'GRUCell').bias;
  }

  forward(ws: RecurrentWorkspace): void {
    forwardEachStep(ws, (s) => this.forwardStep(ws, s));
  }

  backward(ws: RecurrentWorkspace, dy: FloatArray | null): void {
    backwardEachStep(ws, this.units, dy, (s) => this.backwardStep(ws, s));
  }

  /** Saves z, r, hh (post-activation) in gates[s], and rh / r ⊙ h_prev in extra[s]; h goes to hs[s+1]. */
  forwardStep(ws: RecurrentWorkspace, s: number): void {
    const u = this.units;
    const B = ws.batch;
    const { gates: g, hs, extra, scratch } = ws;
    const gOff = s * B * 3 * u;
    const prev = s * B * u;
    const next = (s + 1) * B * u;
    const eOff = s * B * u;
    const U = this.w!.recurrentKernel.value;
    const rec = this.recurrentActivation;
    const act = this.activation;
    const k = kernels();
    if (this.resetAfter) {
      const bias = this.w!.bias;
      if (bias)
        for (let b = 0; b < B; b++)
          for (let j = 0; j < 3 * u; j++) scratch[b * 3 * u + j] = bias.value[3 * u + j];
      k.gemm(false, false, B, 3 * u, u, 1, hs, prev, u, U, 0, 3 * u, bias ? 1 : 0, scratch, 0, 3 * u);
      for (let b = 0; b < B; b++) {
        const row = gOff + b * 3 * u;
        const sRow = b * 3 * u;
        for (let j = 0; j < 2 * u; j++) g[row + j] += scratch[sRow + j];
        rec.apply(g, row, 2 * u);
        for (let j = 0; j < u; j++) {
          const rh = scratch[sRow + 2 * u + j];
          extra[eOff + b * u + j] = rh;
          g[row + 2 * u + j] += g[row + u + j] * rh;
        }
        act.apply(g, row + 2 * u, u);
      }
    } else {
      k.gemm(false, false, B, 2 * u, u, 1, hs, prev, u, U, 0, 3 * u, 1, g, gOff, 3 * u);
      for (let b = 0; b < B; b++) {
        const row = gOff + b * 3 * u;
        rec.apply(g, row, 2 * u);
        for (let j = 0; j < u; j++) extra[eOff + b * u + j] = g[row + u + j] * hs[prev + b * u + j];
      }
      k.gemm(false, false, B, u, u, 1, extra, eOff, u, U, 2 * u, 3 * u, 1, g, gOff + 2 * u, 3 * u);
      for (let b = 0; b < B; b++) act.apply(g, gOff + b * 3 * u + 2 * u, u);
    }
    for (let b = 0; b < B; b++) {
      const row = gOff + b * 3 * u;
      for (let j = 0; j < u; j++) {
        const z = g[row + j];
        const hp = hs[prev + b * u + j];
        hs[next + b * u + j] = z * hp + (1 - z) * g[row + 2 * u + j];
      }
    }
  }

  /**
   * h = z ⊙ h_prev + (1 − z) ⊙ hh   ⇒ dz = dh ⊙ (h_prev − hh), dhh = dh ⊙ (1 − z), dh_prev = dh ⊙ z + …
   * hh = act(ah)                    ⇒ dah = dhh ⊙ act'(hh)
   * reset_after: ah = xh + r ⊙ rh    ⇒ dr = dah ⊙ rh, d(rh) = dah ⊙ r → dRec; dh_prev += dRec · Uᵀ
   * else:        ah = xh + (r⊙h_prev)·U_h ⇒ d(r⊙h_prev) = dah · U_hᵀ, dr = that ⊙ h_prev,
   *                                          dh_prev += that ⊙ r + [dz_pre, dr_pre] · U_zrᵀ
   * z, r = σ(·)                     ⇒ dz_pre = dz ⊙ σ'(z), dr_pre = dr ⊙ σ'(r)
   */
  backwardStep(ws: RecurrentWorkspace, s: number): void {
    const u = this.units;
    const B = ws.batch;
    const { gates: g, dGates: dg, dRec, hs, extra, dh, scratch } = ws;
    const gOff = s * B * 3 * u;
    const prev = s * B * u;
    const eOff = s * B * u;
    const U = this.w!.recurrentKernel.value;
    const rec = this.recurrentActivation;
    const act = this.activation;
    const k = kernels();
    for (let b = 0; b < B; b++) {
      const row = gOff + b * 3 * u;
      for (let j = 0; j < u; j++) {
        const i = b * u + j;
        const z = g[row + j];
        const hh = g[row + 2 * u + j];
        const dhi = dh[i];
        dg[row + j] = dhi * (hs[prev + i] - hh) * rec.derivative(z);
        dg[row + 2 * u + j] = dhi * (1 - z) * act.derivative(hh);
        dh[i] = dhi * z; // the direct path h_prev → h; recurrent paths are added below
      }
    }
    if (this.resetAfter) {
      for (let b = 0; b < B; b++) {
        const row = gOff + b * 3 * u;
        for (let j = 0; j < u; j++) {
          const r = g[row + u + j];
          const dah = dg[row + 2 * u + j];
          dg[row + u + j] = dah * extra[eOff + b * u + j] * rec.derivative(r);
          dRec[row + j] = dg[row + j];
          dRec[row + u + j] = dg[row + u + j];
          dRec[row + 2 * u + j] = dah * r;
        }
      }
      k.gemm(false, true, B, u, 3 * u, 1, dRec, gOff, 3 * u, U, 0, 3 * u, 1, dh, 0, u);
    } else {
      const drh = scratch;
      k.gemm(false, true, B, u, u, 1, dg, gOff + 2 * u, 3 * u, U, 2 * u, 3 * u, 0, drh, 0, u);
      for (let b = 0; b < B; b++) {
        const row = gOff + b * 3 * u;
        for (let j = 0; j < u; j++) {
          const i = b * u + j;
          const r = g[row + u + j];
          dg[row + u + j] = drh[i] * hs[prev + i] * rec.derivative(r);
          dh[i] += drh[i] * r;
        }
      }
      k.gemm(false, true, B, u, 2 * u, 1, dg, gOff, 3 * u, U, 0, 3 * u, 1, dh, 0, u);
    }
  }

  /**
   * reset_after: [rz, rr, rh] = h_prev · U + b_rec ⇒ dU += Σ h_prevᵀ · dRec, db_rec += Σ_rows dRec.
   * else: dU_zr += Σ h_prevᵀ · dz_pre|dr_pre and dU_h += Σ (r ⊙ h_prev)ᵀ · dah.
   */
  accumulateRecurrentGrads(ws: RecurrentWorkspace): void {
    const u = this.units;
    const rows = ws.time * ws.batch;
    const dU = this.w!.recurrentKernel.grad;
    const k = kernels();
    if (this.resetAfter) {
      k.gemm(true, false, u, 3 * u, rows, 1, ws.hs, 0, u, ws.dRec, 0, 3 * u, 1, dU, 0, 3 * u);
      const bias = this.w!.bias;
      if (bias) {
        for (let r = 0; r < rows; r++) {
          const off = r * 3 * u;
          for (let j = 0; j < 3 * u; j++) bias.grad[3 * u + j] += ws.dRec[off + j];
        }
      }
    } else {
      k.gemm(true, false, u, 2 * u, rows, 1, ws.hs, 0, u, ws.dGates, 0, 3 * u, 1, dU, 0, 3 * u);
      k.gemm(true, false, u, u, rows, 1, ws.extra, 0, u, ws.dGates, 2 * u, 3 * u, 1, dU, 2 * u, 3 * u);
    }
  }
}
