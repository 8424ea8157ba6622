import { kernels } from '../kernels/backend.ts';
import { type DType, type FloatArray, formatShape, release, ShapeError, type Tensor } from '../tensor.ts';
import { type ActivationName, type LayerActivation, layerActivation } from './activations.ts';
import { ConfigReader, uniqueLayerName } from './config.ts';
import { lastAxisRows } from './last-axis.ts';
import type { Layer, LayerContext, Weight } from './layer.ts';
import { registerLayer } from './registry.ts';
import { createWeight, reuse, ZEROS } from './weights.ts';

/** Keras `Dense`: y = activation(x · kernel + bias) over the last axis of an input of any rank ≥ 2. */
export interface DenseArgs {
  /** Output features (Keras `units`). */
  units: number;
  /** Applied after the bias. */
  activation?: ActivationName;
  /** Whether there is a `bias` weight (Keras `use_bias`). */
  useBias?: boolean;
  /** Keras layer name; an automatic `dense_N` when absent. */
  name?: string;
  /** Whether an optimizer may update the weights. */
  trainable?: boolean;
}

export const DENSE_DEFAULT_ACTIVATION: ActivationName = 'linear';
export const DENSE_DEFAULT_USE_BIAS = true;

export class Dense implements Layer {
  readonly className = 'Dense';
  readonly name: string;
  trainable: boolean;
  readonly units: number;
  readonly activation: LayerActivation;
  readonly useBias: boolean;
  weights: Weight[] = [];
  private inputDim = 0;

  // Inference: [rows, units], rows = all input dims but the last.
  private yInfer: FloatArray | null = null;
  // Training caches. Saved for backward: the input x (dkernel = xᵀ·dPre) and the output y (activation').
  private x: Tensor | null = null;
  /** [rows, units] output of the last forwardTrain. */
  private yTrain: FloatArray | null = null;
  /** [rows, units] gradient before the activation (aliases dOutput's copy for linear). */
  private dPre: FloatArray | null = null;
  /** [rows, inputDim] */
  private dx: FloatArray | null = null;

  constructor(
    args: DenseArgs,
    readonly ctx: LayerContext,
  ) {
    this.units = args.units;
    this.name = args.name ?? uniqueLayerName('dense');
    this.trainable = args.trainable ?? true;
    this.useBias = args.useBias ?? DENSE_DEFAULT_USE_BIAS;
    this.activation = layerActivation(args.activation ?? DENSE_DEFAULT_ACTIVATION, `Dense "${this.name}"`);
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): Dense {
    // Keras: initializer, regularizer and constraint keys are accepted and ignored. Fresh weights start from
    // Keras' default initializers, and regularization belongs to the training loss, not to this layer.
    const r = new ConfigReader('Dense', config).ignore(
      'kernel_initializer',
      'bias_initializer',
      'kernel_regularizer',
      'bias_regularizer',
      'activity_regularizer',
      'kernel_constraint',
      'bias_constraint',
    );
    const layer = new Dense(
      {
        name: r.name('dense'),
        units: r.positiveInt('units'),
        activation: r.read('activation') as ActivationName | undefined,
        useBias: r.bool('use_bias', DENSE_DEFAULT_USE_BIAS),
        trainable: r.bool('trainable', true),
      },
      ctx,
    );
    r.done();
    return layer;
  }

  get dtype(): DType {
    return this.ctx.dtype;
  }

  build(inputShape: readonly number[]): number[] {
    const inputDim = inputShape[inputShape.length - 1];
    if (inputShape.length < 1 || !(inputDim > 0)) {
      throw new ShapeError(
        `Dense "${this.name}": input shape ${formatShape(inputShape)} has no feature axis`,
      );
    }
    if (this.weights.length === 0) {
      this.inputDim = inputDim;
      this.weights = [
        createWeight('kernel', [inputDim, this.units], this.dtype, {
          kind: 'glorot_uniform',
          fanIn: inputDim,
          fanOut: this.units,
        }),
      ];
      if (this.useBias) this.weights.push(createWeight('bias', [this.units], this.dtype, ZEROS));
    } else if (inputDim !== this.inputDim) {
      throw new ShapeError(
        `Dense "${this.name}": built for ${this.inputDim} input features, received shape ${formatShape(inputShape)}`,
      );
    }
    return [...inputShape.slice(0, -1), this.units];
  }

