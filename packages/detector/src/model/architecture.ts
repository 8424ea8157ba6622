/**
 * The detector network as Keras Sequential JSON (DESIGN §3 stores it in the model file as `layers`):
 *
 *   MFCC [148, 13] → Conv1D (stride 2) → BatchNormalization → ReLU → Bidirectional(LSTM) → BatchNormalization
 *   → Bidirectional(LSTM) → TimeDistributed(Dense 1, sigmoid)  →  one keyword-end posterior per 20 ms
 *
 * The window is 148 MFCC frames: 400 + 147 · 160 = 23 920 samples ≈ 1.5 s at 16 kHz, long enough for the
 * keyword with context on both sides (synthesized "hey nova" lasts 0.4–1.5 s, median 0.6 s). The stride-2
 * convolution halves the frames both LSTMs see: it halves their cost (training and detection, measured 3×
 * faster per training step than stride 1 at these sizes) for 20 ms output resolution, which is finer than
 * the keyword-end region the targets mark.
 */
import { type LayerSpec, Sequential } from '@kws/nn';
import { initializeWeights } from './init.ts';

/** MFCC frames per window (DESIGN §1 framing: 25 ms frames every 10 ms, so ≈ 1.5 s). */
export const WINDOW_FRAMES = 148;
/** Coefficients per frame (DESIGN §1 `num_mfcc`). */
export const NUM_MFCC = 13;
export const CONV_FILTERS = 32;
export const CONV_KERNEL_SIZE = 5;
export const CONV_STRIDES = 2;
/** Units per direction of each Bidirectional LSTM. */
export const LSTM_UNITS = 32;

/** Sizes of the detector; the defaults are the constants above, tests shrink them to stay fast. */
export interface DetectorSizes {
  windowFrames: number;
  numMfcc: number;
  convFilters: number;
  convKernelSize: number;
  convStrides: number;
  /** Units per direction of the first and the second Bidirectional LSTM. */
  lstmUnits: readonly [number, number];
}

export const DEFAULT_SIZES: Readonly<DetectorSizes> = Object.freeze({
  windowFrames: WINDOW_FRAMES,
  numMfcc: NUM_MFCC,
  convFilters: CONV_FILTERS,
  convKernelSize: CONV_KERNEL_SIZE,
  convStrides: CONV_STRIDES,
  lstmUnits: [LSTM_UNITS, LSTM_UNITS] as const,
});

/**
 * Fixed layer names (Keras' automatic ones), so tensor names in the model file and in the tfjs export are
 * the same for every detector: `conv1d/kernel`, `bidirectional/forward_lstm/kernel`, ...
 */
export const LAYER_NAMES = {
  conv: 'conv1d',
  convNorm: 'batch_normalization',
  relu: 'activation',
  lstm1: 'bidirectional',
  lstmNorm: 'batch_normalization_1',
  lstm2: 'bidirectional_1',
  output: 'time_distributed',
} as const;

function lstm(name: string, units: number): LayerSpec {
  // recurrent_activation is written out: TF2 Keras' default is sigmoid, tfjs-layers' is hard_sigmoid.
  return {
    class_name: 'LSTM',
    config: { name, units, return_sequences: true, activation: 'tanh', recurrent_activation: 'sigmoid' },
  };
}

function checkSizes(s: DetectorSizes): void {
  const entries: [string, number][] = [
    ['windowFrames', s.windowFrames],
    ['numMfcc', s.numMfcc],
    ['convFilters', s.convFilters],
    ['convKernelSize', s.convKernelSize],
    ['convStrides', s.convStrides],
    ['lstmUnits[0]', s.lstmUnits[0]],
    ['lstmUnits[1]', s.lstmUnits[1]],
  ];
  for (const [key, v] of entries) {
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`detector size ${key} must be an integer ≥ 1, got ${v}`);
  }
}

/** The detector's Keras Sequential layer list (with the window declared as `batch_input_shape`). */
export function detectorLayers(sizes: Partial<DetectorSizes> = {}): LayerSpec[] {
  const s: DetectorSizes = { ...DEFAULT_SIZES, ...sizes };
  checkSizes(s);
  const n = LAYER_NAMES;
  return [
    {
      class_name: 'Conv1D',
      config: {
        name: n.conv,
        filters: s.convFilters,
        kernel_size: [s.convKernelSize],
        strides: [s.convStrides],
        padding: 'same',
        activation: 'linear',
        use_bias: true,
        batch_input_shape: [null, s.windowFrames, s.numMfcc],
      },
    },
    { class_name: 'BatchNormalization', config: { name: n.convNorm, momentum: 0.99, epsilon: 0.001 } },
    { class_name: 'Activation', config: { name: n.relu, activation: 'relu' } },
    {
      class_name: 'Bidirectional',
      config: { name: n.lstm1, merge_mode: 'concat', layer: lstm('lstm', s.lstmUnits[0]) },
    },
    { class_name: 'BatchNormalization', config: { name: n.lstmNorm, momentum: 0.99, epsilon: 0.001 } },
    {
      class_name: 'Bidirectional',
      config: { name: n.lstm2, merge_mode: 'concat', layer: lstm('lstm_1', s.lstmUnits[1]) },
    },
    {
      class_name: 'TimeDistributed',
      config: {
        name: n.output,
        layer: { class_name: 'Dense', config: { name: 'dense', units: 1, activation: 'sigmoid' } },
      },
    },
  ];
}

export interface NetworkOptions {
  sizes?: Partial<DetectorSizes>;
  /** Seed of the initial weights. */
  seed?: number | string;
}

/** A freshly initialized detector network, built for its window. */
export function createDetectorNetwork(options: NetworkOptions = {}): Sequential {
  const sizes: DetectorSizes = { ...DEFAULT_SIZES, ...options.sizes };
  const model = Sequential.fromSpec(detectorLayers(sizes), { name: 'kws_detector' });
  model.build([sizes.windowFrames, sizes.numMfcc]);
  initializeWeights(model, options.seed ?? 1);
  return model;
}
