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
  type CellRequirements,
  type CellWeights,
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
  readonly kernelsOnly = true;
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

  /** Saves z, r, hh (post-activation) in gates[s], and rh / r ⊙ h_prev in extra[s]; h goes to hs[s+1]. */
  forward(ws: RecurrentWorkspace): void {
    const bias = this.w!.bias;
    kernels().gruForward(
      ws.batch,
      ws.time,
      this.units,
      this.resetAfter,
      ws.gates,
      ws.hs,
      ws.extra,
      ws.scratch,
      this.w!.recurrentKernel.value,
      this.resetAfter ? (bias?.value ?? null) : null,
      3 * this.units,
      this.recurrentActivation,
      this.activation,
    );
  }

  /**
   * h = z ⊙ h_prev + (1 − z) ⊙ hh   ⇒ dz = dh ⊙ (h_prev − hh), dhh = dh ⊙ (1 − z), dh_prev = dh ⊙ z + …
   * hh = act(ah)                    ⇒ dah = dhh ⊙ act'(hh)
   * reset_after: ah = xh + r ⊙ rh    ⇒ dr = dah ⊙ rh, d(rh) = dah ⊙ r → dRec; dh_prev += dRec · Uᵀ
   * else:        ah = xh + (r⊙h_prev)·U_h ⇒ d(r⊙h_prev) = dah · U_hᵀ, dr = that ⊙ h_prev,
   *                                          dh_prev += that ⊙ r + [dz_pre, dr_pre] · U_zrᵀ
   * z, r = σ(·)                     ⇒ dz_pre = dz ⊙ σ'(z), dr_pre = dr ⊙ σ'(r)
   * (the fused kernel `gruBackward`, all steps).
   */
  backward(ws: RecurrentWorkspace, dy: FloatArray | null): void {
    kernels().gruBackward(
      ws.batch,
      ws.time,
      this.units,
      this.resetAfter,
      ws.dGates,
      ws.dRec,
      ws.gates,
      ws.hs,
      ws.extra,
      ws.scratch,
      ws.dh,
      this.w!.recurrentKernel.value,
      dy,
      this.recurrentActivation,
      this.activation,
    );
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
      if (bias) k.sumRows(bias.grad, 3 * u, ws.dRec, 0, rows, 3 * u);
    } else {
      k.gemm(true, false, u, 2 * u, rows, 1, ws.hs, 0, u, ws.dGates, 0, 3 * u, 1, dU, 0, 3 * u);
      k.gemm(true, false, u, u, rows, 1, ws.extra, 0, u, ws.dGates, 2 * u, 3 * u, 1, dU, 2 * u, 3 * u);
    }
  }
}
