import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetectorNetwork } from '../model/architecture.ts';
import { detectorHeader } from '../model/header.ts';
import { loadDetectorModel, saveDetectorModel } from '../model/model-file.ts';
import { TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, writeTfjs } from './tfjs.ts';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kws-tfjs-'));
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** MFCC-like input: c0 around −40, the other coefficients around 0 (a fixed LCG, so runs repeat). */
function windows(batch: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const next = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
  return Float32Array.from({ length: batch * 148 * 13 }, (_, i) =>
    i % 13 === 0 ? -40 + 30 * next() : 8 * (next() - 0.5),
  );
}

/**
 * What `tf.loadLayersModel(url)` does with the two files, minus HTTP: read model.json, fetch the files its
 * manifest names relative to it, and hand both to tfjs.
 */
function directoryHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(join(dir, TFJS_MODEL_FILE), 'utf8'));
      const specs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
      const buffers = await Promise.all(
        json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFile(join(dir, p)))),
      );
      const bytes = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      };
    },
  };
}

describe('tfjs export', () => {
  it('loads in tf.loadLayersModel and computes the same posteriors (within 1e-5)', async () => {
    const network = createDetectorNetwork({ seed: 'export' });
    // Move the BatchNormalization moving statistics off their defaults, so inference mode is exercised.
    for (let i = 0; i < 3; i++) network.forwardTrain({ shape: [4, 148, 13], data: windows(4, 10 + i) });
    const bytes = saveDetectorModel({
      network,
      header: detectorHeader({ keyword: 'hey nova', threshold: 0.7 }),
    });
    const model = loadDetectorModel(bytes);
    const dir = join(root, 'export');
    await writeTfjs(model, dir);

    const json = JSON.parse(await readFile(join(dir, TFJS_MODEL_FILE), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual([TFJS_WEIGHTS_FILE]);
    const params = model.network.weights.reduce((n, w) => n + w.value.length, 0);
    expect((await readFile(join(dir, TFJS_WEIGHTS_FILE))).length).toBe(4 * params);

    const theirs = await tf.loadLayersModel(directoryHandler(dir));
    expect(theirs.getUserDefinedMetadata()).toMatchObject({ keyword: 'hey nova', threshold: 0.7 });
    expect(theirs.inputs[0].shape).toEqual([null, 148, 13]);
    // Every weight arrived under its own name (strict loading would have thrown otherwise) and intact.
    const byName = new Map(theirs.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
    model.network.layers.forEach((layer) => {
      for (const w of layer.weights) {
        const got = byName.get(`${layer.name}/${w.name}`);
        expect(got, `${layer.name}/${w.name}`).toBeDefined();
        expect(Array.from(got ?? [])).toEqual(Array.from(w.value));
      }
    });

    const x = windows(3, 99);
    const ours = model.network.forward({ shape: [3, 148, 13], data: x }).data;
    const prediction = theirs.predict(tf.tensor3d(x, [3, 148, 13])) as tf.Tensor;
    expect(prediction.shape).toEqual([3, 74, 1]);
    const reference = prediction.dataSync();
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - reference[i]));
    expect(worst).toBeLessThan(1e-5);
    // The posteriors are not all saturated, so agreement means something.
    const spread = Math.max(...Array.from(reference)) - Math.min(...Array.from(reference));
    expect(spread).toBeGreaterThan(0.05);
    prediction.dispose();
    theirs.dispose();
  });
});
