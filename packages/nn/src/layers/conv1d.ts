import { kernels } from '../kernels/backend.ts';
import { type DType, type FloatArray, formatShape, release, ShapeError, type Tensor } from '../tensor.ts';
import { type ActivationName, type LayerActivation, layerActivation } from './activations.ts';
import { ConfigReader, uniqueLayerName } from './config.ts';
import type { Layer, LayerContext, Weight } from './layer.ts';
import { LayerConfigError, registerLayer } from './registry.ts';
import { createWeight, reuse, ZEROS } from './weights.ts';

export type Conv1DPadding = 'valid' | 'same' | 'causal';
const PADDINGS: readonly Conv1DPadding[] = ['valid', 'same', 'causal'];

/**
 * Keras `Conv1D` on `[batch, time, channels]` (channels_last):
 * y[b, t, o] = activation(bias[o] + Σ_j Σ_c x[b, t·strides − padLeft + j·dilation_rate, c] · kernel[j, c, o]).
 */
export interface Conv1DArgs {
  /** Output channels (Keras `filters`). */
  filters: number;
  /** Taps of the kernel (Keras `kernel_size`). */
  kernelSize: number;
  /** Step between output frames. */
  strides?: number;
  /** 'valid' (no padding), 'same' (output length ⌈time / strides⌉, TF's split of the padding), 'causal'. */
  padding?: Conv1DPadding;
  /** Spacing between taps. Cannot be combined with strides > 1 (Keras and tfjs refuse it too). */
  dilationRate?: number;
  /** Applied after the bias. */
  activation?: ActivationName;
  /** Whether there is a `bias` weight. */
  useBias?: boolean;
  /** Keras layer name; an automatic `conv1d_N` when absent. */
  name?: string;
  /** Whether an optimizer may update the weights. */
  trainable?: boolean;
}

export const CONV1D_DEFAULT_STRIDES = 1;
export const CONV1D_DEFAULT_PADDING: Conv1DPadding = 'valid';
export const CONV1D_DEFAULT_DILATION = 1;

/** Where a convolution of `time` input frames reads: zeros before the input, and the output length. */
export interface Conv1DGeometry {
  padLeft: number;
  outTime: number;
}

export class Conv1D implements Layer {
  readonly className = 'Conv1D';
  readonly name: string;
  trainable: boolean;
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Conv1DPadding;
  readonly dilationRate: number;
  readonly activation: LayerActivation;
  readonly useBias: boolean;
  weights: Weight[] = [];
  private inChannels = 0;

  // The convolution runs as one GEMM on an im2col matrix: col[b·outTime + t, j·in + c] is the input sample
  // tap j of output frame t reads, so y = col · kernel with kernel [k, in, out] read as [k·in, out].
  /** [batch · outTime, k · in] inference im2col. */
  private colInfer: FloatArray | null = null;
  /** [batch · outTime, filters] */
  private yInfer: FloatArray | null = null;
  /** [batch · outTime, k · in] training im2col: saved for dkernel = colᵀ · dPre. */
  private colTrain: FloatArray | null = null;
  /** [batch · outTime, filters] training output: saved for the activation's derivative. */
  private yTrain: FloatArray | null = null;
  private trainShape: readonly number[] | null = null;
  /** [batch · outTime, filters] gradient before the activation. */
  private dPre: FloatArray | null = null;
  /** [batch · outTime, k · in] */
  private dCol: FloatArray | null = null;
  /** [batch, time, in] */
  private dx: FloatArray | null = null;

