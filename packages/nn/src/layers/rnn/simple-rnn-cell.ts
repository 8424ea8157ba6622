/**
 * Keras SimpleRNNCell, one step:  h = activation(x · kernel + h_prev · recurrent_kernel + bias).
 * kernel [in, u], recurrent_kernel [u, u], bias [u].
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

export interface SimpleRNNCellOptions {
  units: number;
  activation: RecurrentActivation;
  useBias: boolean;
}

export class SimpleRNNCell implements RecurrentCell {
  readonly gateCount = 1;
  readonly kernelsOnly = false;
  readonly requirements: CellRequirements = {
    cellState: false,
    extraPerRow: 0,
    scratchPerRow: 0,
    separateRecurrentGrad: false,
  };
  readonly units: number;
  private readonly activation: RecurrentActivation;
  private readonly useBias: boolean;
  private w: CellWeights | null = null;

  constructor(options: SimpleRNNCellOptions) {
    this.units = options.units;
    this.activation = options.activation;
    this.useBias = options.useBias;
  }

  build(inputSize: number, dtype: DType): void {
    this.w = newCellWeights(dtype, inputSize, this.units, 1, this.useBias ? [this.units] : null);
  }
  get weights(): readonly Weight[] {
    return this.w?.weights ?? [];
  }
  get kernel(): Weight {
    return requireBuilt(this.w, 'SimpleRNNCell').kernel;
  }
  get bias(): Weight | null {
    return requireBuilt(this.w, 'SimpleRNNCell').bias;
  }

  forward(ws: RecurrentWorkspace): void {
    forwardEachStep(ws, (s) => this.forwardStep(ws, s));
  }

  backward(ws: RecurrentWorkspace, dy: FloatArray | null): void {
    backwardEachStep(ws, this.units, dy, (s) => this.backwardStep(ws, s));
  }

  /** Saves h (= gates[s], post-activation): activation' is a function of it. */
  forwardStep(ws: RecurrentWorkspace, s: number): void {
    const u = this.units;
    const B = ws.batch;
    const U = this.w!.recurrentKernel.value;
    const g = ws.gates;
    const gOff = s * B * u;
    kernels().gemm(false, false, B, u, u, 1, ws.hs, s * B * u, u, U, 0, u, 1, g, gOff, u);
    this.activation.apply(g, gOff, B * u);
    const hOff = (s + 1) * B * u;
    for (let i = 0; i < B * u; i++) ws.hs[hOff + i] = g[gOff + i];
  }

  /**
   * h = act(pre)  ⇒  dPre = dh ⊙ act'(h);
   * pre = … + h_prev · U  ⇒  dh_prev = dPre · Uᵀ.
   */
  backwardStep(ws: RecurrentWorkspace, s: number): void {
    const u = this.units;
    const B = ws.batch;
    const gOff = s * B * u;
    const { gates, dGates, dh } = ws;
    const act = this.activation;
    for (let i = 0; i < B * u; i++) dGates[gOff + i] = dh[i] * act.derivative(gates[gOff + i]);
    const U = this.w!.recurrentKernel.value;
    kernels().gemm(false, true, B, u, u, 1, dGates, gOff, u, U, 0, u, 0, dh, 0, u);
  }

  /** pre[s] = … + hs[s] · U  ⇒  dU += Σ_s hs[s]ᵀ · dPre[s]: hs rows 0…T·B−1 are every step's h_prev. */
  accumulateRecurrentGrads(ws: RecurrentWorkspace): void {
    const u = this.units;
    const rows = ws.time * ws.batch;
    kernels().gemm(
      true,
      false,
      u,
      u,
      rows,
      1,
      ws.hs,
      0,
      u,
      ws.dRec,
      0,
      u,
      1,
      this.w!.recurrentKernel.grad,
      0,
      u,
    );
  }
}
