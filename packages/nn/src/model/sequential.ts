import '../layers/index.ts';
import { BatchNormalization } from '../layers/batch-normalization.ts';
import type { Layer, LayerSpec, Weight } from '../layers/layer.ts';
import { LayerConfigError, layerFromSpec } from '../layers/registry.ts';
import { TimeDistributed } from '../layers/time-distributed.ts';
import {
  allocate,
  type DType,
  formatShape,
  ShapeError,
  shapesEqual,
  sizeOf,
  type Tensor,
} from '../tensor.ts';

/** Keras 2 Sequential JSON: `{ class_name: 'Sequential', config: { name, layers } }`. */
export interface SequentialJSON {
  class_name: 'Sequential';
  config: { name: string; layers: LayerSpec[] };
}

export interface SequentialOptions {
  /** Element type of every weight and buffer; float64 is for gradient checks. */
  dtype?: DType;
  name?: string;
}

/** An input shape as Keras declares it, without the batch axis; `null` dimensions take any size. */
export type DeclaredShape = readonly (number | null)[];

/**
 * A stack of layers, each feeding the next, with Keras Sequential's weight order (layer by layer, each in its
 * `get_weights()` order). The input shape is fixed by the first input (or a Keras `batch_input_shape`).
 */
export class Sequential {
  readonly name: string;
  readonly dtype: DType;
  private built: { input: number[]; output: number[] } | null = null;

  constructor(
    readonly layers: readonly Layer[],
    options: SequentialOptions = {},
    /** From an `InputLayer` or the first layer's `batch_input_shape`, without the batch axis. */
    readonly declaredInputShape: DeclaredShape | null = null,
  ) {
    this.name = options.name ?? 'sequential';
    this.dtype = options.dtype ?? 'float32';
    if (layers.length === 0) throw new LayerConfigError('Sequential needs at least one layer');
  }

  /**
   * Builds the layers of a Keras Sequential `layers` list. A leading `InputLayer` and a first layer's
   * `batch_input_shape` declare the input shape. Errors name the layer's index and class.
   */
  static fromSpec(specs: readonly LayerSpec[], options: SequentialOptions = {}): Sequential {
    if (!Array.isArray(specs))
      throw new LayerConfigError(`layers must be a list; received ${JSON.stringify(specs)}`);
    const dtype = options.dtype ?? 'float32';
    let declared: DeclaredShape | null = null;
    const layers: Layer[] = [];
    specs.forEach((spec, i) => {
      const where = `layer ${i} (${typeof spec?.class_name === 'string' ? spec.class_name : 'no class_name'})`;
      if (spec?.class_name === 'InputLayer') {
        if (i !== 0) throw new LayerConfigError(`${where}: an InputLayer may only come first`);
        declared = readBatchInputShape(spec.config?.batch_input_shape, where, true);
        return;
      }
      if (layers.length === 0 && declared === null) {
        declared = readBatchInputShape(spec?.config?.batch_input_shape, where, false);
      }
      try {
        layers.push(layerFromSpec(spec, { dtype }));
      } catch (e) {
        if (e instanceof LayerConfigError) throw new LayerConfigError(`${where}: ${e.message}`);
        throw e;
      }
    });
    return new Sequential(layers, options, declared);
  }

  static fromJSON(json: SequentialJSON, options: SequentialOptions = {}): Sequential {
    if (json?.class_name !== 'Sequential') {
      throw new LayerConfigError(
        `expected class_name "Sequential"; received ${JSON.stringify(json?.class_name)}`,
      );
    }
    return Sequential.fromSpec(json.config.layers, { name: json.config.name, ...options });
  }

  /** Input shape without batch the model was built for; null before the first build. */
  get inputShape(): readonly number[] | null {
    return this.built?.input ?? null;
  }

  get outputShape(): readonly number[] | null {
    return this.built?.output ?? null;
  }

