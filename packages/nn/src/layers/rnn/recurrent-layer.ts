/**
 * What SimpleRNN, LSTM and GRU share: their Keras arguments and config keys, and `RecurrentLayer`, which
 * drives a cell with the loop and BPTT of `rnn-loop.ts`. Input [batch, time, features]; output
 * [batch, time, units] with return_sequences, else [batch, units].
 *
 * Keras: the initial state is always zero and only the output is returned — no `return_state`,
 * `stateful`, `initial_state`, masking, `dropout` or `recurrent_dropout` (configs asking for them are
 * rejected, not silently ignored). `unroll` and `implementation` change how Keras schedules the same math,
 * so they are accepted and kept for round trips.
 */
import { formatShape, ShapeError, type Tensor } from '../../tensor.ts';
import { type ConfigReader, uniqueLayerName } from '../config.ts';
import type { Layer, LayerContext, Weight } from '../layer.ts';
import { type RecurrentActivationName, recurrentActivation } from './activations.ts';
import {
  GLOROT_UNIFORM,
  type InitializerSpec,
  ORTHOGONAL,
  type RecurrentInitializer,
  recurrentInitializer,
  ZEROS_INIT,
} from './initializers.ts';
import { type RecurrentCell, RecurrentWorkspace, recurrentBackward, recurrentForward } from './rnn-loop.ts';

/** Arguments every recurrent layer takes (Keras names in snake_case in configs). */
export interface RecurrentArgs {
  /** Size of the hidden state h (Keras `units`). */
  units: number;
  /** Candidate / output activation (Keras `activation`). */
  activation?: RecurrentActivationName;
  /** Whether there is a `bias` weight (Keras `use_bias`). */
  useBias?: boolean;
  /** Return h for every step ([B, T, u]) instead of the last step only ([B, u]). */
  returnSequences?: boolean;
  /** Process the input from the last step to the first; sequences come out in that processing order. */
  goBackwards?: boolean;
  /** Initializer of `kernel` for fresh weights. */
  kernelInitializer?: InitializerSpec;
  /** Initializer of `recurrent_kernel` for fresh weights. */
  recurrentInitializer?: InitializerSpec;
  /** Initializer of `bias` for fresh weights. */
  biasInitializer?: InitializerSpec;
  /** Keras layer name; an automatic one (`lstm_1`) when absent. */
  name?: string;
  /** Whether an optimizer may update the weights. */
  trainable?: boolean;
  /** Keras `unroll`, kept for round trips (the math is the same either way). */
  unroll?: boolean;
}

/** LSTM and GRU also have gates. */
export interface GatedRecurrentArgs extends RecurrentArgs {
  /** Gate activation (Keras `recurrent_activation`; TF2 default sigmoid — tfjs defaults to hard_sigmoid). */
  recurrentActivation?: RecurrentActivationName;
  /** Keras `implementation` (1 or 2), kept for round trips (same math). */
  implementation?: 1 | 2;
}

export const RECURRENT_DEFAULT_ACTIVATION: RecurrentActivationName = 'tanh';
export const RECURRENT_DEFAULT_RECURRENT_ACTIVATION: RecurrentActivationName = 'sigmoid';
export const RECURRENT_DEFAULT_USE_BIAS = true;
export const RECURRENT_DEFAULT_RETURN_SEQUENCES = false;
export const RECURRENT_DEFAULT_GO_BACKWARDS = false;
export const RECURRENT_DEFAULT_IMPLEMENTATION = 2;

/** Per-shape buffers plus the tensors handed out, created together so no call allocates them. */
interface Run {
  ws: RecurrentWorkspace;
  output: Tensor;
  dInput: Tensor;
}

/** The loop, the workspaces and the Keras config shared by SimpleRNN, LSTM and GRU. */
export abstract class RecurrentLayer implements Layer {
  abstract readonly className: string;
  readonly name: string;
  trainable: boolean;
  readonly units: number;
  readonly activation: RecurrentActivationName;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  readonly goBackwards: boolean;
  readonly unroll: boolean;
  protected readonly kernelInit: RecurrentInitializer;
  protected readonly recurrentInit: RecurrentInitializer;
  protected readonly biasInit: RecurrentInitializer;
  private inputSize = 0;
  private inferRun: Run | null = null;
  private trainRun: Run | null = null;
  /** Whether trainRun holds the caches of a forwardTrain that backward may still differentiate. */
  private trainCached = false;

