import { type DType, formatShape, ShapeError, type Tensor } from '../tensor.ts';
import { ConfigReader, uniqueLayerName } from './config.ts';
import type { Layer, LayerContext, LayerSpec, Weight } from './layer.ts';
import { LayerConfigError, layerFromSpec, registerLayer } from './registry.ts';

/**
 * Keras `TimeDistributed`: applies the wrapped layer to every time step of `[batch, time, ...]` by folding
 * time into the batch — `[batch · time, ...]` is a view of the same row-major data, so nothing is copied.
 * The weights are the wrapped layer's, shared by all steps (their gradients sum over steps).
 */
export interface TimeDistributedArgs {
  /** The per-step layer, typically Dense. */
  layer: Layer;
  /** Keras layer name; an automatic `time_distributed_N` when absent. */
  name?: string;
  trainable?: boolean;
}

export class TimeDistributed implements Layer {
  readonly className = 'TimeDistributed';
  readonly name: string;
  readonly layer: Layer;
  private trainShape: readonly number[] | null = null;

  constructor(
    args: TimeDistributedArgs,
    readonly ctx: LayerContext,
  ) {
    this.name = args.name ?? uniqueLayerName('time_distributed');
    this.layer = args.layer;
    if (args.trainable !== undefined) this.layer.trainable = args.trainable;
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): TimeDistributed {
    const r = new ConfigReader('TimeDistributed', config);
    const name = r.name('time_distributed');
    const inner = r.read('layer') as LayerSpec | undefined;
    if (inner === null || typeof inner !== 'object' || typeof inner.class_name !== 'string') {
      throw r.error('layer', 'a nested {"class_name", "config"} layer', inner);
    }
    let layer: Layer;
    try {
      layer = layerFromSpec(inner, ctx);
    } catch (e) {
      if (e instanceof LayerConfigError)
        throw new LayerConfigError(`TimeDistributed "${name}" wraps ${e.message}`);
      throw e;
    }
    const wrapper = new TimeDistributed({ name, layer, trainable: r.bool('trainable', true) }, ctx);
    r.done();
    return wrapper;
  }

  get dtype(): DType {
    return this.ctx.dtype;
  }

  /** As in Keras, a wrapper's `trainable` is its wrapped layer's. */
  get trainable(): boolean {
    return this.layer.trainable;
  }

  set trainable(value: boolean) {
    this.layer.trainable = value;
  }

  get weights(): readonly Weight[] {
    return this.layer.weights;
  }

  build(inputShape: readonly number[]): number[] {
    if (inputShape.length < 2) {
      throw new ShapeError(
        `TimeDistributed "${this.name}": input must be [batch, time, ...]; received [batch, ${inputShape.join(', ')}]`,
      );
    }
    return [inputShape[0], ...this.layer.build(inputShape.slice(1))];
  }

  forward(x: Tensor): Tensor {
    return this.unfold(x, this.layer.forward(this.fold(x)));
  }

  forwardTrain(x: Tensor): Tensor {
    const y = this.layer.forwardTrain(this.fold(x));
    this.trainShape = [...x.shape];
    return this.unfold(x, y);
  }

  backward(dOutput: Tensor): Tensor {
    const shape = this.trainShape;
    if (!shape) throw new Error(`TimeDistributed "${this.name}": backward before forwardTrain`);
    if (dOutput.shape.length < 2 || dOutput.shape[0] !== shape[0] || dOutput.shape[1] !== shape[1]) {
      throw new ShapeError(
        `TimeDistributed "${this.name}": dOutput shape ${formatShape(dOutput.shape)} does not start with [${shape[0]}, ${shape[1]}]`,
      );
    }
    const dx = this.layer.backward(this.fold(dOutput));
    return { shape: [...shape], data: dx.data };
  }

  zeroGrad(): void {
    this.layer.zeroGrad();
  }

  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      layer: { class_name: this.layer.className, config: this.layer.getConfig() },
    };
  }

  dispose(): void {
    this.layer.dispose();
    this.trainShape = null;
  }

  /** [batch, time, ...rest] → [batch · time, ...rest], same data. */
  private fold(x: Tensor): Tensor {
    if (x.shape.length < 3) {
      throw new ShapeError(
        `TimeDistributed "${this.name}": input must be [batch, time, ...]; received ${formatShape(x.shape)}`,
      );
    }
    return { shape: [x.shape[0] * x.shape[1], ...x.shape.slice(2)], data: x.data };
  }

  private unfold(x: Tensor, y: Tensor): Tensor {
    return { shape: [x.shape[0], x.shape[1], ...y.shape.slice(1)], data: y.data };
  }
}

registerLayer('TimeDistributed', (config, ctx) => TimeDistributed.fromConfig(config, ctx));