  /** Builds every layer for `inputShape` (without batch) and returns the output shape (without batch). */
  build(inputShape: readonly number[]): number[] {
    if (this.built && shapesEqual(this.built.input, inputShape)) return [...this.built.output];
    const declared = this.declaredInputShape;
    if (
      declared &&
      (declared.length !== inputShape.length || declared.some((d, i) => d !== null && d !== inputShape[i]))
    ) {
      throw new ShapeError(
        `input shape [batch, ${inputShape.join(', ')}] does not match the model's batch_input_shape ` +
          `[null, ${declared.map((d) => d ?? 'null').join(', ')}] (layer 0, ${this.describe(0)})`,
      );
    }
    let shape: number[] = [...inputShape];
    this.layers.forEach((layer, i) => {
      try {
        shape = layer.build(shape);
      } catch (e) {
        if (e instanceof ShapeError || e instanceof LayerConfigError) {
          throw new (e.constructor as typeof ShapeError)(`layer ${i} (${layer.className}): ${e.message}`);
        }
        throw e;
      }
    });
    this.built = { input: [...inputShape], output: shape };
    return [...shape];
  }

  forward(x: Tensor): Tensor {
    this.build(x.shape.slice(1));
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }

  forwardTrain(x: Tensor): Tensor {
    this.build(x.shape.slice(1));
    let y = x;
    for (const layer of this.layers) y = layer.forwardTrain(y);
    return y;
  }

  /** Differentiates the last forwardTrain; weight gradients accumulate (`+=`) until zeroGrad. */
  backward(dOutput: Tensor): Tensor {
    let d = dOutput;
    for (let i = this.layers.length - 1; i >= 0; i--) d = this.layers[i].backward(d);
    return d;
  }

  zeroGrad(): void {
    for (const layer of this.layers) layer.zeroGrad();
  }

  /** Every weight, layer by layer, in Keras `model.get_weights()` order. Empty before build. */
  get weights(): Weight[] {
    return this.layers.flatMap((layer) => [...layer.weights]);
  }

  /** Copies of every weight value in `get_weights()` order. */
  getWeights(): Tensor[] {
    return this.weights.map((w) => ({ shape: [...w.shape], data: w.value.slice() }));
  }

  /**
   * Sets every weight from `get_weights()`-ordered tensors (values are converted to the model's dtype).
   * Throws ShapeError naming the layer index, class, name and weight for a missing, extra or misshapen one.
   */
  setWeights(values: readonly Tensor[]): void {
    if (!this.built) throw new Error('Sequential.setWeights: build the model (or run it once) first');
    let next = 0;
    this.layers.forEach((layer, i) => {
      for (const w of layer.weights) {
        const where = `layer ${i} (${this.describe(i)}): weight ${w.name}`;
        if (next >= values.length) {
          throw new ShapeError(
            `${where} ${formatShape(w.shape)} is missing: ${values.length} weights given, the model has ${this.weights.length}`,
          );
        }
        const v = values[next++];
        if (!shapesEqual(v.shape, w.shape)) {
          throw new ShapeError(
            `${where} has shape ${formatShape(v.shape)}, expected ${formatShape(w.shape)}`,
          );
        }
        if (v.data.length !== sizeOf(w.shape)) {
          throw new ShapeError(`${where}: ${v.data.length} values for shape ${formatShape(w.shape)}`);
        }
      }
    });
    if (next !== values.length) {
      const last = this.layers.length - 1;
      throw new ShapeError(
        `${values.length} weights given, the model has ${next} (the last, layer ${last} (${this.describe(last)}), ` +
          `ends at weight ${next - 1})`,
      );
    }
    this.weights.forEach((w, j) => {
      w.value.set(values[j].data);
    });
  }

  /** Keras Sequential JSON; a leading InputLayer carries the input shape once it is known. */
  toJSON(): SequentialJSON {
    const layers: LayerSpec[] = this.layers.map((l) => ({ class_name: l.className, config: l.getConfig() }));
    const input = this.declaredInputShape ?? this.built?.input ?? null;
    if (input) {
      layers.unshift({
        class_name: 'InputLayer',
        config: {
          batch_input_shape: [null, ...input],
          dtype: 'float32',
          sparse: false,
          ragged: false,
          name: `${this.name}_input`,
        },
      });
    }
    return { class_name: 'Sequential', config: { name: this.name, layers } };
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }

