/**
 * Keras LSTMCell, one step, gate order i, f, c, o (kernel [in, 4u], recurrent_kernel [u, 4u], bias [4u]):
 *
 *   [zi, zf, zc, zo] = x · kernel + h_prev · recurrent_kernel + bias
 *   i = σ(zi)   f = σ(zf)   g = act(zc)   o = σ(zo)        (σ = recurrent_activation, act = activation)
 *   c = f ⊙ c_prev + i ⊙ g
 *   h = o ⊙ act(c)
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

export interface LSTMCellOptions {
  units: number;
  activation: RecurrentActivation;
  recurrentActivation: RecurrentActivation;
  useBias: boolean;
}

export class LSTMCell implements RecurrentCell {
  readonly gateCount = 4;
  readonly kernelsOnly = true;
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

  /**
   * Saves the activated gates i, f, g, o in gates[s] and c in cs[s+1] (h goes to hs[s+1]): the fused
   * kernel does each step's recurrent matmul h[s] · recurrent_kernel, the activations and the state update.
   */
  forward(ws: RecurrentWorkspace): void {
    kernels().lstmForward(
      ws.batch,
      ws.time,
      this.units,
      ws.gates,
      ws.hs,
      ws.cs,
      this.w!.recurrentKernel.value,
      this.recurrentActivation,
      this.activation,
    );
  }

  /**
   * With dh = ∂L/∂h and dc = ∂L/∂c carried from step s+1:
   *   h = o ⊙ act(c)                 ⇒ do = dh ⊙ act(c),  dc += dh ⊙ o ⊙ act'(c)
   *   c = f ⊙ c_prev + i ⊙ g         ⇒ di = dc ⊙ g, df = dc ⊙ c_prev, dg = dc ⊙ i, dc_prev = dc ⊙ f
   *   gates = σ/act(z)               ⇒ dz = d(gate) ⊙ σ'/act'(gate)
   *   z = … + h_prev · U             ⇒ dh_prev = dz · Uᵀ
   * (the fused kernel `lstmBackward`, all steps).
   */
  backward(ws: RecurrentWorkspace, dy: FloatArray | null): void {
    kernels().lstmBackward(
      ws.batch,
      ws.time,
      this.units,
      ws.dGates,
      ws.gates,
      ws.cs,
      ws.dh,
      ws.dc,
      this.w!.recurrentKernel.value,
      dy,
      this.recurrentActivation,
      this.activation,
    );
  }

  /** z[s] = … + hs[s] · U  ⇒  dU += Σ_s hs[s]ᵀ · dz[s] (hs rows 0…T·B−1 are every step's h_prev). */
  accumulateRecurrentGrads(ws: RecurrentWorkspace): void {
    const u = this.units;
    const rows = ws.time * ws.batch;
    const dU = this.w!.recurrentKernel.grad;
    kernels().gemm(true, false, u, 4 * u, rows, 1, ws.hs, 0, u, ws.dRec, 0, 4 * u, 1, dU, 0, 4 * u);
  }
}
