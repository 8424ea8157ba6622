/**
 * Keras `Bidirectional` wrapper: runs a copy of the wrapped recurrent layer forwards and a copy with
 * `go_backwards` flipped, built from the wrapped layer's config as tfjs-layers' `wrappers.ts` and Keras do.
 * With return_sequences the backward copy's outputs (in its reversed processing order) are reversed back
 * to input time order before merging, so output[:, t] pairs both directions at time t.
 *
 * Weights: the forward copy's, then the backward copy's (Keras get_weights() order).
 *
 * Keras: merge_mode null (two separate outputs) is rejected — a layer here has one output tensor.
 */
import { kernels } from '../../kernels/backend.ts';
import {
  allocate,
  type DType,
  type FloatArray,
  formatShape,
  release,
  ShapeError,
  type Tensor,
} from '../../tensor.ts';
import { ConfigReader, uniqueLayerName } from '../config.ts';
import type { Layer, LayerContext, LayerSpec, Weight } from '../layer.ts';
import { LayerConfigError, layerFromSpec, registerLayer } from '../registry.ts';
import { RecurrentLayer } from './recurrent.ts';

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';
export const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave'];
export const BIDIRECTIONAL_DEFAULT_MERGE_MODE: MergeMode = 'concat';

export interface BidirectionalArgs {
  /** The wrapped recurrent layer (SimpleRNN, LSTM or GRU) as Keras `{ class_name, config }`. */
  layer: LayerSpec;
  /** How the two directions' outputs combine: concatenated on the last axis, summed, multiplied, averaged. */
  mergeMode?: MergeMode;
  /** Keras `backward_layer`: a custom backward copy (its go_backwards must differ from the forward one's). */
  backwardLayer?: LayerSpec;
  /** Keras layer name; an automatic `bidirectional_N` when absent. */
  name?: string;
  /** Whether an optimizer may update the weights of both directions. */
  trainable?: boolean;
}

/** Buffers of one batch shape, plus the tensors handed out. */
interface Run {
  batch: number;
  time: number;
  /** [B, T, D] or [B, D]; D = 2u for concat, else u. */
  output: Tensor;
  /** [B, T, u] or [B, u]: dOutput routed to the forward copy. */
  dForward: Tensor;
  /** [B, T, u] or [B, u]: dOutput routed to the backward copy, in its processing order. */
  dBackward: Tensor;
  /** [B, T, in] */
  dInput: Tensor;
}

export class Bidirectional implements Layer {
  readonly className = 'Bidirectional';
  readonly name: string;
  readonly mergeMode: MergeMode;
  readonly forwardLayer: RecurrentLayer;
  readonly backwardLayer: RecurrentLayer;
  /** The wrapped layer's spec as given (forward direction, its own name), for getConfig. */
  private readonly layerSpec: LayerSpec;
  private readonly backwardSpec: LayerSpec | null;
  private trainableFlag = true;
  private wrapped: Weight[] = [];
  private inferRun: Run | null = null;
  private trainRun: Run | null = null;
  /** Outputs of the two copies at the last forwardTrain (mul's backward needs both). */
  private yForward: Tensor | null = null;
  private yBackward: Tensor | null = null;

  constructor(
    args: BidirectionalArgs,
    readonly ctx: LayerContext,
  ) {
    this.name = args.name ?? uniqueLayerName('bidirectional');
    this.mergeMode = args.mergeMode ?? BIDIRECTIONAL_DEFAULT_MERGE_MODE;
    const inner = asRecurrent(layerFromSpec(args.layer, ctx), 'layer');
    const config = inner.getConfig();
    this.layerSpec = { class_name: inner.className, config };
    this.forwardLayer = asRecurrent(
      layerFromSpec(
        { class_name: inner.className, config: { ...config, name: `forward_${inner.name}` } },
        ctx,
      ),
      'layer',
    );
    if (args.backwardLayer) {
      const back = asRecurrent(layerFromSpec(args.backwardLayer, ctx), 'backward_layer');
      if (back.goBackwards === inner.goBackwards || back.returnSequences !== inner.returnSequences) {
        throw new LayerConfigError(
          `Bidirectional: backward_layer must have go_backwards ${!inner.goBackwards} and return_sequences ` +
            `${inner.returnSequences}; received ${back.goBackwards} and ${back.returnSequences}`,
        );
      }
      this.backwardSpec = { class_name: back.className, config: back.getConfig() };
      this.backwardLayer = asRecurrent(
        layerFromSpec(
          { class_name: back.className, config: { ...back.getConfig(), name: `backward_${back.name}` } },
          ctx,
        ),
        'backward_layer',
      );
    } else {
      this.backwardSpec = null;
      const backConfig = { ...config, go_backwards: !inner.goBackwards, name: `backward_${inner.name}` };
      this.backwardLayer = asRecurrent(
        layerFromSpec({ class_name: inner.className, config: backConfig }, ctx),
        'layer',
      );
    }
    this.trainable = args.trainable ?? true;
  }

