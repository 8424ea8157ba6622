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
 *             cell.forward(ws)                         the T steps, each with its recurrent matmul h[s−1] · U
 *   backward: cell.backward(ws, dy)                    s = T−1 … 0: dGates[s], and dh/dc carried to step s−1
 *             dKernel += xpᵀ · dGates                  ONE gemm
 *             dBias   += Σ_rows dGates
 *             cell.accumulateRecurrentGrads(ws)       ONE gemm (two for GRU reset_after=false)
 *             dxp = dGates · kernelᵀ                   ONE gemm, then scattered back to [B, T, in]
 *
 * A cell runs all T steps in one call, so a fused kernel can keep the whole loop (LSTM: `lstmForward` /
 * `lstmBackward`); cells written step by step use `forwardEachStep` / `backwardEachStep`.
 *
 * All buffers live in a `RecurrentWorkspace`, allocated once per (batch, time) shape: no step allocates
 * (not even a `subarray` view: per-step code addresses buffers by offset).
 */
import { kernels } from '../../kernels/backend.ts';
import { allocate, type DType, type FloatArray, release, type Tensor } from '../../tensor.ts';
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
 * A recurrent cell run over all T steps of a workspace, forward and backward.
 * Weights are Keras' layout: kernel [in, G·u], recurrent_kernel [u, G·u], bias (cell specific).
 */
export interface RecurrentCell {
  readonly units: number;
  /** G: gate blocks per unit (SimpleRNN 1, GRU 3, LSTM 4); the kernel has G·units columns. */
  readonly gateCount: number;
  readonly requirements: CellRequirements;
  /**
   * True when `forward`, `backward` and `accumulateRecurrentGrads` are kernel calls only, with no JS
   * reading or writing the workspace in between (LSTM): then a whole layer pass may run on another thread
   * (`Kernels.concurrently`). Cells with per-step JS (SimpleRNN, GRU) say false.
   */
  readonly kernelsOnly: boolean;
  /** Keras get_weights() order: kernel, recurrent_kernel, then bias when use_bias. Empty before build. */
  readonly weights: readonly Weight[];
  readonly kernel: Weight;
  /** Null when use_bias is false. Its first G·u values are the input bias the loop adds to xp · kernel. */
  readonly bias: Weight | null;
  /** Allocates the weights (zeros) for `inputSize` features. */
  build(inputSize: number, dtype: DType): void;
  /**
   * Steps s = 0 … T−1. On entry gates[s] holds x_t · kernel + input bias and hs[0] (cs[0]) the initial
   * state; each step computes the recurrent part from hs[s] (and cs[s]), leaves gates[s] holding the
   * post-activation gate values backward needs, and writes hs[s+1] (cs[s+1]).
   */
  forward(ws: RecurrentWorkspace): void;
  /**
   * Steps s = T−1 … 0. On entry dh (dc) holds the gradient reaching the last step's h (c); `dy`, when not
   * null, is ∂L/∂h of every step ([B, T, u], processing order), added to dh as step s is reached. Each step
   * writes dGates[s] (and dRec[s]) = ∂L/∂ of the input (recurrent) pre-activations and carries ∂L/∂h[s−1]
   * in dh (∂L/∂c[s−1] in dc).
   */
  backward(ws: RecurrentWorkspace, dy: FloatArray | null): void;
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

  /** Gives every buffer back (wasm memory); the workspace must not be used afterwards. */
  release(): void {
    release(this.xp, this.gates, this.hs, this.cs, this.extra, this.scratch, this.sequence);
    release(
      this.dGates,
      this.dRec === this.dGates ? null : this.dRec,
      this.dh,
      this.dc,
      this.dxp,
      this.dInput,
    );
  }
}

/** The forward loop for a cell written one step at a time: step(s) for s = 0 … T−1. */
export function forwardEachStep(ws: RecurrentWorkspace, step: (s: number) => void): void {
  for (let s = 0; s < ws.time; s++) step(s);
}

/**
 * The backward loop for a cell written one step at a time: for s = T−1 … 0, dh += dy[:, s] (when dy is
 * given), then step(s), which turns dh (∂L/∂h[s]) into ∂L/∂h[s−1].
 */
export function backwardEachStep(
  ws: RecurrentWorkspace,
  units: number,
  dy: FloatArray | null,
  step: (s: number) => void,
): void {
  const { batch: B, time: T } = ws;
  for (let s = T - 1; s >= 0; s--) {
    if (dy) {
      for (let b = 0; b < B; b++) {
        const src = (b * T + s) * units;
        const dst = b * units;
        for (let j = 0; j < units; j++) ws.dh[dst + j] += dy[src + j];
      }
    }
    step(s);
  }
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
  const k = kernels();
  // xp[s, b] = x[b, t(s)]: x[b, t] is at (b·T + t)·n, and t(s) runs backwards with go_backwards.
  k.copyBlocks(
    ws.xp,
    0,
    B * n,
    n,
    x.data,
    goBackwards ? (T - 1) * n : 0,
    goBackwards ? -n : n,
    T * n,
    T,
    B,
    n,
  );
  // gates = xp · kernel + input bias, for all steps at once (the bias broadcast to every row first).
  const bias = cell.bias;
  if (bias) k.copyBlocks(ws.gates, 0, gu, 0, bias.value, 0, 0, 0, T * B, 1, gu);
  k.gemm(false, false, T * B, gu, n, 1, ws.xp, 0, n, cell.kernel.value, 0, gu, bias ? 1 : 0, ws.gates, 0, gu);

  ws.hs.fill(0, 0, B * u);
  if (cell.requirements.cellState) ws.cs.fill(0, 0, B * u);
  cell.forward(ws);

  // sequence[b, s] = hs[s + 1, b].
  if (returnSequences) k.copyBlocks(ws.sequence, 0, u, T * u, ws.hs, B * u, B * u, u, T, B, u);
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
  // Without return_sequences only the last step's h reaches the output.
  if (!returnSequences) for (let i = 0; i < B * u; i++) ws.dh[i] = dy[i];
  cell.backward(ws, returnSequences ? dy : null);

  const k = kernels();
  // gates = xp · kernel + bias  ⇒  dKernel += xpᵀ · dGates, dBias += Σ_rows dGates, dxp = dGates · kernelᵀ.
  k.gemm(true, false, n, gu, T * B, 1, ws.xp, 0, n, ws.dGates, 0, gu, 1, cell.kernel.grad, 0, gu);
  const bias = cell.bias;
  if (bias) k.sumRows(bias.grad, 0, ws.dGates, 0, T * B, gu);
  cell.accumulateRecurrentGrads(ws);
  k.gemm(false, true, T * B, n, gu, 1, ws.dGates, 0, gu, cell.kernel.value, 0, gu, 0, ws.dxp, 0, n);
  // dInput[b, t(s)] = dxp[s, b].
  k.copyBlocks(
    ws.dInput,
    goBackwards ? (T - 1) * n : 0,
    goBackwards ? -n : n,
    T * n,
    ws.dxp,
    0,
    B * n,
    n,
    T,
    B,
    n,
  );
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
