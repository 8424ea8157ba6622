/**
 * The outside reference for parity tests: builds the same Keras Sequential model in tfjs-layers 4.22 (cpu
 * backend), loads the same weights, and returns the output, dInput and one gradient per weight for the loss
 * Σ output ⊙ dOutput — the same computation `runSpec` and `kws-nn run` do on our side.
 *
 * Layer specs are Keras 2 Sequential JSON (snake_case keys, wrappers nest `{ layer: { class_name, config } }`).
 * Keys a spec omits mean TF2 Keras defaults; where tfjs-layers defaults differ they are filled in explicitly
 * before tfjs sees the config (see `withKerasDefaults`).
 */

import * as tf from '@tensorflow/tfjs';
import type { LayerSpec } from '../src/layers/layer.ts';
import { type RunResult, runSpec, Sequential } from '../src/model/sequential.ts';
import { sizeOf, type Tensor } from '../src/tensor.ts';
import { assertClose, PARITY_TOLERANCE } from './assert-close.ts';
import { randomTensor, seededRandom } from './finite-diff.ts';

export interface ReferenceSpec {
  layers: LayerSpec[];
  /** In Keras `model.get_weights()` order (per layer, trainable then non-trainable). */
  weights: Tensor[];
  input: Tensor;
  dOutput: Tensor;
  /** Training-mode forward (batch statistics in BatchNormalization, moving statistics updated). */
  training: boolean;
}

export interface ReferenceResult {
  output: Tensor;
  dInput: Tensor;
  /** One per weight, in `weights` order; all zeros for non-trainable weights. */
  dWeights: Tensor[];
  /** Every weight after the forward pass (differs from the input only for BN moving stats in training). */
  weightsAfter: Tensor[];
}

/**
 * TF2 Keras defaults that tfjs-layers 4.x sets differently. tfjs defaults `recurrent_activation` to
 * hard_sigmoid and GRU `reset_after` to false; Keras uses sigmoid and true (tfjs then throws for GRU, which is
 * the honest answer: tfjs cannot run that configuration).
 */
const KERAS_DEFAULTS: Record<string, Record<string, unknown>> = {
  LSTM: { recurrent_activation: 'sigmoid' },
  GRU: { recurrent_activation: 'sigmoid', reset_after: true },
};

function withKerasDefaults(spec: LayerSpec): LayerSpec {
  const config: Record<string, unknown> = { ...(KERAS_DEFAULTS[spec.class_name] ?? {}), ...spec.config };
  const inner = config.layer as LayerSpec | undefined;
  if (inner && typeof inner === 'object' && typeof inner.class_name === 'string') {
    config.layer = withKerasDefaults(inner);
  }
  return { class_name: spec.class_name, config };
}

/** Keras 2 JSON writes `kernel_size: [3]`; hand-written specs often say `3`. */
function firstInt(value: unknown, fallback: number): number {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'number' ? v : fallback;
}

/**
 * How one Keras layer runs in tfjs when tfjs cannot run it as written, by exact rewrites:
 * - Conv1D: tfjs has no 'causal' padding (Keras' causal is dilation·(kernel−1) zeros on the left, then a
 *   'valid' convolution), and cannot differentiate a dilated convolution (a kernel k with dilation d is the
 *   same as a kernel (k−1)·d+1 with zeros between the taps; the taps' gradients are read back from it).
 * - BatchNormalization without gamma or beta: tfjs' gradient tape fails on the missing operand, so it runs
 *   with gamma = 1 and beta = 0, whose gradients are then dropped.
 */
interface Adapter {
  config: Record<string, unknown>;
  /** Zeros to put before the time axis of the layer's input. */
  leftPad: number;
  /** How many of the spec's weights this layer takes, given how many tfjs' layer has. */
  specCount(tfjsCount: number): number;
  /** The spec's weights of this layer (get_weights() order) → the weights tfjs' layer takes. */
  weightsIn(given: Tensor[]): Tensor[];
  /** Per-weight tensors of tfjs' layer (values or gradients) → the spec's weights. */
  weightsOut(tfjsTensors: Tensor[]): Tensor[];
}