  static fromConfig(config: Record<string, unknown>, ctx: LayerContext): Bidirectional {
    const r = new ConfigReader('Bidirectional', config);
    const mergeMode = r.read('merge_mode');
    if (mergeMode === null) {
      throw r.error(
        'merge_mode',
        `one of ${MERGE_MODES.join(', ')} (null gives two output tensors, which a layer here cannot return)`,
        null,
      );
    }
    const layer = new Bidirectional(
      {
        name: r.name('bidirectional'),
        trainable: r.bool('trainable', true),
        layer: readSpec(r, 'layer', true)!,
        backwardLayer: readSpec(r, 'backward_layer', false),
        mergeMode:
          mergeMode === undefined
            ? undefined
            : r.oneOf('merge_mode', MERGE_MODES, BIDIRECTIONAL_DEFAULT_MERGE_MODE),
      },
      ctx,
    );
    r.done();
    return layer;
  }

  get dtype(): DType {
    return this.ctx.dtype;
  }

  get trainable(): boolean {
    return this.trainableFlag;
  }
  set trainable(value: boolean) {
    this.trainableFlag = value;
    this.forwardLayer.trainable = value;
    this.backwardLayer.trainable = value;
  }

  get returnSequences(): boolean {
    return this.forwardLayer.returnSequences;
  }

  /** The forward copy's weights, then the backward copy's, named `forward_lstm/kernel`… */
  get weights(): readonly Weight[] {
    return this.wrapped;
  }

  build(inputShape: readonly number[]): number[] {
    const shape = this.forwardLayer.build(inputShape);
    this.backwardLayer.build(inputShape);
    if (this.wrapped.length === 0) {
      const prefix =
        (layer: Layer) =>
        (w: Weight): Weight => ({ ...w, name: `${layer.name}/${w.name}` });
      this.wrapped = [
        ...this.forwardLayer.weights.map(prefix(this.forwardLayer)),
        ...this.backwardLayer.weights.map(prefix(this.backwardLayer)),
      ];
    }
    if (this.mergeMode === 'concat') shape[shape.length - 1] *= 2;
    return shape;
  }

  forward(input: Tensor): Tensor {
    const run = this.prepare(input, false);
    const [y, yr] = this.bothDirections(input, (layer) => layer.forward(input));
    this.merge(run, y, yr);
    return run.output;
  }

  forwardTrain(input: Tensor): Tensor {
    const run = this.prepare(input, true);
    [this.yForward, this.yBackward] = this.bothDirections(input, (layer) => layer.forwardTrain(input));
    this.merge(run, this.yForward, this.yBackward);
    return run.output;
  }

