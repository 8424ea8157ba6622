import { type DType, formatShape } from '../tensor.ts';
import { ModelFileError, readModelFile, type StorageDType, writeModelFile } from './file.ts';
import { Sequential } from './sequential.ts';

export interface SaveModelOptions {
  /** Storage type of the weights in the file. Default `float32`. */
  dtype?: StorageDType;
  /** Header fields the container passes through untouched (packages/detector owns keyword, threshold, ...). */
  extra?: Record<string, unknown>;
}

/**
 * Serializes a built Sequential model into the `.kws` container: its Keras layer list (with a leading
 * InputLayer carrying the input shape — time axis left open for sequences — so a loader can build it
 * without running it) and every weight in
 * `get_weights()` order, named `<layer name>/<weight name>`.
 */
export function saveModel(model: Sequential, options: SaveModelOptions = {}): Uint8Array {
  if (!model.inputShape) {
    throw new ModelFileError('saveModel: build the model (or run it once) first so its input shape is known');
  }
  const tensors = model.layers.flatMap((layer) =>
    layer.weights.map((w) => ({
      name: `${layer.name}/${w.name}`,
      shape: w.shape,
      data: w.value instanceof Float32Array ? w.value : Float32Array.from(w.value),
    })),
  );
  const layers = model.toJSON().config.layers;
  if (!model.declaredInputShape && model.inputShape.length === 2) {
    // Sequences: the time axis stays open (Keras `[null, null, features]`), so the loaded model runs on
    // any window length, as the one that was saved does.
    layers[0].config.batch_input_shape = [null, null, model.inputShape[1]];
  }
  return writeModelFile({
    layers,
    tensors,
    dtype: options.dtype,
    extra: options.extra,
  });
}

export interface LoadedModel {
  model: Sequential;
  /** Header fields other than the container's own. */
  extra: Record<string, unknown>;
}

/**
 * Reads a `.kws` file into a built Sequential model. The file must declare its input shape (an InputLayer
 * or a first layer's `batch_input_shape`) with a fixed time axis or `null`; a `null` time axis is built
 * with one frame and rebuilt by the first call with real input.
 */
export function loadModel(bytes: Uint8Array, options: { dtype?: DType } = {}): LoadedModel {
  const file = readModelFile(bytes);
  const model = Sequential.fromSpec(file.layers, { dtype: options.dtype });
  const declared = model.declaredInputShape;
  if (!declared) {
    throw new ModelFileError('model file declares no input shape (no InputLayer or batch_input_shape)');
  }
  if (declared.slice(1).some((d) => d === null)) {
    throw new ModelFileError(
      `model file input shape [null, ${declared.map((d) => d ?? 'null').join(', ')}] leaves a feature axis open`,
    );
  }
  model.build(declared.map((d) => d ?? 1));
  const expected = model.weights;
  if (file.tensors.length !== expected.length) {
    throw new ModelFileError(
      `model file has ${file.tensors.length} tensors, its layers need ${expected.length}`,
    );
  }
  file.tensors.forEach((t, i) => {
    if (t.shape.length !== expected[i].shape.length || t.shape.some((d, j) => d !== expected[i].shape[j])) {
      throw new ModelFileError(
        `tensor ${i} "${t.name}" has shape ${formatShape(t.shape)}, its layer needs ${formatShape(expected[i].shape)}`,
      );
    }
  });
  model.setWeights(file.tensors);
  return { model, extra: file.extra };
}