  constructor(
    args: Conv1DArgs,
    readonly ctx: LayerContext,
  ) {
    this.name = args.name ?? uniqueLayerName('conv1d');
    this.trainable = args.trainable ?? true;
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? CONV1D_DEFAULT_STRIDES;
    this.padding = args.padding ?? CONV1D_DEFAULT_PADDING;
    this.dilationRate = args.dilationRate ?? CONV1D_DEFAULT_DILATION;
    this.useBias = args.useBias ?? true;
    this.activation = layerActivation(args.activation ?? 'linear', `Conv1D "${this.name}"`);
    for (const [key, v] of [
      ['filters', this.filters],
      ['kernel_size', this.kernelSize],
      ['strides', this.strides],
      ['dilation_rate', this.dilationRate],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new LayerConfigError(`Conv1D "${this.name}": ${key} must be a positive integer; received ${v}`);
      }
    }
    if (!PADDINGS.includes(this.padding)) {
      throw new LayerConfigError(
        `Conv1D "${this.name}": padding must be one of ${PADDINGS.join(', ')}; received ${JSON.stringify(this.padding)}`,
      );
    }
    if (this.strides > 1 && this.dilationRate > 1) {
      throw new LayerConfigError(
        `Conv1D "${this.name}": strides ${this.strides} with dilation_rate ${this.dilationRate}; ` +
          'strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)',
      );
    }
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): Conv1D {
    // Keras: initializer, regularizer and constraint keys are accepted and ignored. Fresh weights start from
    // Keras' default initializers, and regularization belongs to the training loss, not to this layer.
    const r = new ConfigReader('Conv1D', config).ignore(
      'kernel_initializer',
      'bias_initializer',
      'kernel_regularizer',
      'bias_regularizer',
      'activity_regularizer',
      'kernel_constraint',
      'bias_constraint',
    );
    // Keras: only channels_last and groups 1, the layouts the seed's models use.
    const dataFormat = r.read('data_format');
    if (dataFormat !== undefined && dataFormat !== 'channels_last') {
      throw r.error('data_format', '"channels_last"', dataFormat);
    }
    const groups = r.read('groups');
    if (groups !== undefined && groups !== 1) throw r.error('groups', '1', groups);
    const layer = new Conv1D(
      {
        name: r.name('conv1d'),
        trainable: r.bool('trainable', true),
        filters: r.positiveInt('filters'),
        kernelSize: r.positiveInt1('kernel_size'),
        strides: r.positiveInt1('strides', CONV1D_DEFAULT_STRIDES),
        padding: r.oneOf('padding', PADDINGS, CONV1D_DEFAULT_PADDING),
        dilationRate: r.positiveInt1('dilation_rate', CONV1D_DEFAULT_DILATION),
        activation: r.read('activation') as ActivationName | undefined,
        useBias: r.bool('use_bias', true),
      },
      ctx,
    );
    r.done();
    return layer;
  }

  get dtype(): DType {
    return this.ctx.dtype;
  }

  /** Input frames one output frame spans. */
  get span(): number {
    return (this.kernelSize - 1) * this.dilationRate + 1;
  }

  /** TF's padding rules: 'same' puts the odd zero on the right, 'causal' pads only on the left. */
  geometry(time: number): Conv1DGeometry {
    const s = this.strides;
    if (this.padding === 'valid') {
      return { padLeft: 0, outTime: time >= this.span ? Math.floor((time - this.span) / s) + 1 : 0 };
    }
    if (this.padding === 'causal') return { padLeft: this.span - 1, outTime: Math.ceil(time / s) };
    const outTime = Math.ceil(time / s);
    const padTotal = Math.max((outTime - 1) * s + this.span - time, 0);
    return { padLeft: Math.floor(padTotal / 2), outTime };
  }