  forward(x: Tensor): Tensor {
    const rows = this.rowsOf(x);
    this.yInfer = reuse(this.yInfer, this.dtype, rows * this.units);
    this.affine(this.yInfer, x, rows);
    return { shape: [...x.shape.slice(0, -1), this.units], data: this.yInfer };
  }

  forwardTrain(x: Tensor): Tensor {
    const rows = this.rowsOf(x);
    this.yTrain = reuse(this.yTrain, this.dtype, rows * this.units);
    this.affine(this.yTrain, x, rows);
    this.x = x;
    return { shape: [...x.shape.slice(0, -1), this.units], data: this.yTrain };
  }

  backward(dOutput: Tensor): Tensor {
    const x = this.x;
    if (!x || !this.yTrain) throw new Error(`Dense "${this.name}": backward before forwardTrain`);
    const rows = this.rowsOf(x);
    if (dOutput.data.length !== rows * this.units) {
      throw new ShapeError(
        `Dense "${this.name}": dOutput shape ${formatShape(dOutput.shape)}, expected ${formatShape([...x.shape.slice(0, -1), this.units])}`,
      );
    }
    const n = this.units;
    const k = this.inputDim;
    // forward: y = f(pre)  →  dPre = dy ⊙ f'(pre), written from y.
    let dPre = dOutput.data;
    if (this.activation.name !== 'linear') {
      this.dPre = reuse(this.dPre, this.dtype, rows * n);
      this.activation.backward(this.dPre, dOutput.data, this.yTrain, rows, n);
      dPre = this.dPre;
    }
    const gemm = kernels().gemm;
    const [kernel, bias] = this.weights;
    // forward: pre = x · kernel + bias  →  dkernel += xᵀ · dPre, dbias += Σ_rows dPre, dx = dPre · kernelᵀ.
    gemm(true, false, k, n, rows, 1, x.data, 0, k, dPre, 0, n, 1, kernel.grad, 0, n);
    if (bias) {
      const db = bias.grad;
      for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) db[j] += dPre[r * n + j];
    }
    this.dx = reuse(this.dx, this.dtype, rows * k);
    gemm(false, true, rows, k, n, 1, dPre, 0, n, kernel.value, 0, n, 0, this.dx, 0, k);
    return { shape: [...x.shape], data: this.dx };
  }

  zeroGrad(): void {
    for (const w of this.weights) w.grad.fill(0);
  }

  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      units: this.units,
      activation: this.activation.name,
      use_bias: this.useBias,
    };
  }

  dispose(): void {
    this.x = null;
    release(this.yInfer, this.yTrain, this.dPre, this.dx);
    this.yInfer = this.yTrain = this.dPre = this.dx = null;
  }

  /** y = f(x · kernel + bias) for `rows` rows. */
  private affine(y: FloatArray, x: Tensor, rows: number): void {
    const n = this.units;
    const k = this.inputDim;
    const [kernel, bias] = this.weights;
    if (bias) kernels().copyBlocks(y, 0, n, 0, bias.value, 0, 0, 0, rows, 1, n);
    kernels().gemm(false, false, rows, n, k, 1, x.data, 0, k, kernel.value, 0, n, bias ? 1 : 0, y, 0, n);
    this.activation.forward(y, rows, n);
  }

  private rowsOf(x: Tensor): number {
    return lastAxisRows(this, x, () => this.inputDim, 'feature');
  }
}

registerLayer('Dense', (config, ctx) => Dense.fromConfig(config, ctx));
