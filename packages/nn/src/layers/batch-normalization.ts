import { kernels } from '../kernels/backend.ts';
import { type DType, type FloatArray, formatShape, release, ShapeError, type Tensor } from '../tensor.ts';
import { ConfigReader, uniqueLayerName } from './config.ts';
import { lastAxisRows } from './last-axis.ts';
import type { Layer, LayerContext, Weight } from './layer.ts';
import { LayerConfigError, registerLayer } from './registry.ts';
import { createWeight, ONES, reuse, ZEROS } from './weights.ts';

/**
 * Keras `BatchNormalization` over the last axis: y = gamma · (x − mean) / √(var + epsilon) + beta, with the
 * batch's mean and variance in training and the moving ones in inference.
 */
export interface BatchNormalizationArgs {
  /**
   * The normalised (channel) axis, counting the batch axis: only the last one is supported, written −1 or, as
   * Keras 2 saves it after build, rank − 1 (checked in build once the rank is known).
   */
  axis?: number;
  /** Fraction of the old moving statistic kept at each training step. */
  momentum?: number;
  /** Added to the variance before the square root. */
  epsilon?: number;
  /** Whether there is a `beta` (offset) weight. */
  center?: boolean;
  /** Whether there is a `gamma` (scale) weight. */
  scale?: boolean;
  /** Keras layer name; an automatic `batch_normalization_N` when absent. */
  name?: string;
  /**
   * Whether an optimizer may update gamma and beta. As in TF2 Keras, a non-trainable BatchNormalization
   * also runs in inference mode (moving statistics, no update) inside `forwardTrain`.
   */
  trainable?: boolean;
}

export const BN_DEFAULT_MOMENTUM = 0.99;
export const BN_DEFAULT_EPSILON = 1e-3;

export class BatchNormalization implements Layer {
  readonly className = 'BatchNormalization';
  readonly name: string;
  trainable: boolean;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly axis: number;
  weights: Weight[] = [];
  private channels = 0;
  private gamma: Weight | null = null;
  private beta: Weight | null = null;
  private movingMean: Weight | null = null;
  private movingVariance: Weight | null = null;

  /** [rows, channels] inference output; rows = all input dims but the last. */
  private yInfer: FloatArray | null = null;
  /** [channels] gamma / √(moving_variance + epsilon), recomputed by every inference forward. */
  private inferScale: FloatArray | null = null;
  /** [channels] beta, likewise. */
  private inferShift: FloatArray | null = null;
  /** [rows, channels] training output. */
  private yTrain: FloatArray | null = null;
  /** [rows, channels] normalised input x̂ = (x − mean) · invStd: saved for dgamma and dx. */
  private xHat: FloatArray | null = null;
  /** [channels] 1 / √(var + epsilon) of the statistics forwardTrain used: saved for dx. */
  private invStd: FloatArray | null = null;
  /** [channels] float64 whatever the dtype: the batch mean, then Σ dy in backward. */
  private sum1: FloatArray | null = null;
  /** [channels] float64 whatever the dtype: the batch variance, then Σ dy · x̂ in backward. */
  private sum2: FloatArray | null = null;
  /** [rows, channels] */
  private dx: FloatArray | null = null;
  private trainShape: readonly number[] | null = null;
  /** Whether the last forwardTrain normalised with batch statistics (false when the layer is frozen). */
  private usedBatchStats = true;

