/**
 * The TensorFlow.js layers format (DESIGN §3, §4 `kws export --format tfjs`): `model.json` holds the Keras
 * Sequential topology and a weights manifest; `weights.bin` holds every weight as little-endian float32 in
 * manifest order. `tf.loadLayersModel` loads the pair (over HTTP, or any IOHandler) and computes the same
 * function: the layers JSON is the one in the `.kws` file, and the weight names are tfjs' own
 * (`bidirectional/forward_lstm/kernel`).
 *
 * The detector's own fields (keyword, threshold, smoothing, feature_config) ride along as
 * `userDefinedMetadata`, which tfjs hands back through `model.getUserDefinedMetadata()`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../model/atomic-file.ts';
import { type DetectorModel, weightNames } from '../model/model-file.ts';

export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_WEIGHTS_FILE = 'weights.bin';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** The `model.json` of the tfjs layers format (tfjs' `ModelJSON`). */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: 'Sequential';
    config: { name: string; layers: unknown[] };
    keras_version: string;
    backend: 'tensorflow';
  };
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
  userDefinedMetadata: Record<string, unknown>;
}

/** Keras version the topology follows (Keras 2 Sequential JSON, the form tfjs-layers reads). */
const KERAS_VERSION = '2.15.0';

export function toTfjs(model: DetectorModel): { modelJson: TfjsModelJson; weights: Uint8Array } {
  const { network, header } = model;
  const names = weightNames(network);
  const specs: TfjsWeightSpec[] = [];
  const total = network.weights.reduce((n, w) => n + w.value.length, 0);
  const data = new Float32Array(total);
  let offset = 0;
  network.weights.forEach((w, i) => {
    specs.push({ name: names[i], shape: [...w.shape], dtype: 'float32' });
    data.set(w.value, offset);
    offset += w.value.length;
  });
  const weights = new Uint8Array(data.buffer);
  // tfjs reads weights.bin as little-endian float32; typed arrays are in platform order.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('exporting tfjs weights needs a little-endian platform');
  }
  const json = network.toJSON();
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: 'kws detector',
      convertedBy: null,
      modelTopology: {
        class_name: 'Sequential',
        config: { name: json.config.name, layers: json.config.layers },
        keras_version: KERAS_VERSION,
        backend: 'tensorflow',
      },
      weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: specs }],
      userDefinedMetadata: {
        keyword: header.keyword,
        threshold: header.threshold,
        smoothing: header.smoothing,
        feature_config: header.feature_config,
        created_at: header.created_at,
      },
    },
    weights,
  };
}

/** Writes `dir/model.json` and `dir/weights.bin` (creating `dir`), each atomically. */
export async function writeTfjs(
  model: DetectorModel,
  dir: string,
): Promise<{ modelJson: string; weights: string }> {
  const { modelJson, weights } = toTfjs(model);
  await mkdir(dir, { recursive: true });
  const paths = { modelJson: join(dir, TFJS_MODEL_FILE), weights: join(dir, TFJS_WEIGHTS_FILE) };
  await writeFileAtomic(paths.weights, weights);
  await writeFileAtomic(paths.modelJson, new TextEncoder().encode(`${JSON.stringify(modelJson)}\n`));
  return paths;
}
