import type { DType, FloatArray, Tensor } from '../tensor.ts';

/**
 * One weight of a layer, in the order Keras' `layer.get_weights()` gives. `grad` has the same length as
 * `value` and accumulates with `+=` during `backward` (call `zeroGrad()` between steps). Non-trainable
 * weights (BatchNormalization's moving statistics) keep an all-zero `grad`.
 */
export interface Weight {
  /** Keras name without the layer prefix: `kernel`, `recurrent_kernel`, `bias`, `gamma`, `moving_mean`... */
  readonly name: string;
  readonly shape: readonly number[];
  readonly value: FloatArray;
  readonly grad: FloatArray;
  readonly trainable: boolean;
}

/** Keras layer config as it appears in Sequential JSON: `{ class_name, config }` with snake_case keys. */
export interface LayerSpec {
  class_name: string;
  config: Record<string, unknown>;
}

/**
 * A layer with an inference path and a training path.
 *
 * Shapes exclude nothing: every tensor passed in or out carries its batch dimension first.
 * - `forward(x)`: inference mode (BatchNormalization uses moving statistics); keeps no caches.
 * - `forwardTrain(x)`: training mode; keeps exactly the caches `backward` needs for this one batch
 *   (BatchNormalization uses batch statistics and updates its moving statistics with Keras' momentum).
 * - `backward(dy)`: differentiates the last `forwardTrain`; accumulates weight gradients into
 *   `weights[i].grad` with `+=` and returns dInput.
 * Output tensors may be views of buffers the layer reuses on the next call with the same batch shape:
 * callers that keep an output across calls copy it.
 */
export interface Layer {
  /** Keras class name, e.g. `LSTM`, `Bidirectional`. */
  readonly className: string;
  readonly name: string;
  readonly dtype: DType;
  /** Whether an optimizer may update this layer's weights (Keras `trainable`). */
  trainable: boolean;
  /**
   * Fixes the input shape (without batch) and allocates weights; returns the output shape without batch.
   * Throws ShapeError naming the layer when the input shape does not fit.
   */
  build(inputShape: readonly number[]): number[];
  /** Weights in Keras `get_weights()` order; empty before `build`. */
  readonly weights: readonly Weight[];
  forward(input: Tensor): Tensor;
  forwardTrain(input: Tensor): Tensor;
  backward(dOutput: Tensor): Tensor;
  zeroGrad(): void;
  /** Keras config with snake_case keys, such that `fromConfig(getConfig())` rebuilds the same layer. */
  getConfig(): Record<string, unknown>;
  /** Releases buffers (a no-op for pure-TS buffers; wasm-backed ones free linear memory). */
  dispose(): void;
}

/** Options every layer constructor receives besides its own Keras config. */
export interface LayerContext {
  dtype: DType;
}

export type LayerFactory = (config: Record<string, unknown>, ctx: LayerContext) => Layer;
