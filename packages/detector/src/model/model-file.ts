/**
 * A detector model = the network (layers + weights, packages/nn's container) + the detector's header fields.
 * Tensors are named `<layer>/<weight>` (`bidirectional/forward_lstm/kernel`), the names tfjs-layers gives the
 * same weights, and come in Keras `get_weights()` order.
 */
import { createHash } from 'node:crypto';
import {
  type DType,
  LayerConfigError,
  ModelFileError,
  type ModelTensor,
  readModelFile,
  Sequential,
  ShapeError,
  type StorageDType,
  writeModelFile,
} from '@kws/nn';
import { type DetectorHeader, DetectorModelError, parseDetectorHeader } from './header.ts';

export interface DetectorModel {
  /** Built for the window its `batch_input_shape` declares. */
  network: Sequential;
  header: DetectorHeader;
}

/** The shapes a detector network maps between, without the batch axis. */
export interface NetworkGeometry {
  /** MFCC frames per window. */
  inputFrames: number;
  numMfcc: number;
  /** Posteriors per window. */
  outputFrames: number;
}

export function networkGeometry(network: Sequential): NetworkGeometry {
  const input = network.inputShape;
  const output = network.outputShape;
  if (input === null || output === null) throw new Error('networkGeometry: the network is not built');
  if (input.length !== 2 || output.length !== 2 || output[1] !== 1) {
    throw new DetectorModelError(
      `a detector maps [frames, coefficients] to [frames, 1]; this network maps [${input.join(', ')}] to [${output.join(', ')}]`,
    );
  }
  return { inputFrames: input[0], numMfcc: input[1], outputFrames: output[0] };
}

/** `<layer>/<weight>` for every weight, in `get_weights()` order. */
export function weightNames(network: Sequential): string[] {
  return network.layers.flatMap((layer) => layer.weights.map((w) => `${layer.name}/${w.name}`));
}

export interface SaveOptions {
  /** Storage type of the tensors; default float32. */
  dtype?: StorageDType;
}

export function saveDetectorModel(model: DetectorModel, options: SaveOptions = {}): Uint8Array {
  const geometry = networkGeometry(model.network);
  if (geometry.numMfcc !== model.header.feature_config.num_mfcc) {
    throw new DetectorModelError(
      `the network reads ${geometry.numMfcc} coefficients per frame but feature_config.num_mfcc is ${model.header.feature_config.num_mfcc}`,
    );
  }
  const names = weightNames(model.network);
  const tensors: ModelTensor[] = model.network.weights.map((w, i) => ({
    name: names[i],
    shape: [...w.shape],
    data: w.value instanceof Float32Array ? w.value : Float32Array.from(w.value),
  }));
  const { keyword, created_at, base_model_sha256, feature_config, threshold, smoothing, metrics } =
    model.header;
  return writeModelFile({
    layers: model.network.toJSON().config.layers,
    tensors,
    dtype: options.dtype,
    extra: { keyword, created_at, base_model_sha256, feature_config, threshold, smoothing, metrics },
  });
}

/**
 * Reads a `.kws` detector: the container (ModelFileError for a malformed file), the detector's header
 * (DetectorModelError) and a network built for its declared window with the file's weights.
 */
export function loadDetectorModel(bytes: Uint8Array, options: { dtype?: DType } = {}): DetectorModel {
  const contents = readModelFile(bytes);
  const header = parseDetectorHeader(contents.extra);
  let network: Sequential;
  try {
    network = Sequential.fromSpec(contents.layers, { name: 'kws_detector', dtype: options.dtype });
    const declared = network.declaredInputShape;
    if (declared === null || declared.length !== 2 || declared.some((d) => d === null)) {
      throw new DetectorModelError(
        `a detector's layers must declare its window as batch_input_shape [null, frames, coefficients]; received ${JSON.stringify(declared)}`,
      );
    }
    network.build(declared as number[]);
    networkGeometry(network);
    network.setWeights(contents.tensors);
  } catch (error) {
    if (error instanceof LayerConfigError || error instanceof ShapeError) {
      throw new DetectorModelError(`model layers: ${error.message}`);
    }
    throw error;
  }
  if (networkGeometry(network).numMfcc !== header.feature_config.num_mfcc) {
    throw new DetectorModelError(
      `the network reads ${networkGeometry(network).numMfcc} coefficients per frame but feature_config.num_mfcc is ${header.feature_config.num_mfcc}`,
    );
  }
  return { network, header };
}

/** Whether an error means "this is not a usable detector model file" (as opposed to a bug). */
export function isModelInputError(error: unknown): error is Error {
  return error instanceof ModelFileError || error instanceof DetectorModelError;
}

/** Hex SHA-256 of a model file's bytes (its ETag, and a personalized model's `base_model_sha256`). */
export function modelSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