function adapt(layer: LayerSpec, index: number): Adapter {
  const same: Adapter = {
    config: layer.config,
    leftPad: 0,
    specCount: (n) => n,
    weightsIn: (w) => w,
    weightsOut: (w) => w,
  };
  if (layer.class_name === 'BatchNormalization') {
    const center = layer.config.center !== false;
    const scale = layer.config.scale !== false;
    if (center && scale) return same;
    return {
      ...same,
      config: { ...layer.config, center: true, scale: true },
      specCount: (n) => n - Number(!center) - Number(!scale),
      weightsIn: (given) => {
        const channels = given[given.length - 1].shape[0];
        const fill = (v: number) => ({ shape: [channels], data: new Float32Array(channels).fill(v) });
        let i = 0;
        const gamma = scale ? given[i++] : fill(1);
        const beta = center ? given[i++] : fill(0);
        return [gamma, beta, given[i], given[i + 1]];
      },
      weightsOut: ([gamma, beta, mean, variance]) => [
        ...(scale ? [gamma] : []),
        ...(center ? [beta] : []),
        mean,
        variance,
      ],
    };
  }
  if (layer.class_name !== 'Conv1D') return same;
  const k = firstInt(layer.config.kernel_size, Number.NaN);
  const d = firstInt(layer.config.dilation_rate, 1);
  if (!Number.isFinite(k)) throw new Error(`Conv1D at layer ${index} has no kernel_size`);
  const causal = layer.config.padding === 'causal';
  const span = (k - 1) * d + 1;
  const config = { ...layer.config, padding: causal ? 'valid' : layer.config.padding };
  const leftPad = causal ? span - 1 : 0;
  if (d === 1) return { ...same, config, leftPad };
  Object.assign(config, { kernel_size: [span], dilation_rate: [1] });
  const spread = (t: Tensor): Tensor => {
    const [, cin, cout] = t.shape;
    const data = new Float32Array(span * cin * cout);
    for (let j = 0; j < k; j++)
      data.set(t.data.subarray(j * cin * cout, (j + 1) * cin * cout), j * d * cin * cout);
    return { shape: [span, cin, cout], data };
  };
  const gather = (t: Tensor): Tensor => {
    const [, cin, cout] = t.shape;
    const data = new Float32Array(k * cin * cout);
    for (let j = 0; j < k; j++) {
      data.set(t.data.subarray(j * d * cin * cout, (j * d + 1) * cin * cout), j * cin * cout);
    }
    return { shape: [k, cin, cout], data };
  };
  return {
    ...same,
    config,
    leftPad,
    weightsIn: ([kernel, ...rest]) => [spread(kernel), ...rest],
    weightsOut: ([kernel, ...rest]) => [gather(kernel), ...rest],
  };
}

let backendReady: Promise<boolean> | undefined;

function zerosLike(shape: number[]): Tensor {
  return { shape, data: new Float32Array(sizeOf(shape)) };
}

function toTf(t: Tensor): tf.Tensor {
  return tf.tensor(Float32Array.from(t.data), [...t.shape], 'float32');
}

function fromTf(t: tf.Tensor): Tensor {
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
}

/** tfjs on its cpu backend, without its console banner; for tests that call tfjs directly. */
export async function readyTfjs(): Promise<typeof tf> {
  // Production mode only silences tfjs' console banner suggesting tfjs-node, which cannot install here (§7).
  if (!backendReady) tf.enableProdMode();
  backendReady ??= tf.setBackend('cpu');
  await backendReady;
  return tf;
}