  private describe(i: number): string {
    return `${this.layers[i].className} "${this.layers[i].name}"`;
  }
}

function readBatchInputShape(value: unknown, where: string, required: boolean): DeclaredShape | null {
  if (value === undefined && !required) return null;
  const ok =
    Array.isArray(value) &&
    value.length >= 2 &&
    value.every((d) => d === null || (Number.isInteger(d) && (d as number) > 0));
  if (!ok) {
    throw new LayerConfigError(
      `${where}: batch_input_shape must be a list like [null, 150, 13]; received ${JSON.stringify(value)}`,
    );
  }
  return (value as (number | null)[]).slice(1);
}

/** The conformance computation of DESIGN §2 (`kws-nn run`), on typed tensors. */
export interface RunSpec {
  /** Keras 2 Sequential `layers` (snake_case configs). */
  layers: LayerSpec[];
  /** Keras `model.get_weights()` order. */
  weights: Tensor[];
  input: Tensor;
  /** Upstream gradient: the loss is Σ output ⊙ dOutput. */
  dOutput: Tensor;
  /** Training-mode forward (batch statistics in BatchNormalization) or inference mode. */
  training: boolean;
}

export interface RunResult {
  output: Tensor;
  dInput: Tensor;
  /** One per weight in `get_weights()` order; all zeros for non-trainable ones. */
  dWeights: Tensor[];
}

/**
 * Builds the model, loads the weights, runs one forward pass in the requested mode and the backward pass of
 * Σ output ⊙ dOutput. Throws LayerConfigError / ShapeError naming the offending layer for a bad spec.
 */
export function runSpec(spec: RunSpec, dtype: DType = 'float32'): RunResult {
  const model = Sequential.fromSpec(spec.layers, { dtype });
  try {
    model.build(spec.input.shape.slice(1));
    model.setWeights(spec.weights);
    const layerTrainable = model.layers.map((l) => l.trainable);
    const x = { shape: [...spec.input.shape], data: allocate(dtype, spec.input.data.length) };
    x.data.set(spec.input.data);
    // Gradients need the training path's caches. Inference mode differs from training mode only in
    // BatchNormalization, and a frozen BatchNormalization runs in inference mode (TF2 Keras), so inference-mode
    // gradients are the training path with every BatchNormalization frozen for this one pass.
    const bns = spec.training ? [] : model.layers.flatMap(batchNormalizations);
    const bnTrainable = bns.map((bn) => bn.trainable);
    for (const bn of bns) bn.trainable = false;
    let result: RunResult;
    try {
      model.zeroGrad();
      const y = model.forwardTrain(x);
      if (!shapesEqual(y.shape, spec.dOutput.shape)) {
        throw new ShapeError(
          `dOutput has shape ${formatShape(spec.dOutput.shape)} but the model output is ${formatShape(y.shape)}`,
        );
      }
      const output = { shape: [...y.shape], data: y.data.slice() };
      const dy = { shape: [...spec.dOutput.shape], data: allocate(dtype, spec.dOutput.data.length) };
      dy.data.set(spec.dOutput.data);
      const dx = model.backward(dy);
      const dWeights = model.layers.flatMap((layer, i) =>
        layer.weights.map((w) => ({
          shape: [...w.shape],
          data: w.trainable && layerTrainable[i] ? w.grad.slice() : allocate(dtype, w.grad.length),
        })),
      );
      result = { output, dInput: { shape: [...dx.shape], data: dx.data.slice() }, dWeights };
    } finally {
      bns.forEach((bn, i) => {
        bn.trainable = bnTrainable[i];
      });
    }
    return result;
  } finally {
    model.dispose();
  }
}

function batchNormalizations(layer: Layer): BatchNormalization[] {
  if (layer instanceof BatchNormalization) return [layer];
  if (layer instanceof TimeDistributed) return batchNormalizations(layer.layer);
  return [];
}
