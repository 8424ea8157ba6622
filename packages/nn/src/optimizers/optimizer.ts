import type { Layer, Weight } from '../layers/layer.ts';
import { allocate, dtypeOf, type FloatArray, formatShape, type Tensor } from '../tensor.ts';

/** Arguments every optimizer takes (Keras 3 `Optimizer` base arguments, camelCased). */
export interface OptimizerArgs {
  /** Keras `learning_rate`. Each optimizer has its own default. */
  learningRate?: number;
  /**
   * Keras `weight_decay`: decoupled weight decay. Before each update every updated weight is shrunk,
   * w ← w − learningRate · weightDecay · w, independently of the gradient (AdamW's decay when used with
   * Adam). Default: none.
   */
  weightDecay?: number;
  /**
   * Keras `exclude_from_weight_decay(var_names=...)`: weights whose name contains one of these strings
   * (e.g. `['bias', 'gamma', 'beta']`) are not decayed.
   */
  excludeFromWeightDecay?: readonly string[];
  /** Keras `clipnorm`: each weight's gradient is rescaled so its own L2 norm is at most this. */
  clipnorm?: number;
  /**
   * Keras `global_clipnorm`: all gradients are rescaled by one factor so the L2 norm of their concatenation
   * is at most this (`clip_by_global_norm`).
   */
  globalClipnorm?: number;
  /** Keras `clipvalue`: each gradient element is clipped to [−clipvalue, clipvalue]. */
  clipvalue?: number;
}

/** What an optimizer updates: weights, or layers (whose `trainable` flag is read at every step). */
export type Trainables = readonly (Weight | Layer)[];

/** Optimizer state for checkpoints: the step count and every slot tensor, in the optimizer's order. */
export interface OptimizerState {
  iterations: number;
  /** Per updated weight, its slots (SGD: momentum; Adam: momentum, velocity[, velocity_hat]); copies. */
  slots: Tensor[];
}

interface Param {
  weight: Weight;
  /** The layer the weight came from; the weight is frozen while `layer.trainable` is false. */
  layer: Layer | undefined;
  /** Whether weight decay applies to this weight. */
  decays: boolean;
  /** Start of this weight's slot 0 in `state`; slot s is at `offset + s · size`. */
  offset: number;
}