export async function tfjsReference(spec: ReferenceSpec): Promise<ReferenceResult> {
  await readyTfjs();
  if (spec.layers.length === 0) throw new Error('tfjsReference needs at least one layer');

  const adapters = spec.layers.map((layer, i) => adapt(withKerasDefaults(layer), i));
  const layers = spec.layers.map((layer, i) => ({
    class_name: layer.class_name,
    config: adapters[i].config,
  }));
  // A causal layer run as 'valid' would shrink the model's static time length: leave it open.
  const inputShape: (number | null)[] = [null, ...spec.input.shape.slice(1)];
  if (adapters.some((a) => a.leftPad > 0) && inputShape.length === 3) inputShape[1] = null;
  layers[0] = {
    class_name: layers[0].class_name,
    config: { ...layers[0].config, batch_input_shape: inputShape },
  };
  const model = await tf.models.modelFromJSON({
    modelTopology: { class_name: 'Sequential', config: { name: 'reference', layers } },
  } as unknown as tf.io.ModelJSON);

  try {
    // tfjs' model.weights lists all trainable weights before all non-trainable ones; Keras' get_weights()
    // goes layer by layer, so weights are set (and read back) per layer.
    const layerVariables = model.layers.map((layer) => layer.weights);
    const counts = layerVariables.map((vars, i) => adapters[i].specCount(vars.length));
    const expected = counts.reduce((n, c) => n + c, 0);
    if (expected !== spec.weights.length) {
      throw new Error(`tfjs model has ${expected} weights but the spec gives ${spec.weights.length}`);
    }
    let offset = 0;
    model.layers.forEach((layer, i) => {
      const values = adapters[i].weightsIn(spec.weights.slice(offset, offset + counts[i])).map(toTf);
      layer.setWeights(values);
      tf.dispose(values);
      offset += counts[i];
    });
    const allVariables = layerVariables.flat();

    const x = tf.variable(toTf(spec.input), true);
    const dOutput = toTf(spec.dOutput);
    const trainable = allVariables.filter((v) => v.trainable).map((v) => v.read() as tf.Variable);
    let output: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      let y: tf.Tensor = x;
      model.layers.forEach((layer, i) => {
        const pad = adapters[i].leftPad;
        if (pad > 0)
          y = tf.pad(y, [
            [0, 0],
            [pad, 0],
            [0, 0],
          ]);
        y = layer.apply(y, { training: spec.training }) as tf.Tensor;
      });
      output = tf.keep(y);
      return tf.sum(tf.mul(y, dOutput)) as tf.Scalar;
    }, [x, ...trainable]);

    const perLayer = (read: (v: tf.LayerVariable) => Tensor) =>
      layerVariables.flatMap((vars, i) => adapters[i].weightsOut(vars.map(read)));
    const result: ReferenceResult = {
      output: fromTf(output!),
      dInput: fromTf(grads[x.name]),
      dWeights: perLayer((v) =>
        v.trainable ? fromTf(grads[(v.read() as tf.Variable).name]) : zerosLike(v.shape as number[]),
      ),
      weightsAfter: perLayer((v) => fromTf(v.read())),
    };
    tf.dispose([x, dOutput, value, output!, ...Object.values(grads)]);
    return result;
  } finally {
    model.dispose();
  }
}

export { PARITY_TOLERANCE };

/** `assertClose` for tensors: the shapes must be equal too. */
export function assertAllClose(
  what: string,
  actual: Tensor,
  expected: Tensor,
  tolerance: { atol?: number; rtol?: number } = PARITY_TOLERANCE,
): void {
  if (actual.shape.length !== expected.shape.length || actual.shape.some((d, i) => d !== expected.shape[i])) {
    throw new Error(`${what}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`);
  }
  assertClose(what, actual.data, expected.data, tolerance);
}

/**
 * A parity case with deterministic random weights (moving variances kept positive), input and dOutput. Weight
 * and output shapes come from our Sequential; tfjs rejects weights of the wrong shape, so they are checked too.
 */
export function parityCase(
  layers: LayerSpec[],
  inputShape: readonly number[],
  { training, seed = 1 }: { training: boolean; seed?: number },
): ReferenceSpec {
  const random = seededRandom(seed);
  const model = Sequential.fromSpec(layers);
  const outputShape = model.build(inputShape.slice(1));
  const weights = model.weights.map((w) => {
    const t = randomTensor(w.shape, random, 'float32');
    if (w.name === 'moving_variance')
      for (let i = 0; i < t.data.length; i++) t.data[i] = 0.5 + Math.abs(t.data[i]);
    return t;
  });
  model.dispose();
  return {
    layers,
    weights,
    input: randomTensor(inputShape, random, 'float32', 2),
    dOutput: randomTensor([inputShape[0], ...outputShape], random, 'float32'),
    training,
  };
}

/** Runs `spec` through `runSpec` and tfjs and asserts output, dInput and every dWeight agree (DESIGN §2). */
export async function assertParity(spec: ReferenceSpec, label = ''): Promise<RunResult> {
  const ours = runSpec(spec);
  const ref = await tfjsReference(spec);
  const prefix = label ? `${label}: ` : '';
  assertAllClose(`${prefix}output`, ours.output, ref.output);
  assertAllClose(`${prefix}dInput`, ours.dInput, ref.dInput);
  if (ours.dWeights.length !== ref.dWeights.length) {
    throw new Error(`${prefix}${ours.dWeights.length} dWeights, tfjs has ${ref.dWeights.length}`);
  }
  ours.dWeights.forEach((d, i) => {
    assertAllClose(`${prefix}dWeights[${i}]`, d, ref.dWeights[i]);
  });
  return ours;
}
