/**
 * The loop over time and the BPTT driver shared by every recurrent cell (SimpleRNN, GRU, LSTM), in the
 * spirit of tfjs-layers' `rnn(stepFunction, inputs, initialStates, goBackwards)`.
 *
 * Everything inside runs in *processing order*: step s reads input time t(s) = s, or T−1−s with
 * go_backwards (Keras reverses the input and, with return_sequences, returns the outputs in that reversed
 * order — `K.rnn(..., go_backwards=True)` and tfjs' `rnn()` both do). The input is gathered once into a
 * time-major buffer, so every per-step block is a contiguous [batch, ·] matrix:
 *
 *   forward:  xp[s] = x[:, t(s)]                       one copy
 *             gates = xp · kernel + bias               ONE gemm over [T·B, in] × [in, G·u]
 *             for s: cell.forwardStep(ws, s)           the recurrent matmul h[s−1] · recurrent_kernel, per step
 *   backward: for s = T−1 … 0: cell.backwardStep(ws, s)  dGates[s], and dh/dc carried to step s−1
 *             dKernel += xpᵀ · dGates                  ONE gemm
 *             dBias   += Σ_rows dGates
 *             cell.accumulateRecurrentGrads(ws)       ONE gemm (two for GRU reset_after=false)
 *             dxp = dGates · kernelᵀ                   ONE gemm, then scattered back to [B, T, in]
 *
 * All buffers live in a `RecurrentWorkspace`, allocated once per (batch, time) shape: no step allocates
 * (not even a `subarray` view: per-step code addresses buffers by offset).
 */
import { kernels } from '../../kernels/backend.ts';
import { allocate, type DType, type FloatArray, type Tensor } from '../../tensor.ts';
import type { Weight } from '../layer.ts';

/** What a cell needs from the workspace beyond the buffers every cell shares. */
export interface CellRequirements {
  /** LSTM carries a cell state c next to h. */
  readonly cellState: boolean;
  /** Forward cache per step and batch row, in elements (GRU: r-gated recurrent term or r ⊙ h_prev). */
  readonly extraPerRow: number;
  /** Per-step scratch per batch row, in elements (GRU reset_after: h_prev · recurrent_kernel + b_rec). */
  readonly scratchPerRow: number;
  /** The gradient w.r.t. the recurrent pre-activations differs from dGates (GRU reset_after: r ⊙ ·). */
  readonly separateRecurrentGrad: boolean;
}

/**
 * One time step of a recurrent cell, forward and backward, on the workspace's buffers at step s.
 * Weights are Keras' layout: kernel [in, G·u], recurrent_kernel [u, G·u], bias (cell specific).
 */
export interface RecurrentCell {
  readonly units: number;
  /** G: gate blocks per unit (SimpleRNN 1, GRU 3, LSTM 4); the kernel has G·units columns. */
  readonly gateCount: number;
  readonly requirements: CellRequirements;
  /** Keras get_weights() order: kernel, recurrent_kernel, then bias when use_bias. Empty before build. */
  readonly weights: readonly Weight[];
  readonly kernel: Weight;
  /** Null when use_bias is false. Its first G·u values are the input bias the loop adds to xp · kernel. */
  readonly bias: Weight | null;
  /** Allocates the weights (zeros) for `inputSize` features. */
  build(inputSize: number, dtype: DType): void;
  /**
   * On entry gates[s] holds x_t · kernel + input bias; computes the recurrent part from hs[s] (and cs[s]),
   * leaves gates[s] holding the post-activation gate values backward needs, and writes hs[s+1] (cs[s+1]).
   */
  forwardStep(ws: RecurrentWorkspace, s: number): void;
  /**
   * On entry dh holds ∂L/∂h at step s (dc: ∂L/∂c from step s+1). Writes dGates[s] (and dRec[s]) = ∂L/∂ of
   * the input (recurrent) pre-activations, then leaves ∂L/∂h[s−1] in dh (∂L/∂c[s−1] in dc).
   */
  backwardStep(ws: RecurrentWorkspace, s: number): void;
  /** recurrent_kernel (and recurrent bias) gradients over all steps, from the caches and dGates / dRec. */
  accumulateRecurrentGrads(ws: RecurrentWorkspace): void;
}

/**
 * Buffers of one (batch, time) shape. Time-major, processing order. G·u = gates·units.
 * Training workspaces also hold the backward buffers; inference ones leave them empty.
 */