  protected constructor(
    args: RecurrentArgs,
    defaultName: string,
    protected readonly cell: RecurrentCell,
    readonly ctx: LayerContext,
  ) {
    this.name = args.name ?? uniqueLayerName(defaultName);
    this.trainable = args.trainable ?? true;
    this.units = args.units;
    this.activation = args.activation ?? RECURRENT_DEFAULT_ACTIVATION;
    this.useBias = args.useBias ?? RECURRENT_DEFAULT_USE_BIAS;
    this.returnSequences = args.returnSequences ?? RECURRENT_DEFAULT_RETURN_SEQUENCES;
    this.goBackwards = args.goBackwards ?? RECURRENT_DEFAULT_GO_BACKWARDS;
    this.unroll = args.unroll ?? false;
    this.kernelInit = recurrentInitializer(args.kernelInitializer ?? GLOROT_UNIFORM, 'kernel_initializer');
    this.recurrentInit = recurrentInitializer(
      args.recurrentInitializer ?? ORTHOGONAL,
      'recurrent_initializer',
    );
    this.biasInit = recurrentInitializer(args.biasInitializer ?? ZEROS_INIT, 'bias_initializer');
  }

  get dtype() {
    return this.ctx.dtype;
  }

  get weights(): readonly Weight[] {
    return this.cell.weights;
  }

  /**
   * Whether forward / forwardTrain / backward touch buffers through kernels only once they start computing
   * (the cell's `kernelsOnly`), so `Kernels.concurrently` may run them on another thread.
   */
  get kernelsOnly(): boolean {
    return this.cell.kernelsOnly;
  }

  /** inputShape is [time, features]; the time length may differ between calls, features may not. */
  build(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 2) {
      throw new ShapeError(
        `${this.className} "${this.name}": input should be [time, features] (3-D with batch) but is ${formatShape(inputShape)}`,
      );
    }
    const [time, features] = inputShape;
    if (this.inputSize === 0) {
      this.cell.build(features, this.dtype);
      this.initializeWeights();
      this.inputSize = features;
    } else if (features !== this.inputSize) {
      throw new ShapeError(
        `${this.className} "${this.name}" was built for ${this.inputSize} features, got ${features}`,
      );
    }
    return this.returnSequences ? [time, this.units] : [this.units];
  }

  /** Fresh weights from the initializers (Keras builds the same way); loaded weights overwrite them. */
  protected initializeWeights(): void {
    const [kernel, recurrentKernel, bias] = this.cell.weights;
    this.kernelInit.fill(kernel.value, kernel.shape);
    this.recurrentInit.fill(recurrentKernel.value, recurrentKernel.shape);
    if (bias) this.biasInit.fill(bias.value, bias.shape);
  }

  forward(input: Tensor): Tensor {
    const run = this.prepare(input, false);
    recurrentForward(this.cell, run.ws, input, this.goBackwards, this.returnSequences);
    return run.output;
  }

  forwardTrain(input: Tensor): Tensor {
    const run = this.prepare(input, true);
    recurrentForward(this.cell, run.ws, input, this.goBackwards, this.returnSequences);
    this.trainCached = true;
    return run.output;
  }

  backward(dOutput: Tensor): Tensor {
    const run = this.trainRun;
    if (!run || !this.trainCached)
      throw new Error(`${this.className} "${this.name}": backward() before forwardTrain()`);
    const expected = run.output.shape;
    if (dOutput.shape.length !== expected.length || dOutput.shape.some((d, i) => d !== expected[i])) {
      throw new ShapeError(
        `${this.className} "${this.name}": dOutput is ${formatShape(dOutput.shape)} but the output was ${formatShape(expected)}`,
      );
    }
    recurrentBackward(this.cell, run.ws, dOutput, this.goBackwards, this.returnSequences);
    return run.dInput;
  }

  zeroGrad(): void {
    for (const w of this.cell.weights) w.grad.fill(0);
  }

  dispose(): void {
    this.inferRun?.ws.release();
    this.trainRun?.ws.release();
    this.inferRun = null;
    this.trainRun = null;
    this.trainCached = false;
  }

  /** The Keras config keys every recurrent layer writes; subclasses add theirs. */
  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      dtype: this.dtype,
      return_sequences: this.returnSequences,
      return_state: false,
      go_backwards: this.goBackwards,
      stateful: false,
      unroll: this.unroll,
      time_major: false,
      units: this.units,
      activation: this.activation,
      use_bias: this.useBias,
      kernel_initializer: this.kernelInit.spec,
      recurrent_initializer: this.recurrentInit.spec,
      bias_initializer: this.biasInit.spec,
      kernel_regularizer: null,
      recurrent_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      recurrent_constraint: null,
      bias_constraint: null,
      dropout: 0,
      recurrent_dropout: 0,
    };
  }

  /** Checks the input, builds on first use, and returns the buffers for this batch shape. */
  private prepare(input: Tensor, training: boolean): Run {
    const shape = input.shape;
    if (shape.length !== 3) {
      throw new ShapeError(
        `${this.className} "${this.name}": input should be 3-D [batch, time, features] but is ${formatShape(shape)}`,
      );
    }
    const [batch, time, features] = shape;
    if (time === 0) throw new ShapeError(`${this.className} "${this.name}": input has 0 time steps`);
    if (input.data.length !== batch * time * features) {
      throw new ShapeError(
        `${this.className} "${this.name}": input data holds ${input.data.length} values, shape ${formatShape(shape)}`,
      );
    }
    this.build([time, features]);
    if (training) this.trainCached = false;
    const current = training ? this.trainRun : this.inferRun;
    if (current && current.ws.batch === batch && current.ws.time === time) return current;
    current?.ws.release();
    const ws = new RecurrentWorkspace(this.dtype, batch, time, features, this.cell, training);
    const u = this.units;
    const run: Run = {
      ws,
      output: this.returnSequences
        ? { shape: [batch, time, u], data: ws.sequence }
        : { shape: [batch, u], data: ws.last },
      dInput: { shape: [batch, time, features], data: ws.dInput },
    };
    if (training) this.trainRun = run;
    else this.inferRun = run;
    return run;
  }
}