  constructor(
    args: BatchNormalizationArgs,
    readonly ctx: LayerContext,
  ) {
    this.name = args.name ?? uniqueLayerName('batch_normalization');
    this.trainable = args.trainable ?? true;
    this.momentum = args.momentum ?? BN_DEFAULT_MOMENTUM;
    this.epsilon = args.epsilon ?? BN_DEFAULT_EPSILON;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.axis = args.axis ?? -1;
    if (!(this.momentum >= 0 && this.momentum <= 1)) {
      throw new LayerConfigError(
        `BatchNormalization "${this.name}": momentum must be in [0, 1]; received ${this.momentum}`,
      );
    }
    if (!(this.epsilon > 0)) {
      throw new LayerConfigError(
        `BatchNormalization "${this.name}": epsilon must be > 0; received ${this.epsilon}`,
      );
    }
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): BatchNormalization {
    // Keras: initializer, regularizer and constraint keys are accepted and ignored. Fresh weights start from
    // Keras' default initializers, and regularization belongs to the training loss, not to this layer.
    const r = new ConfigReader('BatchNormalization', config).ignore(
      'beta_initializer',
      'gamma_initializer',
      'moving_mean_initializer',
      'moving_variance_initializer',
      'beta_regularizer',
      'gamma_regularizer',
      'beta_constraint',
      'gamma_constraint',
      'fused',
      'synchronized',
    );
    // Keras: only the last axis, and no renorm / virtual batches / adjustment. Keras 2 writes `axis: -1` before
    // build and `[rank − 1]` after; which one it is gets checked against the rank in build().
    const axis = r.read('axis');
    const axisValue = Array.isArray(axis) && axis.length === 1 ? axis[0] : (axis ?? -1);
    if (!Number.isInteger(axisValue)) throw r.error('axis', '-1 (the last axis)', axis);
    for (const [key, off] of [
      ['renorm', false],
      ['virtual_batch_size', null],
      ['adjustment', null],
    ] as const) {
      const v = r.read(key);
      if (v !== undefined && v !== off) throw r.error(key, `${JSON.stringify(off)} (not supported)`, v);
    }
    const layer = new BatchNormalization(
      {
        name: r.name('batch_normalization'),
        axis: axisValue as number,
        trainable: r.bool('trainable', true),
        momentum: r.number('momentum', BN_DEFAULT_MOMENTUM),
        epsilon: r.number('epsilon', BN_DEFAULT_EPSILON),
        center: r.bool('center', true),
        scale: r.bool('scale', true),
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
    const rank = inputShape.length + 1;
    if (inputShape.length < 1 || !(this.axis === -1 || this.axis === rank - 1)) {
      throw new ShapeError(
        `BatchNormalization "${this.name}": axis ${this.axis} on input shape [batch, ${inputShape.join(', ')}]; ` +
          'only the last axis is supported',
      );
    }
    const c = inputShape[inputShape.length - 1];
    if (this.weights.length === 0) {
      this.channels = c;
      this.gamma = this.scale ? createWeight('gamma', [c], this.dtype, ONES) : null;
      this.beta = this.center ? createWeight('beta', [c], this.dtype, ZEROS) : null;
      this.movingMean = createWeight('moving_mean', [c], this.dtype, ZEROS, false);
      this.movingVariance = createWeight('moving_variance', [c], this.dtype, ONES, false);
      this.weights = [this.gamma, this.beta, this.movingMean, this.movingVariance].filter((w) => w !== null);
    } else if (c !== this.channels) {
      throw new ShapeError(
        `BatchNormalization "${this.name}": built for ${this.channels} channels, received shape ${formatShape(inputShape)}`,
      );
    }
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    const rows = this.rowsOf(x);
    const c = this.channels;
    this.yInfer = reuse(this.yInfer, this.dtype, rows * c);
    const y = this.yInfer;
    const mean = this.movingMean!.value;
    const variance = this.movingVariance!.value;
    this.inferScale = reuse(this.inferScale, this.dtype, c);
    this.inferShift = reuse(this.inferShift, this.dtype, c);
    const [scale, shift] = [this.inferScale, this.inferShift];
    for (let j = 0; j < c; j++) {
      scale[j] = (this.gamma ? this.gamma.value[j] : 1) / Math.sqrt(variance[j] + this.epsilon);
      shift[j] = this.beta ? this.beta.value[j] : 0;
    }
    kernels().normalizeColumns(y, x.data, mean, scale, shift, rows, c);
    return { shape: [...x.shape], data: y };
  }

  forwardTrain(x: Tensor): Tensor {
    const rows = this.rowsOf(x);
    const c = this.channels;
    this.yTrain = reuse(this.yTrain, this.dtype, rows * c);
    this.xHat = reuse(this.xHat, this.dtype, rows * c);
    this.invStd = reuse(this.invStd, this.dtype, c);
    this.sum1 = reuse(this.sum1, 'float64', c);
    this.sum2 = reuse(this.sum2, 'float64', c);
    const [y, xHat, invStd, mean, variance] = [this.yTrain, this.xHat, this.invStd, this.sum1, this.sum2];
    this.usedBatchStats = this.trainable;
    if (this.usedBatchStats) {
      // Biased batch variance (divide by rows), as tf.keras' non-fused path and tfjs-layers use both for
      // normalising and for the moving update (the fused 4-D path of tf.keras alone applies Bessel's correction).
      batchMoments(mean, variance, x.data, rows, c);
      const mm = this.movingMean!.value;
      const mv = this.movingVariance!.value;
      for (let j = 0; j < c; j++) {
        mm[j] = mm[j] * this.momentum + mean[j] * (1 - this.momentum);
        mv[j] = mv[j] * this.momentum + variance[j] * (1 - this.momentum);
      }
    } else {
      mean.set(this.movingMean!.value);
      variance.set(this.movingVariance!.value);
    }
    for (let j = 0; j < c; j++) {
      const s = 1 / Math.sqrt(variance[j] + this.epsilon);
      invStd[j] = s;
      const g = this.gamma ? this.gamma.value[j] : 1;
      const b = this.beta ? this.beta.value[j] : 0;
      const m = mean[j];
      for (let r = 0; r < rows; r++) {
        const h = (x.data[r * c + j] - m) * s;
        xHat[r * c + j] = h;
        y[r * c + j] = g * h + b;
      }
    }
    this.trainShape = [...x.shape];
    return { shape: [...x.shape], data: y };
  }

  backward(dOutput: Tensor): Tensor {
    const shape = this.trainShape;
    if (!shape || !this.xHat || !this.invStd || !this.sum1 || !this.sum2) {
      throw new Error(`BatchNormalization "${this.name}": backward before forwardTrain`);
    }
    const c = this.channels;
    const rows = this.xHat.length / c;
    if (dOutput.data.length !== this.xHat.length) {
      throw new ShapeError(
        `BatchNormalization "${this.name}": dOutput shape ${formatShape(dOutput.shape)}, expected ${formatShape(shape)}`,
      );
    }
    const dy = dOutput.data;
    const [xHat, invStd, sumDy, sumDyXHat] = [this.xHat, this.invStd, this.sum1, this.sum2];
    this.dx = reuse(this.dx, this.dtype, rows * c);
    const dx = this.dx;
    // forward: y = gamma · x̂ + beta  →  dbeta += Σ dy, dgamma += Σ dy · x̂.
    sumDy.fill(0);
    sumDyXHat.fill(0);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < c; j++) {
        const g = dy[r * c + j];
        sumDy[j] += g;
        sumDyXHat[j] += g * xHat[r * c + j];
      }
    }
    if (this.beta) for (let j = 0; j < c; j++) this.beta.grad[j] += sumDy[j];
    if (this.gamma) for (let j = 0; j < c; j++) this.gamma.grad[j] += sumDyXHat[j];
    for (let j = 0; j < c; j++) {
      const k = (this.gamma ? this.gamma.value[j] : 1) * invStd[j];
      if (this.usedBatchStats) {
        // forward: x̂ = (x − mean(x)) / √(var(x) + ε) with batch statistics  →
        // dx = gamma · invStd · (dy − Σdy / N − x̂ · Σ(dy · x̂) / N).
        const a = sumDy[j] / rows;
        const b = sumDyXHat[j] / rows;
        for (let r = 0; r < rows; r++) {
          const i = r * c + j;
          dx[i] = k * (dy[i] - a - xHat[i] * b);
        }
      } else {
        // forward: x̂ = (x − moving_mean) / √(moving_variance + ε)  →  dx = gamma · invStd · dy.
        for (let r = 0; r < rows; r++) dx[r * c + j] = k * dy[r * c + j];
      }
    }
    return { shape: [...shape], data: dx };
  }

