/**
 * Keras LSTMCell, one step, gate order i, f, c, o (kernel [in, 4u], recurrent_kernel [u, 4u], bias [4u]):
 *
 *   [zi, zf, zc, zo] = x · kernel + h_prev · recurrent_kernel + bias
 *   i = σ(zi)   f = σ(zf)   g = act(zc)   o = σ(zo)        (σ = recurrent_activation, act = activation)
 *   c = f ⊙ c_prev + i ⊙ g
 *   h = o ⊙ act(c)
 */
import { kernels } from '../../kernels/backend.ts';
import type { DType } from '../../tensor.ts';
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

export interface LSTMCellOptions {
  units: number;
  activation: RecurrentActivation;
  recurrentActivation: RecurrentActivation;
  useBias: boolean;
}

export class LSTMCell implements RecurrentCell {
  readonly gateCount = 4;
  readonly requirements: CellRequirements = {
    cellState: true,
    extraPerRow: 0,
    scratchPerRow: 0,
    separateRecurrentGrad: false,
  };
  readonly units: number;
  private readonly activation: RecurrentActivation;
  private readonly recurrentActivation: RecurrentActivation;
  private readonly useBias: boolean;
  private w: CellWeights | null = null;

  constructor(options: LSTMCellOptions) {
    this.units = options.units;
    this.activation = options.activation;
    this.recurrentActivation = options.recurrentActivation;
    this.useBias = options.useBias;
  }

  build(inputSize: number, dtype: DType): void {
    this.w = newCellWeights(dtype, inputSize, this.units, 4, this.useBias ? [4 * this.units] : null);
  }
  get weights(): readonly Weight[] {
    return this.w?.weights ?? [];
  }
  get kernel(): Weight {
    return requireBuilt(this.w, 'LSTMCell').kernel;
  }
  get bias(): Weight | null {
    return requireBuilt(this.w, 'LSTMCell').bias;
  }

  /** Saves the activated gates i, f, g, o in gates[s] and c in cs[s+1] (h goes to hs[s+1]). */
  forwardStep(ws: RecurrentWorkspace, s: number): void {
    const u = this.units;
    const B = ws.batch;
    const g = ws.gates;
    const { hs, cs } = ws;
    const gOff = s * B * 4 * u;
    const prev = s * B * u;
    const next = (s + 1) * B * u;
    kernels().gemm(
      false,
      false,
      B,
      4 * u,
      u,
      1,
      hs,
      prev,
      u,
      this.w!.recurrentKernel.value,
      0,
      4 * u,
      1,
      g,
      gOff,
      4 * u,
    );
    const rec = this.recurrentActivation;
    const act = this.activation;
    for (let b = 0; b < B; b++) {
      const row = gOff + b * 4 * u;
      rec.apply(g, row, 2 * u); // i, f
      act.apply(g, row + 2 * u, u); // g
      rec.apply(g, row + 3 * u, u); // o
      for (let j = 0; j < u; j++) {
        const c = g[row + u + j] * cs[prev + b * u + j] + g[row + j] * g[row + 2 * u + j];
        cs[next + b * u + j] = c;
        hs[next + b * u + j] = g[row + 3 * u + j] * act.fn(c);
      }
    }
  }

  /**
   * With dh = ∂L/∂h and dc = ∂L/∂c carried from step s+1:
   *   h = o ⊙ act(c)                 ⇒ do = dh ⊙ act(c),  dc += dh ⊙ o ⊙ act'(c)
   *   c = f ⊙ c_prev + i ⊙ g         ⇒ di = dc ⊙ g, df = dc ⊙ c_prev, dg = dc ⊙ i, dc_prev = dc ⊙ f
   *   gates = σ/act(z)               ⇒ dz = d(gate) ⊙ σ'/act'(gate)
   *   z = … + h_prev · U             ⇒ dh_prev = dz · Uᵀ
   */
  backwardStep(ws: RecurrentWorkspace, s: number): void {
    const u = this.units;
    const B = ws.batch;
    const { gates, dGates, cs, dh, dc } = ws;
    const gOff = s * B * 4 * u;
    const prev = s * B * u;
    const next = (s + 1) * B * u;
    const rec = this.recurrentActivation;
    const act = this.activation;
    for (let b = 0; b < B; b++) {
      const row = gOff + b * 4 * u;
      for (let j = 0; j < u; j++) {
        const k = b * u + j;
        const i = gates[row + j];
        const f = gates[row + u + j];
        const gg = gates[row + 2 * u + j];
        const o = gates[row + 3 * u + j];
        const tc = act.fn(cs[next + k]);
        const dhk = dh[k];
        const dck = dc[k] + dhk * o * act.derivative(tc);
        dGates[row + j] = dck * gg * rec.derivative(i);
        dGates[row + u + j] = dck * cs[prev + k] * rec.derivative(f);
        dGates[row + 2 * u + j] = dck * i * act.derivative(gg);
        dGates[row + 3 * u + j] = dhk * tc * rec.derivative(o);
        dc[k] = dck * f;
      }
    }
    const U = this.w!.recurrentKernel.value;
    kernels().gemm(false, true, B, u, 4 * u, 1, dGates, gOff, 4 * u, U, 0, 4 * u, 0, dh, 0, u);
  }

  /** z[s] = … + hs[s] · U  ⇒  dU += Σ_s hs[s]ᵀ · dz[s] (hs rows 0…T·B−1 are every step's h_prev). */
  accumulateRecurrentGrads(ws: RecurrentWorkspace): void {
    const u = this.units;
    const rows = ws.time * ws.batch;
    const dU = this.w!.recurrentKernel.grad;
    kernels().gemm(true, false, u, 4 * u, rows, 1, ws.hs, 0, u, ws.dRec, 0, 4 * u, 1, dU, 0, 4 * u);
  }
}
