import { type DType, type FloatArray, formatShape, release, ShapeError, type Tensor } from '../tensor.ts';
import { type ActivationName, type LayerActivation, layerActivation } from './activations.ts';
import { ConfigReader, uniqueLayerName } from './config.ts';
import type { Layer, LayerContext, Weight } from './layer.ts';
import { registerLayer } from './registry.ts';
import { reuse } from './weights.ts';

/** Keras `Activation`: y = f(x) elementwise, or softmax over the last axis. No weights. */
export interface ActivationArgs {
  /** relu, sigmoid, tanh, softmax, linear (and hard_sigmoid). */
  activation: ActivationName;
  /** Keras layer name; an automatic `activation_N` when absent. */
  name?: string;
  trainable?: boolean;
}

export class Activation implements Layer {
  readonly className = 'Activation';
  readonly name: string;
  trainable: boolean;
  readonly activation: LayerActivation;
  readonly weights: readonly Weight[] = [];

  /** Inference output, input-shaped. */
  private yInfer: FloatArray | null = null;
  /** Training output, input-shaped: saved for backward (every activation's derivative is a function of y). */
  private yTrain: FloatArray | null = null;
  private trainShape: readonly number[] | null = null;
  /** Input-shaped. */
  private dx: FloatArray | null = null;

  constructor(
    args: ActivationArgs,
    readonly ctx: LayerContext,
  ) {
    this.name = args.name ?? uniqueLayerName('activation');
    this.trainable = args.trainable ?? true;
    this.activation = layerActivation(args.activation, `Activation "${this.name}"`);
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): Activation {
    const r = new ConfigReader('Activation', config);
    const activation = r.read('activation');
    if (activation === undefined) throw r.error('activation', 'an activation name', activation);
    const layer = new Activation(
      {
        name: r.name('activation'),
        activation: activation as ActivationName,
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
    if (this.activation.name === 'softmax' && inputShape.length === 0) {
      throw new ShapeError(`Activation "${this.name}": softmax needs a feature axis; input shape is []`);
    }
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    this.yInfer = reuse(this.yInfer, this.dtype, x.data.length);
    this.apply(this.yInfer, x);
    return { shape: [...x.shape], data: this.yInfer };
  }

  forwardTrain(x: Tensor): Tensor {
    this.yTrain = reuse(this.yTrain, this.dtype, x.data.length);
    this.apply(this.yTrain, x);
    this.trainShape = [...x.shape];
    return { shape: [...x.shape], data: this.yTrain };
  }

  backward(dOutput: Tensor): Tensor {
    const y = this.yTrain;
    const shape = this.trainShape;
    if (!y || !shape) throw new Error(`Activation "${this.name}": backward before forwardTrain`);
    if (dOutput.data.length !== y.length) {
      throw new ShapeError(
        `Activation "${this.name}": dOutput shape ${formatShape(dOutput.shape)}, expected ${formatShape(shape)}`,
      );
    }
    const cols = shape[shape.length - 1];
    this.dx = reuse(this.dx, this.dtype, y.length);
    if (y.length === 0) return { shape: [...shape], data: this.dx };
    // forward: y = f(x)  →  dx = dy ⊙ f'(x), written from y.
    this.activation.backward(this.dx, dOutput.data, y, y.length / cols, cols);
    return { shape: [...shape], data: this.dx };
  }

  zeroGrad(): void {}

  getConfig(): Record<string, unknown> {
    return { name: this.name, trainable: this.trainable, activation: this.activation.name };
  }

  dispose(): void {
    release(this.yInfer, this.yTrain, this.dx);
    this.yInfer = this.yTrain = this.dx = null;
  }

  private apply(y: FloatArray, x: Tensor): void {
    if (x.shape.length < 2) {
      throw new ShapeError(
        `Activation "${this.name}": input must have a batch axis; received ${formatShape(x.shape)}`,
      );
    }
    y.set(x.data);
    if (y.length === 0) return;
    const cols = x.shape[x.shape.length - 1];
    this.activation.forward(y, x.data.length / cols, cols);
  }
}

registerLayer('Activation', (config, ctx) => Activation.fromConfig(config, ctx));