export class RecurrentWorkspace {
  /** [T, B, in]: x gathered in processing order (kept: dKernel = xpᵀ · dGates). */
  readonly xp: FloatArray;
  /** [T, B, G·u]: x·kernel + bias, then the cell's post-activation gates (kept for backward). */
  readonly gates: FloatArray;
  /** [T+1, B, u]: hs[0] = 0 (Keras' zero initial state), hs[s+1] = h after step s (kept). */
  readonly hs: FloatArray;
  /** [T+1, B, u] LSTM cell states like hs (kept); empty for other cells. */
  readonly cs: FloatArray;
  /** [T, B, extraPerRow]: cell-specific forward cache (kept). */
  readonly extra: FloatArray;
  /** [B, scratchPerRow]: per-step scratch, overwritten every step. */
  readonly scratch: FloatArray;
  /** [B, T, u] return_sequences output, in processing order as Keras returns it. */
  readonly sequence: FloatArray;
  /** [B, u]: a view of hs[T], the last output. */
  readonly last: FloatArray;
  // Backward only (length 0 in inference workspaces):
  /** [T, B, G·u]: ∂L/∂(input pre-activations) per step. */
  readonly dGates: FloatArray;
  /** [T, B, G·u]: ∂L/∂(recurrent pre-activations); the same array as dGates unless the cell needs its own. */
  readonly dRec: FloatArray;
  /** [B, u]: ∂L/∂h carried backwards through time. */
  readonly dh: FloatArray;
  /** [B, u]: ∂L/∂c carried backwards through time (LSTM). */
  readonly dc: FloatArray;
  /** [T, B, in]: ∂L/∂xp. */
  readonly dxp: FloatArray;
  /** [B, T, in]: ∂L/∂x in the caller's time order. */
  readonly dInput: FloatArray;

  constructor(
    dtype: DType,
    readonly batch: number,
    readonly time: number,
    readonly inputSize: number,
    cell: RecurrentCell,
    training: boolean,
  ) {
    const u = cell.units;
    const gu = cell.gateCount * u;
    const req = cell.requirements;
    const bt = batch * time;
    this.xp = allocate(dtype, bt * inputSize);
    this.gates = allocate(dtype, bt * gu);
    this.hs = allocate(dtype, (time + 1) * batch * u);
    this.cs = allocate(dtype, req.cellState ? (time + 1) * batch * u : 0);
    this.extra = allocate(dtype, bt * req.extraPerRow);
    this.scratch = allocate(dtype, batch * req.scratchPerRow);
    this.sequence = allocate(dtype, bt * u);
    this.last = this.hs.subarray(time * batch * u);
    const b = training ? 1 : 0;
    this.dGates = allocate(dtype, b * bt * gu);
    this.dRec = req.separateRecurrentGrad ? allocate(dtype, b * bt * gu) : this.dGates;
    this.dh = allocate(dtype, b * batch * u);
    this.dc = allocate(dtype, b * (req.cellState ? batch * u : 0));
    this.dxp = allocate(dtype, b * bt * inputSize);
    this.dInput = allocate(dtype, b * bt * inputSize);
  }
}

/** dst[dOff .. dOff+n) = src[sOff .. sOff+n), without the view object `subarray` would allocate. */
function copy(dst: FloatArray, dOff: number, src: FloatArray, sOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i];
}

/** Input time index read at processing step s. */
function timeAt(s: number, time: number, goBackwards: boolean): number {
  return goBackwards ? time - 1 - s : s;
}

/**
 * Runs the cell over x ([B, T, in]) from a zero state; afterwards ws.hs / ws.last hold the states and,
 * when `returnSequences`, ws.sequence the outputs [B, T, u] in processing order.
 */
export function recurrentForward(
  cell: RecurrentCell,
  ws: RecurrentWorkspace,
  x: Tensor,
  goBackwards: boolean,
  returnSequences: boolean,
): void {
  const { batch: B, time: T, inputSize: n } = ws;
  const u = cell.units;
  const gu = cell.gateCount * u;
  const xd = x.data;
  for (let s = 0; s < T; s++) {
    const t = timeAt(s, T, goBackwards);
    for (let b = 0; b < B; b++) {
      copy(ws.xp, (s * B + b) * n, xd, (b * T + t) * n, n);
    }
  }
  // gates = xp · kernel + input bias, for all steps at once.
  const bias = cell.bias;
  if (bias) for (let r = 0; r < T * B; r++) copy(ws.gates, r * gu, bias.value, 0, gu);
  kernels().gemm(
    false,
    false,
    T * B,
    gu,
    n,
    1,
    ws.xp,
    0,
    n,
    cell.kernel.value,
    0,
    gu,
    bias ? 1 : 0,
    ws.gates,
    0,
    gu,
  );

  ws.hs.fill(0, 0, B * u);
  if (cell.requirements.cellState) ws.cs.fill(0, 0, B * u);
  for (let s = 0; s < T; s++) cell.forwardStep(ws, s);

  if (returnSequences) {
    for (let s = 0; s < T; s++) {
      for (let b = 0; b < B; b++) {
        copy(ws.sequence, (b * T + s) * u, ws.hs, ((s + 1) * B + b) * u, u);
      }
    }
  }
}