/** Reads the config keys every recurrent layer shares into `RecurrentArgs`. */
export function readRecurrentArgs(r: ConfigReader, defaultName: string): RecurrentArgs {
  for (const key of ['return_state', 'stateful', 'time_major']) {
    if (r.bool(key, false)) throw r.error(key, 'false (not supported here)', true);
  }
  for (const key of ['dropout', 'recurrent_dropout']) {
    const v = r.number(key, 0);
    if (v !== 0) throw r.error(key, '0 (dropout inside recurrent layers is not supported here)', v);
  }
  for (const key of [
    'kernel_regularizer',
    'recurrent_regularizer',
    'bias_regularizer',
    'activity_regularizer',
    'kernel_constraint',
    'recurrent_constraint',
    'bias_constraint',
  ]) {
    const v = r.read(key);
    if (v !== undefined && v !== null)
      throw r.error(key, 'null (regularizers and constraints are not supported here)', v);
  }
  const activation = r.read('activation') ?? RECURRENT_DEFAULT_ACTIVATION;
  recurrentActivation(activation, 'activation');
  return {
    name: r.name(defaultName),
    trainable: r.bool('trainable', true),
    units: r.positiveInt('units'),
    activation: activation as RecurrentActivationName,
    useBias: r.bool('use_bias', RECURRENT_DEFAULT_USE_BIAS),
    returnSequences: r.bool('return_sequences', RECURRENT_DEFAULT_RETURN_SEQUENCES),
    goBackwards: r.bool('go_backwards', RECURRENT_DEFAULT_GO_BACKWARDS),
    unroll: r.bool('unroll', false),
    kernelInitializer: (r.read('kernel_initializer') ?? undefined) as InitializerSpec | undefined,
    recurrentInitializer: (r.read('recurrent_initializer') ?? undefined) as InitializerSpec | undefined,
    biasInitializer: (r.read('bias_initializer') ?? undefined) as InitializerSpec | undefined,
  };
}

/** `readRecurrentArgs` plus the gate keys of LSTM and GRU. */
export function readGatedArgs(r: ConfigReader, defaultName: string): GatedRecurrentArgs {
  const base = readRecurrentArgs(r, defaultName);
  const recurrent = r.read('recurrent_activation') ?? RECURRENT_DEFAULT_RECURRENT_ACTIVATION;
  recurrentActivation(recurrent, 'recurrent_activation');
  const implementation = r.number(
    'implementation',
    RECURRENT_DEFAULT_IMPLEMENTATION,
    (v) => v === 1 || v === 2,
    '1 or 2',
  );
  return {
    ...base,
    recurrentActivation: recurrent as RecurrentActivationName,
    implementation: implementation as 1 | 2,
  };
}