  /**
   * out[t] = merge(y[t], yRev[T−1−t]) (no reversal without return_sequences), so
   *   concat: dy[t] = dOut[t, :u],   dyRev[T−1−t] = dOut[t, u:]
   *   sum:    dy[t] = dOut[t],       dyRev[T−1−t] = dOut[t]        (ave: both × 0.5)
   *   mul:    dy[t] = dOut[t] ⊙ yRev[T−1−t],  dyRev[T−1−t] = dOut[t] ⊙ y[t]
   * and dInput = the two copies' dInputs summed.
   */
  backward(dOutput: Tensor): Tensor {
    const run = this.trainRun;
    const y = this.yForward;
    const yr = this.yBackward;
    if (!run || !y || !yr) throw new Error(`Bidirectional "${this.name}": backward() before forwardTrain()`);
    const expected = run.output.shape;
    if (dOutput.shape.length !== expected.length || dOutput.shape.some((d, i) => d !== expected[i])) {
      throw new ShapeError(
        `Bidirectional "${this.name}": dOutput is ${formatShape(dOutput.shape)} but the output was ${formatShape(expected)}`,
      );
    }
    const { steps, u } = this.geometry(run);
    const d = dOutput.data;
    const df = run.dForward.data;
    const db = run.dBackward.data;
    if (this.mergeMode === 'concat') this.concatBlocks(run, df, d, db, true);
    else
      for (let b = 0; b < run.batch; b++) {
        for (let t = 0; t < steps; t++) {
          const o = (b * steps + t) * u;
          const f = (b * steps + t) * u;
          const r = (b * steps + (this.returnSequences ? steps - 1 - t : t)) * u;
          for (let j = 0; j < u; j++) {
            switch (this.mergeMode) {
              case 'sum':
                df[f + j] = d[o + j];
                db[r + j] = d[o + j];
                break;
              case 'ave':
                df[f + j] = 0.5 * d[o + j];
                db[r + j] = 0.5 * d[o + j];
                break;
              case 'mul':
                df[f + j] = d[o + j] * yr.data[r + j];
                db[r + j] = d[o + j] * y.data[f + j];
                break;
            }
          }
        }
      }
    const [dxf, dxb] = this.bothDirections(run.dInput, (layer) =>
      layer.backward(layer === this.forwardLayer ? run.dForward : run.dBackward),
    ).map((t) => t.data);
    const dx = run.dInput.data;
    kernels().add(dx, 0, dxf, 0, dxb, 0, dx.length);
    return run.dInput;
  }