  build(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 2) {
      throw new ShapeError(
        `Conv1D "${this.name}": input must be [batch, time, channels]; received [batch, ${inputShape.join(', ')}]`,
      );
    }
    const [time, inChannels] = inputShape;
    if (this.weights.length === 0) {
      this.inChannels = inChannels;
      const k = this.kernelSize;
      this.weights = [
        createWeight('kernel', [k, inChannels, this.filters], this.dtype, {
          kind: 'glorot_uniform',
          fanIn: k * inChannels,
          fanOut: k * this.filters,
        }),
      ];
      if (this.useBias) this.weights.push(createWeight('bias', [this.filters], this.dtype, ZEROS));
    } else if (inChannels !== this.inChannels) {
      throw new ShapeError(
        `Conv1D "${this.name}": built for ${this.inChannels} input channels, received [batch, ${inputShape.join(', ')}]`,
      );
    }
    const { outTime } = this.geometry(time);
    if (outTime < 1) {
      throw new ShapeError(
        `Conv1D "${this.name}": ${time} frames are fewer than the ${this.span} a 'valid' kernel spans`,
      );
    }
    return [outTime, this.filters];
  }

  forward(x: Tensor): Tensor {
    const { batch, outTime } = this.check(x);
    const rows = batch * outTime;
    this.colInfer = reuse(this.colInfer, this.dtype, rows * this.kernelSize * this.inChannels);
    this.yInfer = reuse(this.yInfer, this.dtype, rows * this.filters);
    this.convolve(this.yInfer, this.colInfer, x);
    return { shape: [batch, outTime, this.filters], data: this.yInfer };
  }

  forwardTrain(x: Tensor): Tensor {
    const { batch, outTime } = this.check(x);
    const rows = batch * outTime;
    this.colTrain = reuse(this.colTrain, this.dtype, rows * this.kernelSize * this.inChannels);
    this.yTrain = reuse(this.yTrain, this.dtype, rows * this.filters);
    this.convolve(this.yTrain, this.colTrain, x);
    this.trainShape = [...x.shape];
    return { shape: [batch, outTime, this.filters], data: this.yTrain };
  }

  backward(dOutput: Tensor): Tensor {
    const shape = this.trainShape;
    const col = this.colTrain;
    const y = this.yTrain;
    if (!shape || !col || !y) throw new Error(`Conv1D "${this.name}": backward before forwardTrain`);
    const [batch, time, cin] = shape;
    const { outTime } = this.geometry(time);
    const n = this.filters;
    const rows = batch * outTime;
    const kc = this.kernelSize * cin;
    if (dOutput.data.length !== rows * n) {
      throw new ShapeError(
        `Conv1D "${this.name}": dOutput shape ${formatShape(dOutput.shape)}, expected ${formatShape([batch, outTime, n])}`,
      );
    }
    // forward: y = f(pre)  →  dPre = dy ⊙ f'(pre), written from y.
    let dPre = dOutput.data;
    if (this.activation.name !== 'linear') {
      this.dPre = reuse(this.dPre, this.dtype, rows * n);
      this.activation.backward(this.dPre, dOutput.data, y, rows, n);
      dPre = this.dPre;
    }
    const gemm = kernels().gemm;
    const [kernel, bias] = this.weights;
    // forward: pre = col · kernel + bias  →  dkernel += colᵀ · dPre, dbias += Σ_rows dPre, dcol = dPre · kernelᵀ.
    gemm(true, false, kc, n, rows, 1, col, 0, kc, dPre, 0, n, 1, kernel.grad, 0, n);
    if (bias) for (let r = 0; r < rows; r++) for (let o = 0; o < n; o++) bias.grad[o] += dPre[r * n + o];
    this.dCol = reuse(this.dCol, this.dtype, rows * kc);
    gemm(false, true, rows, kc, n, 1, dPre, 0, n, kernel.value, 0, n, 0, this.dCol, 0, kc);
    // forward: col[b·outTime + t, j·in + c] = x[b, t·s − padLeft + j·d, c]  →  dx scatter-adds dcol back.
    this.dx = reuse(this.dx, this.dtype, batch * time * cin);
    this.dx.fill(0);
    this.im2colWalk(batch, time, cin, (colOffset, xOffset) => {
      for (let c = 0; c < cin; c++) this.dx![xOffset + c] += this.dCol![colOffset + c];
    });
    return { shape: [...shape], data: this.dx };
  }

  zeroGrad(): void {
    for (const w of this.weights) w.grad.fill(0);
  }

  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      filters: this.filters,
      kernel_size: [this.kernelSize],
      strides: [this.strides],
      padding: this.padding,
      data_format: 'channels_last',
      dilation_rate: [this.dilationRate],
      groups: 1,
      activation: this.activation.name,
      use_bias: this.useBias,
    };
  }

  dispose(): void {
    release(this.colInfer, this.yInfer, this.colTrain, this.yTrain, this.dPre, this.dCol, this.dx);
    this.colInfer = this.yInfer = this.colTrain = this.yTrain = this.dPre = this.dCol = this.dx = null;
  }

  /** y = f(im2col(x) · kernel + bias); `col` is filled on the way. */
  private convolve(y: FloatArray, col: FloatArray, x: Tensor): void {
    const [batch, time, cin] = x.shape;
    const { outTime } = this.geometry(time);
    const rows = batch * outTime;
    const kc = this.kernelSize * cin;
    const n = this.filters;
    // im2col. With dilation 1 the taps of output frame t are k consecutive input frames, one contiguous
    // run of k · in values: the rows whose taps all lie inside the input are one strided block copy.
    const { padLeft } = this.geometry(time);
    const k = this.kernelSize;
    let tLo = outTime;
    let tHi = outTime;
    if (this.dilationRate === 1) {
      tLo = Math.min(outTime, Math.ceil(padLeft / this.strides));
      tHi = Math.max(tLo, Math.min(outTime, Math.floor((time - k + padLeft) / this.strides) + 1));
      if (tHi > tLo) {
        kernels().copyBlocks(
          col,
          tLo * kc,
          outTime * kc,
          kc,
          x.data,
          (tLo * this.strides - padLeft) * cin,
          time * cin,
          this.strides * cin,
          batch,
          tHi - tLo,
          kc,
        );
      }
    }
    const xd = x.data;
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < outTime; t++) {
        if (t === tLo) t = tHi;
        if (t >= outTime) break;
        const start = t * this.strides - padLeft;
        let o = (b * outTime + t) * kc;
        for (let j = 0; j < k; j++) {
          const src = start + j * this.dilationRate;
          if (src >= 0 && src < time) {
            for (let c = 0, i = (b * time + src) * cin; c < cin; c++) col[o++] = xd[i + c];
          } else {
            for (let c = 0; c < cin; c++) col[o++] = 0;
          }
        }
      }
    }
    const [kernel, bias] = this.weights;
    if (bias) kernels().copyBlocks(y, 0, n, 0, bias.value, 0, 0, 0, rows, 1, n);
    kernels().gemm(false, false, rows, n, kc, 1, col, 0, kc, kernel.value, 0, n, bias ? 1 : 0, y, 0, n);
    this.activation.forward(y, rows, n);
  }

  /** Calls `visit(colOffset, xOffset)` for every (row, tap) of the im2col matrix that reads a real input frame. */
  private im2colWalk(
    batch: number,
    time: number,
    cin: number,
    visit: (colOffset: number, xOffset: number) => void,
  ): void {
    const { padLeft, outTime } = this.geometry(time);
    const k = this.kernelSize;
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < outTime; t++) {
        const rowOffset = (b * outTime + t) * k * cin;
        const start = t * this.strides - padLeft;
        for (let j = 0; j < k; j++) {
          const src = start + j * this.dilationRate;
          if (src >= 0 && src < time) visit(rowOffset + j * cin, (b * time + src) * cin);
        }
      }
    }
  }

  private check(x: Tensor): { batch: number; outTime: number } {
    if (x.shape.length !== 3) {
      throw new ShapeError(
        `Conv1D "${this.name}": input must be [batch, time, channels]; received ${formatShape(x.shape)}`,
      );
    }
    // build() allocates the weights on first use (Keras builds on the first call) and checks the channels.
    const [outTime] = this.build(x.shape.slice(1));
    return { batch: x.shape[0], outTime };
  }
}

registerLayer('Conv1D', (config, ctx) => Conv1D.fromConfig(config, ctx));