/**
 * Backpropagation through all T steps of the last `recurrentForward` on `ws`. `dOutput` is [B, T, u] in
 * processing order when `returnSequences`, else [B, u] for the last step. Accumulates (+=) into the cell's
 * weight grads and leaves ∂L/∂x ([B, T, in], caller's time order) in ws.dInput.
 */
export function recurrentBackward(
  cell: RecurrentCell,
  ws: RecurrentWorkspace,
  dOutput: Tensor,
  goBackwards: boolean,
  returnSequences: boolean,
): void {
  const { batch: B, time: T, inputSize: n } = ws;
  const u = cell.units;
  const gu = cell.gateCount * u;
  const dy = dOutput.data;
  ws.dh.fill(0);
  ws.dc.fill(0);
  for (let s = T - 1; s >= 0; s--) {
    // ∂L/∂h[s] = what flows back from step s+1 (already in dh) + the output's own gradient.
    if (returnSequences) {
      for (let b = 0; b < B; b++) {
        const src = (b * T + s) * u;
        const dst = b * u;
        for (let j = 0; j < u; j++) ws.dh[dst + j] += dy[src + j];
      }
    } else if (s === T - 1) {
      for (let i = 0; i < B * u; i++) ws.dh[i] += dy[i];
    }
    cell.backwardStep(ws, s);
  }

  const k = kernels();
  // gates = xp · kernel + bias  ⇒  dKernel += xpᵀ · dGates, dBias += Σ_rows dGates, dxp = dGates · kernelᵀ.
  k.gemm(true, false, n, gu, T * B, 1, ws.xp, 0, n, ws.dGates, 0, gu, 1, cell.kernel.grad, 0, gu);
  const bias = cell.bias;
  if (bias) {
    const g = bias.grad;
    for (let r = 0; r < T * B; r++) {
      const off = r * gu;
      for (let j = 0; j < gu; j++) g[j] += ws.dGates[off + j];
    }
  }
  cell.accumulateRecurrentGrads(ws);
  k.gemm(false, true, T * B, n, gu, 1, ws.dGates, 0, gu, cell.kernel.value, 0, gu, 0, ws.dxp, 0, n);
  for (let s = 0; s < T; s++) {
    const t = timeAt(s, T, goBackwards);
    for (let b = 0; b < B; b++) {
      copy(ws.dInput, (b * T + t) * n, ws.dxp, (s * B + b) * n, n);
    }
  }
}

/** A cell's weights in Keras layout; `weights` is the get_weights() order. */
export interface CellWeights {
  /** [in, G·u] */
  readonly kernel: Weight;
  /** [u, G·u] */
  readonly recurrentKernel: Weight;
  /** Cell-specific shape ([G·u], or [2, G·u] for GRU reset_after); null without use_bias. */
  readonly bias: Weight | null;
  readonly weights: readonly Weight[];
}

/** Allocates a cell's weights (values and grads zero) in Keras layout. */
export function newCellWeights(
  dtype: DType,
  inputSize: number,
  units: number,
  gateCount: number,
  biasShape: readonly number[] | null,
): CellWeights {
  const make = (name: string, shape: readonly number[]): Weight => {
    const n = shape.reduce((a, d) => a * d, 1);
    return { name, shape: [...shape], value: allocate(dtype, n), grad: allocate(dtype, n), trainable: true };
  };
  const kernel = make('kernel', [inputSize, gateCount * units]);
  const recurrentKernel = make('recurrent_kernel', [units, gateCount * units]);
  const bias = biasShape ? make('bias', biasShape) : null;
  return {
    kernel,
    recurrentKernel,
    bias,
    weights: bias ? [kernel, recurrentKernel, bias] : [kernel, recurrentKernel],
  };
}

/** Throws for a cell used before `build`. */
export function requireBuilt(weights: CellWeights | null, cellName: string): CellWeights {
  if (!weights) throw new Error(`${cellName} used before build()`);
  return weights;
}