  zeroGrad(): void {
    this.forwardLayer.zeroGrad();
    this.backwardLayer.zeroGrad();
  }

  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      dtype: this.dtype,
      layer: this.layerSpec,
      merge_mode: this.mergeMode,
      ...(this.backwardSpec ? { backward_layer: this.backwardSpec } : {}),
    };
  }

  dispose(): void {
    this.forwardLayer.dispose();
    this.backwardLayer.dispose();
    releaseRun(this.inferRun);
    releaseRun(this.trainRun);
    this.inferRun = null;
    this.trainRun = null;
    this.yForward = null;
    this.yBackward = null;
  }

  /**
   * concat's data movement, both ways: out[b, t, :u] ↔ y[b, t] and out[b, t, u:] ↔ yRev[b, T−1−t] (t
   * itself without return_sequences). `toParts` copies out → (y, yRev) (backward), else (y, yRev) → out.
   */
  private concatBlocks(run: Run, y: FloatArray, out: FloatArray, yr: FloatArray, toParts: boolean): void {
    const { steps, u } = this.geometry(run);
    const rows = run.batch * steps;
    const k = kernels();
    const revStart = this.returnSequences ? (steps - 1) * u : 0;
    const revStride = this.returnSequences ? -u : u;
    if (toParts) {
      k.copyBlocks(y, 0, u, 0, out, 0, 2 * u, 0, rows, 1, u);
      k.copyBlocks(yr, revStart, steps * u, revStride, out, u, steps * 2 * u, 2 * u, run.batch, steps, u);
    } else {
      k.copyBlocks(out, 0, 2 * u, 0, y, 0, u, 0, rows, 1, u);
      k.copyBlocks(out, u, steps * 2 * u, 2 * u, yr, revStart, steps * u, revStride, run.batch, steps, u);
    }
  }

  /** out = merge(y, yRev re-reversed in time when return_sequences). */
  private merge(run: Run, y: Tensor, yr: Tensor): void {
    if (this.mergeMode === 'concat') {
      this.concatBlocks(run, y.data, run.output.data, yr.data, false);
      return;
    }
    const { steps, u } = this.geometry(run);
    const out = run.output.data;
    for (let b = 0; b < run.batch; b++) {
      for (let t = 0; t < steps; t++) {
        const o = (b * steps + t) * u;
        const f = (b * steps + t) * u;
        const r = (b * steps + (this.returnSequences ? steps - 1 - t : t)) * u;
        for (let j = 0; j < u; j++) {
          const a = y.data[f + j];
          const c = yr.data[r + j];
          switch (this.mergeMode) {
            case 'sum':
              out[o + j] = a + c;
              break;
            case 'ave':
              out[o + j] = 0.5 * (a + c);
              break;
            case 'mul':
              out[o + j] = a * c;
              break;
          }
        }
      }
    }
  }

  /**
   * f(forward copy) and f(backward copy), at the same time on two threads when both cells are kernel-only
   * (`RecurrentCell.kernelsOnly`: LSTM) — the directions share only their read-only input. `shaped` is
   * any [batch, time, features] tensor of the call, for the work estimate: one direction's gate products.
   */
  private bothDirections(shaped: Tensor, f: (layer: RecurrentLayer) => Tensor): [Tensor, Tensor] {
    const fw = this.forwardLayer;
    const bw = this.backwardLayer;
    if (!fw.kernelsOnly || !bw.kernelsOnly) return [f(fw), f(bw)];
    const [batch, time, features] = shaped.shape;
    const u = fw.units;
    let a: Tensor | null = null;
    let b: Tensor | null = null;
    kernels().concurrently(
      () => {
        a = f(fw);
      },
      () => {
        b = f(bw);
      },
      batch * time * (features + u) * 4 * u,
    );
    return [a!, b!];
  }

  /** Output steps per batch row (T with return_sequences, else 1) and units per direction. */
  private geometry(run: Run): { steps: number; u: number } {
    return { steps: this.returnSequences ? run.time : 1, u: this.forwardLayer.units };
  }

  private prepare(input: Tensor, training: boolean): Run {
    if (input.shape.length !== 3) {
      throw new ShapeError(
        `Bidirectional "${this.name}": input should be 3-D [batch, time, features] but is ${formatShape(input.shape)}`,
      );
    }
    const [batch, time, features] = input.shape;
    const outShape = this.build([time, features]);
    if (training) {
      this.yForward = null;
      this.yBackward = null;
    }
    const current = training ? this.trainRun : this.inferRun;
    if (current && current.batch === batch && current.time === time) return current;
    releaseRun(current);
    const u = this.forwardLayer.units;
    const steps = this.returnSequences ? [time] : [];
    const make = (shape: number[], n: number): Tensor => ({ shape, data: allocate(this.dtype, n) });
    const rows = batch * (this.returnSequences ? time : 1);
    const empty = (): FloatArray => allocate(this.dtype, 0);
    const run: Run = {
      batch,
      time,
      output: make([batch, ...outShape], rows * outShape[outShape.length - 1]),
      dForward: training ? make([batch, ...steps, u], rows * u) : { shape: [0], data: empty() },
      dBackward: training ? make([batch, ...steps, u], rows * u) : { shape: [0], data: empty() },
      dInput: training
        ? make([batch, time, features], batch * time * features)
        : { shape: [0], data: empty() },
    };
    if (training) this.trainRun = run;
    else this.inferRun = run;
    return run;
  }
}

function releaseRun(run: Run | null): void {
  if (run) release(run.output.data, run.dForward.data, run.dBackward.data, run.dInput.data);
}

function asRecurrent(layer: Layer, key: string): RecurrentLayer {
  if (layer instanceof RecurrentLayer) return layer;
  throw new LayerConfigError(
    `Bidirectional: ${key} must be SimpleRNN, LSTM or GRU; received ${layer.className}`,
  );
}

function readSpec(r: ConfigReader, key: string, required: boolean): LayerSpec | undefined {
  const v = r.read(key);
  if (v === undefined || v === null) {
    if (required) throw r.error(key, 'a nested { class_name, config } layer', v);
    return undefined;
  }
  const spec = v as LayerSpec;
  if (typeof v !== 'object' || typeof spec.class_name !== 'string') {
    throw r.error(key, 'a nested { class_name, config } layer', v);
  }
  return spec;
}

registerLayer('Bidirectional', (config, ctx) => Bidirectional.fromConfig(config, ctx));
