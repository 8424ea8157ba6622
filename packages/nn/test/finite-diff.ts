/**
 * Float64 central finite differences for any `Layer`: the independent check of every `backward()`.
 *
 * The loss is L = Σ forwardTrain(x) ⊙ dOutput, so ∂L/∂x is exactly what `backward(dOutput)` returns and
 * ∂L/∂w is what it accumulates into each trainable weight's `grad`. Each input element and each trainable
 * weight element is nudged by ±eps and L re-evaluated: numeric = (L(+eps) − L(−eps)) / 2eps.
 *
 * Usage (layer built with `{ dtype: 'float64' }` and its weights set):
 *   const report = checkGradients(layer, input, dOutput);
 *   expect(report.maxError).toBeLessThan(1e-6);      // or: assertGradients(layer, input, dOutput)
 */
import type { Layer } from '../src/layers/layer.ts';
import { seededRandom } from '../src/layers/rnn/initializers.ts';
import {
  allocate,
  type DType,
  type FloatArray,
  formatShape,
  shapesEqual,
  sizeOf,
  type Tensor,
} from '../src/tensor.ts';

export interface FiniteDiffOptions {
  /** Step of the central difference. Default 1e-5: truncation ~eps² and round-off ~1e-16/eps both ≲ 1e-10. */
  eps?: number;
  /**
   * Error of one element: |analytic − numeric| / max(|analytic|, |numeric|, floor). The floor keeps
   * elements whose true gradient is ~0 from reporting huge relative errors on round-off: the quotient's
   * absolute round-off is ~|L|·1e-16/eps ≈ 1e-11·|L|, so a 1e-6 gradient can show 1e-5 relative error.
   * Default 1e-4 (below it the check is absolute, at tolerance·1e-4).
   */
  floor?: number;
  /** `assertGradients` fails when any element's error exceeds this. Default 1e-6. */
  tolerance?: number;
  /**
   * Check at most this many elements per tensor (evenly strided, first and last always included), to keep
   * big layers fast. Default: all.
   */
  maxElementsPerTensor?: number;
  /**
   * Also check the `Layer` contract that `backward` accumulates with `+=`: a second forwardTrain + backward
   * without zeroGrad must double every weight grad (and return the same dInput). Default true.
   */
  checkAccumulation?: boolean;
}

/** One element whose analytic and numeric gradients disagree (the worst ones are kept in the report). */
export interface GradientMismatch {
  /** `input` or the weight's name with its index, e.g. `weights[1] recurrent_kernel`. */
  tensor: string;
  /** Flat row-major index into that tensor. */
  index: number;
  analytic: number;
  numeric: number;
  error: number;
}

export interface TensorGradientReport {
  tensor: string;
  shape: readonly number[];
  /** Elements checked (all, unless `maxElementsPerTensor` strided them). */
  checked: number;
  maxError: number;
}

export interface FiniteDiffReport {
  /** Worst element error over input and every trainable weight. */
  maxError: number;
  perTensor: TensorGradientReport[];
  /** The up to 10 worst elements over all tensors, worst first. */
  worst: GradientMismatch[];
  /** Problems that are not numeric mismatches: non-trainable grads that are not zero, `+=` not honoured. */
  contractViolations: string[];
}

const DEFAULT_EPS = 1e-5;
const DEFAULT_FLOOR = 1e-4;
const DEFAULT_TOLERANCE = 1e-6;
const WORST_KEPT = 10;

/**
 * Compares `layer.backward` with central finite differences of L = Σ forwardTrain(input) ⊙ dOutput.
 * Leaves the layer's weights as they were and its grads holding exactly one backward's gradient.
 * Throws when the layer, input or dOutput is not float64 or dOutput's shape differs from the output's.
 */
