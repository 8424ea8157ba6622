/**
 * Keras recurrent layers SimpleRNN, LSTM and GRU: one cell (one time step) each, in `*-cell.ts`, driven by
 * `RecurrentLayer` (`recurrent-layer.ts`) with the shared loop and BPTT of `rnn-loop.ts`.
 */
import { ConfigReader } from '../config.ts';
import type { LayerContext } from '../layer.ts';
import { registerLayer } from '../registry.ts';
import { type RecurrentActivationName, recurrentActivation } from './activations.ts';
import { GRUCell } from './gru-cell.ts';
import { LSTMCell } from './lstm-cell.ts';
import {
  type GatedRecurrentArgs,
  RECURRENT_DEFAULT_ACTIVATION,
  RECURRENT_DEFAULT_IMPLEMENTATION,
  RECURRENT_DEFAULT_RECURRENT_ACTIVATION,
  RECURRENT_DEFAULT_USE_BIAS,
  type RecurrentArgs,
  RecurrentLayer,
  readGatedArgs,
  readRecurrentArgs,
} from './recurrent-layer.ts';
import { SimpleRNNCell } from './simple-rnn-cell.ts';

export type { GatedRecurrentArgs, RecurrentArgs } from './recurrent-layer.ts';
export { RecurrentLayer } from './recurrent-layer.ts';

export interface LSTMArgs extends GatedRecurrentArgs {
  /** Fresh forget-gate biases are 1 instead of the bias initializer's value (Keras `unit_forget_bias`). */
  unitForgetBias?: boolean;
}

export interface GRUArgs extends GatedRecurrentArgs {
  /** Apply the reset gate after the recurrent matmul (TF2 default true; bias [2, 3u]) or before (bias [3u]). */
  resetAfter?: boolean;
}

export const LSTM_DEFAULT_UNIT_FORGET_BIAS = true;
export const GRU_DEFAULT_RESET_AFTER = true;

/** Keras `SimpleRNN`: h = activation(x · kernel + h_prev · recurrent_kernel + bias). */
export class SimpleRNN extends RecurrentLayer {
  readonly className = 'SimpleRNN';

  constructor(args: RecurrentArgs, ctx: LayerContext) {
    const activation = recurrentActivation(args.activation ?? RECURRENT_DEFAULT_ACTIVATION, 'activation');
    const cell = new SimpleRNNCell({
      units: args.units,
      activation,
      useBias: args.useBias ?? RECURRENT_DEFAULT_USE_BIAS,
    });
    super(args, 'simple_rnn', cell, ctx);
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): SimpleRNN {
    const r = new ConfigReader('SimpleRNN', config);
    const layer = new SimpleRNN(readRecurrentArgs(r, 'simple_rnn'), ctx);
    r.done();
    return layer;
  }
}

/** Keras `LSTM` (gate order i, f, c, o). */
export class LSTM extends RecurrentLayer {
  readonly className = 'LSTM';
  readonly recurrentActivation: RecurrentActivationName;
  readonly unitForgetBias: boolean;
  readonly implementation: 1 | 2;

  constructor(args: LSTMArgs, ctx: LayerContext) {
    const recurrent = args.recurrentActivation ?? RECURRENT_DEFAULT_RECURRENT_ACTIVATION;
    const cell = new LSTMCell({
      units: args.units,
      activation: recurrentActivation(args.activation ?? RECURRENT_DEFAULT_ACTIVATION, 'activation'),
      recurrentActivation: recurrentActivation(recurrent, 'recurrent_activation'),
      useBias: args.useBias ?? RECURRENT_DEFAULT_USE_BIAS,
    });
    super(args, 'lstm', cell, ctx);
    this.recurrentActivation = recurrent;
    this.unitForgetBias = args.unitForgetBias ?? LSTM_DEFAULT_UNIT_FORGET_BIAS;
    this.implementation = args.implementation ?? RECURRENT_DEFAULT_IMPLEMENTATION;
  }

  /** Keras: with unit_forget_bias the forget block [u, 2u) of a fresh bias is ones. */
  protected override initializeWeights(): void {
    super.initializeWeights();
    const bias = this.cell.bias;
    if (bias && this.unitForgetBias) bias.value.fill(1, this.units, 2 * this.units);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      recurrent_activation: this.recurrentActivation,
      unit_forget_bias: this.unitForgetBias,
      implementation: this.implementation,
    };
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): LSTM {
    const r = new ConfigReader('LSTM', config);
    const args: LSTMArgs = {
      ...readGatedArgs(r, 'lstm'),
      unitForgetBias: r.bool('unit_forget_bias', LSTM_DEFAULT_UNIT_FORGET_BIAS),
    };
    const layer = new LSTM(args, ctx);
    r.done();
    return layer;
  }
}

/** Keras `GRU` (gate order z, r, h), reset_after true (TF2 default) or false. */
export class GRU extends RecurrentLayer {
  readonly className = 'GRU';
  readonly recurrentActivation: RecurrentActivationName;
  readonly resetAfter: boolean;
  readonly implementation: 1 | 2;

  constructor(args: GRUArgs, ctx: LayerContext) {
    const recurrent = args.recurrentActivation ?? RECURRENT_DEFAULT_RECURRENT_ACTIVATION;
    const resetAfter = args.resetAfter ?? GRU_DEFAULT_RESET_AFTER;
    const cell = new GRUCell({
      units: args.units,
      activation: recurrentActivation(args.activation ?? RECURRENT_DEFAULT_ACTIVATION, 'activation'),
      recurrentActivation: recurrentActivation(recurrent, 'recurrent_activation'),
      useBias: args.useBias ?? RECURRENT_DEFAULT_USE_BIAS,
      resetAfter,
    });
    super(args, 'gru', cell, ctx);
    this.recurrentActivation = recurrent;
    this.resetAfter = resetAfter;
    this.implementation = args.implementation ?? RECURRENT_DEFAULT_IMPLEMENTATION;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      recurrent_activation: this.recurrentActivation,
      implementation: this.implementation,
      reset_after: this.resetAfter,
    };
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): GRU {
    const r = new ConfigReader('GRU', config);
    const args: GRUArgs = {
      ...readGatedArgs(r, 'gru'),
      resetAfter: r.bool('reset_after', GRU_DEFAULT_RESET_AFTER),
    };
    const layer = new GRU(args, ctx);
    r.done();
    return layer;
  }
}

registerLayer('SimpleRNN', (config, ctx) => SimpleRNN.fromConfig(config, ctx));
registerLayer('LSTM', (config, ctx) => LSTM.fromConfig(config, ctx));
registerLayer('GRU', (config, ctx) => GRU.fromConfig(config, ctx));