  zeroGrad(): void {
    for (const w of this.weights) w.grad.fill(0);
  }

  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
    };
  }

  dispose(): void {
    release(this.yInfer, this.yTrain, this.xHat, this.invStd, this.sum1, this.sum2, this.dx);
    release(this.inferScale, this.inferShift);
    this.yInfer = this.yTrain = this.xHat = this.invStd = this.sum1 = this.sum2 = this.dx = null;
    this.inferScale = this.inferShift = null;
  }

  private rowsOf(x: Tensor): number {
    return lastAxisRows(this, x, () => this.channels, 'channel');
  }
}

/** Per-channel mean and biased variance of a [rows, c] block (two passes, for accuracy in float32). */
function batchMoments(mean: FloatArray, variance: FloatArray, x: FloatArray, rows: number, c: number): void {
  mean.fill(0);
  variance.fill(0);
  if (rows === 0) return;
  for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) mean[j] += x[r * c + j];
  for (let j = 0; j < c; j++) mean[j] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < c; j++) {
      const d = x[r * c + j] - mean[j];
      variance[j] += d * d;
    }
  }
  for (let j = 0; j < c; j++) variance[j] /= rows;
}

registerLayer('BatchNormalization', (config, ctx) => BatchNormalization.fromConfig(config, ctx));