function isLayer(x: Weight | Layer): x is Layer {
  return 'weights' in x;
}

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name} must be a finite number > 0, got ${value}`);
  }
}

/**
 * Keras 3 optimizer semantics over our `Weight`s. `step()` applies one update from each weight's `grad`:
 * 1. clip gradients (`clipnorm` per weight, or `globalClipnorm` over all updated weights, or `clipvalue`);
 * 2. decoupled weight decay, w ← w − lr · wd · w;
 * 3. the optimizer's own update (`updateWeight`), then `iterations` += 1.
 * Gradients are never modified (clipping enters as a scale factor), so call `zeroGrad` on the model
 * before the next backward as usual.
 *
 * Frozen weights are untouched by all three: non-trainable weights (BatchNormalization moving statistics)
 * always, and weights of layers whose `trainable` is false at the time of the step. Their slots keep their
 * values, so unfreezing later resumes where they stopped.
 *
 * Memory: one block holds every slot of every trainable weight, allocated once in the constructor in the
 * weights' dtype; `step()` allocates nothing.
 */
export abstract class Optimizer {
  /** Keras class name: `SGD`, `Adam`. */
  abstract readonly name: string;
  /** Keras `learning_rate`; may be changed between steps (schedules, fine-tuning). */
  learningRate: number;
  readonly weightDecay: number | undefined;
  readonly clipnorm: number | undefined;
  readonly globalClipnorm: number | undefined;
  readonly clipvalue: number | undefined;
  /** Keras `iterations`: the number of steps applied so far. */
  iterations = 0;
  private readonly params: Param[];
  /** Slot values of every trainable weight: [slotsPerWeight × Σ weight sizes]. */
  protected readonly state: FloatArray;
  private readonly slotsPerWeight: number;

  protected constructor(
    trainables: Trainables,
    args: OptimizerArgs,
    defaultLearningRate: number,
    slots: number,
  ) {
    this.learningRate = args.learningRate ?? defaultLearningRate;
    checkPositive('learningRate', this.learningRate);
    if (args.weightDecay !== undefined && !(Number.isFinite(args.weightDecay) && args.weightDecay >= 0)) {
      throw new RangeError(`weightDecay must be a finite number >= 0, got ${args.weightDecay}`);
    }
    checkPositive('clipnorm', args.clipnorm);
    checkPositive('globalClipnorm', args.globalClipnorm);
    checkPositive('clipvalue', args.clipvalue);
    const clipping = (['clipnorm', 'globalClipnorm', 'clipvalue'] as const).filter(
      (k) => args[k] !== undefined,
    );
    if (clipping.length > 1) {
      // Keras raises the same: the three clipping modes do not compose.
      throw new RangeError(
        `Only one of clipnorm, globalClipnorm and clipvalue can be set, got ${clipping.join(', ')}`,
      );
    }
    this.weightDecay = args.weightDecay || undefined;
    this.clipnorm = args.clipnorm;
    this.globalClipnorm = args.globalClipnorm;
    this.clipvalue = args.clipvalue;
    this.slotsPerWeight = slots;

    this.params = [];
    const seen = new Set<Weight>();
    let total = 0;
    const add = (weight: Weight, layer: Layer | undefined) => {
      if (!weight.trainable) return;
      if (seen.has(weight))
        throw new Error(`Weight ${weight.name} ${formatShape(weight.shape)} was given twice`);
      if (weight.grad.length !== weight.value.length) {
        throw new Error(
          `Weight ${weight.name} has ${weight.value.length} values but ${weight.grad.length} gradient elements`,
        );
      }
      seen.add(weight);
      const decays = !(args.excludeFromWeightDecay ?? []).some((part) => weight.name.includes(part));
      this.params.push({ weight, layer, decays, offset: total * slots });
      total += weight.value.length;
    };
    let weightCount = 0;
    for (const t of trainables) {
      const ws = isLayer(t) ? t.weights : [t];
      weightCount += ws.length;
      for (const w of ws) add(w, isLayer(t) ? t : undefined);
    }
    if (weightCount === 0) {
      // Layers create their weights in build(): an optimizer made earlier would silently update nothing.
      throw new Error(
        `Nothing to optimize: ${trainables.length} layers/weights hold no weights (build the model first)`,
      );
    }
    const dtype = this.params.length > 0 ? dtypeOf(this.params[0].weight.value) : 'float32';
    for (const p of this.params) {
      if (dtypeOf(p.weight.value) !== dtype) {
        throw new Error(
          `Weights mix dtypes: ${p.weight.name} is ${dtypeOf(p.weight.value)}, others ${dtype}`,
        );
      }
    }
    this.state = allocate(dtype, total * slots);
  }

  /** Applies one update to every trainable, unfrozen weight from its current `grad`. */
  step(): void {
    const lr = this.learningRate;
    let globalScale = 1;
    if (this.globalClipnorm !== undefined) {
      let sq = 0;
      for (const p of this.params) if (this.active(p)) sq += sumOfSquares(p.weight.grad);
      globalScale = clipScale(Math.sqrt(sq), this.globalClipnorm);
    }
    const decay = this.weightDecay === undefined ? 1 : 1 - lr * this.weightDecay;
    const clipvalue = this.clipvalue ?? Number.POSITIVE_INFINITY;
    for (const p of this.params) {
      if (!this.active(p)) continue;
      const { value, grad } = p.weight;
      const gradScale =
        this.clipnorm === undefined ? globalScale : clipScale(Math.sqrt(sumOfSquares(grad)), this.clipnorm);
      if (decay !== 1 && p.decays) for (let i = 0; i < value.length; i++) value[i] *= decay;
      this.updateWeight(value, grad, gradScale, clipvalue, p.offset, value.length, lr);
    }
    this.iterations++;
  }

  /**
   * The optimizer's own update of one weight. The gradient to use is g = clamp(gradScale · grad[i],
   * −clipvalue, clipvalue) (`clipvalue` is +∞ when unset). Slot s of element i is
   * `state[offset + s · size + i]`.
   */
  protected abstract updateWeight(
    value: FloatArray,
    grad: FloatArray,
    gradScale: number,
    clipvalue: number,
    offset: number,
    size: number,
    learningRate: number,
  ): void;

  /** Slot names in order, e.g. `['momentum', 'velocity']`. */
  protected abstract slotNames(): string[];

  /** Keras `get_config()` with snake_case keys. */
  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      learning_rate: this.learningRate,
      weight_decay: this.weightDecay ?? null,
      clipnorm: this.clipnorm ?? null,
      global_clipnorm: this.globalClipnorm ?? null,
      clipvalue: this.clipvalue ?? null,
    };
  }

  /** Copies of the step count and of every slot (per trainable weight, slots in `slotNames` order). */
  getState(): OptimizerState {
    const slots: Tensor[] = [];
    for (const p of this.params) {
      const n = p.weight.value.length;
      for (let s = 0; s < this.slotsPerWeight; s++) {
        const start = p.offset + s * n;
        slots.push({ shape: [...p.weight.shape], data: this.state.slice(start, start + n) });
      }
    }
    return { iterations: this.iterations, slots };
  }

  /** Restores what `getState` returned (same weights, same optimizer configuration). */
  setState(state: OptimizerState): void {
    const expected = this.params.length * this.slotsPerWeight;
    if (state.slots.length !== expected) {
      throw new Error(
        `${this.name} state has ${state.slots.length} slot tensors but this optimizer needs ${expected} ` +
          `(${this.params.length} weights × ${this.slotNames().join(', ')})`,
      );
    }
    if (!Number.isInteger(state.iterations) || state.iterations < 0) {
      throw new RangeError(`iterations must be an integer >= 0, got ${state.iterations}`);
    }
    let k = 0;
    for (const p of this.params) {
      const n = p.weight.value.length;
      for (let s = 0; s < this.slotsPerWeight; s++, k++) {
        const slot = state.slots[k];
        if (slot.data.length !== n) {
          throw new Error(
            `${this.name} state slot ${k} (${p.weight.name}/${this.slotNames()[s]}) has ${slot.data.length} ` +
              `elements, expected ${n} for shape ${formatShape(p.weight.shape)}`,
          );
        }
        this.state.set(slot.data, p.offset + s * n);
      }
    }
    this.iterations = state.iterations;
  }

  private active(p: Param): boolean {
    return p.layer === undefined || p.layer.trainable;
  }
}

function sumOfSquares(a: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/**
 * The factor that brings a gradient of norm `norm` to at most `limit`: limit / max(norm, limit). NaN norms
 * give NaN (Keras propagates them too); a zero norm gives 1.
 */
export function clipScale(norm: number, limit: number): number {
  return limit / Math.max(norm, limit);
}