export function checkGradients(
  layer: Layer,
  input: Tensor,
  dOutput: Tensor,
  options: FiniteDiffOptions = {},
): FiniteDiffReport {
  const eps = options.eps ?? DEFAULT_EPS;
  const floor = options.floor ?? DEFAULT_FLOOR;
  const maxPerTensor = options.maxElementsPerTensor ?? Number.POSITIVE_INFINITY;
  const checkAccumulation = options.checkAccumulation ?? true;
  requireFloat64(`layer ${layer.name}`, layer.dtype);
  requireFloat64('input', dtypeOfArray(input.data));
  requireFloat64('dOutput', dtypeOfArray(dOutput.data));

  // Our own copy of the input, so perturbing it never touches the caller's tensor.
  const x: Tensor = { shape: [...input.shape], data: Float64Array.from(input.data) };
  const loss = (): number => {
    const y = layer.forwardTrain(x);
    if (!shapesEqual(y.shape, dOutput.shape)) {
      throw new Error(
        `finite-diff: ${layer.name} output shape ${formatShape(y.shape)} but dOutput has ${formatShape(dOutput.shape)}`,
      );
    }
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * dOutput.data[i];
    return s;
  };

  // Analytic gradients: copies, since outputs and grads may be views the layer reuses.
  layer.zeroGrad();
  loss();
  const dInput = layer.backward(dOutput);
  if (!shapesEqual(dInput.shape, x.shape)) {
    throw new Error(
      `finite-diff: ${layer.name} dInput shape ${formatShape(dInput.shape)}, input ${formatShape(x.shape)}`,
    );
  }
  const analyticInput = Float64Array.from(dInput.data);
  const analyticWeights = layer.weights.map((w) => Float64Array.from(w.grad));

  const contractViolations: string[] = [];
  layer.weights.forEach((w, wi) => {
    if (!w.trainable && analyticWeights[wi].some((g) => g !== 0)) {
      contractViolations.push(`non-trainable weights[${wi}] ${w.name} has a non-zero grad`);
    }
  });
  if (checkAccumulation) {
    loss();
    const again = layer.backward(dOutput);
    const dInputDiffers = again.data.some((g, i) => !closeEnough(g, analyticInput[i]));
    if (dInputDiffers) contractViolations.push('a second backward returned a different dInput');
    layer.weights.forEach((w, wi) => {
      const once = analyticWeights[wi];
      if (w.grad.some((g, i) => !closeEnough(g, 2 * once[i]))) {
        contractViolations.push(
          `weights[${wi}] ${w.name}: a second backward without zeroGrad did not double grad (+=)`,
        );
      }
    });
    // Leave exactly one backward's gradient, as documented.
    layer.weights.forEach((w, wi) => {
      w.grad.set(analyticWeights[wi]);
    });
  }

  const perTensor: TensorGradientReport[] = [];
  const worst: GradientMismatch[] = [];
  const checkTensor = (
    name: string,
    shape: readonly number[],
    values: FloatArray,
    analytic: Float64Array,
  ) => {
    let maxError = 0;
    const indices = stridedIndices(values.length, maxPerTensor);
    for (const i of indices) {
      const saved = values[i];
      values[i] = saved + eps;
      const plus = loss();
      values[i] = saved - eps;
      const minus = loss();
      values[i] = saved;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[i];
      const error = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), floor);
      if (!(error <= maxError)) maxError = Number.isNaN(error) ? Number.POSITIVE_INFINITY : error;
      keepWorst(worst, {
        tensor: name,
        index: i,
        analytic: a,
        numeric,
        error: Number.isNaN(error) ? Infinity : error,
      });
    }
    perTensor.push({ tensor: name, shape, checked: indices.length, maxError });
  };

  checkTensor('input', x.shape, x.data, analyticInput);
  layer.weights.forEach((w, wi) => {
    if (w.trainable) checkTensor(`weights[${wi}] ${w.name}`, w.shape, w.value, analyticWeights[wi]);
  });
  return {
    maxError: perTensor.reduce((m, t) => Math.max(m, t.maxError), 0),
    perTensor,
    worst,
    contractViolations,
  };
}

/**
 * `checkGradients`, then throws an Error listing every tensor's max error and the worst elements when any
 * element's error exceeds `tolerance` (default 1e-6) or the layer broke the gradient contract.
 */
export function assertGradients(
  layer: Layer,
  input: Tensor,
  dOutput: Tensor,
  options: FiniteDiffOptions = {},
): FiniteDiffReport {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const report = checkGradients(layer, input, dOutput, options);
  if (report.maxError > tolerance || report.contractViolations.length > 0) {
    throw new Error(formatReport(layer, report, tolerance));
  }
  return report;
}

export function formatReport(layer: Layer, report: FiniteDiffReport, tolerance: number): string {
  const lines = [
    `finite-diff: ${layer.className} ${layer.name}: max error ${report.maxError.toExponential(2)} (tolerance ${tolerance})`,
  ];
  for (const t of report.perTensor) {
    lines.push(
      `  ${t.tensor} ${formatShape(t.shape)}: max error ${t.maxError.toExponential(2)} over ${t.checked}`,
    );
  }
  for (const m of report.worst) {
    lines.push(
      `  worst: ${m.tensor}[${m.index}] analytic ${m.analytic} numeric ${m.numeric} error ${m.error.toExponential(2)}`,
    );
  }
  for (const v of report.contractViolations) lines.push(`  contract: ${v}`);
  return lines.join('\n');
}

/** Deterministic pseudo-random numbers in [0, 1), so failing checks reproduce. */
export { seededRandom };

/** A tensor of uniform values in [-scale, scale) drawn from `random`. */
export function randomTensor(
  shape: readonly number[],
  random: () => number,
  dtype: DType = 'float64',
  scale = 1,
): Tensor {
  const data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (2 * random() - 1) * scale;
  return { shape: [...shape], data };
}

function requireFloat64(what: string, dtype: DType): void {
  if (dtype !== 'float64') {
    throw new Error(
      `finite-diff needs float64 (float32 round-off swamps the difference quotient); ${what} is ${dtype}`,
    );
  }
}

function dtypeOfArray(a: FloatArray): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

function closeEnough(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b);
}

function stridedIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max <= 1) return n > 0 ? [0] : [];
  const out = new Set<number>();
  for (let j = 0; j < max; j++) out.add(Math.round((j * (n - 1)) / (max - 1)));
  return [...out];
}

function keepWorst(worst: GradientMismatch[], m: GradientMismatch): void {
  if (worst.length === WORST_KEPT && m.error <= worst[WORST_KEPT - 1].error) return;
  worst.push(m);
  worst.sort((p, q) => q.error - p.error);
  if (worst.length > WORST_KEPT) worst.pop();
}
