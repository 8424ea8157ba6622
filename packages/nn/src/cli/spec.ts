import type { LayerSpec } from '../layers/layer.ts';
import type { RunSpec } from '../model/sequential.ts';
import { formatShape, sizeOf, type Tensor } from '../tensor.ts';

/** A conformance spec whose JSON does not have the DESIGN §2 form. */
export class SpecError extends Error {
  override name = 'SpecError';
}

/**
 * Checks the JSON form of `kws-nn run`'s spec — `{ layers, weights: [T...], input: T, dOutput: T, training }`
 * with T = `{ shape, data }` — and converts tensors to Float32Array. Layer configs are checked later by the
 * layers themselves.
 */
export function parseRunSpec(json: unknown): RunSpec {
  if (!isObject(json)) throw new SpecError(`spec must be a JSON object; received ${describe(json)}`);
  const { layers, weights, input, dOutput, training } = json;
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new SpecError(
      `spec.layers must be a non-empty list of {"class_name", "config"}; received ${describe(layers)}`,
    );
  }
  layers.forEach((l, i) => {
    if (!isObject(l) || typeof l.class_name !== 'string' || (l.config !== undefined && !isObject(l.config))) {
      throw new SpecError(
        `spec.layers[${i}] must be {"class_name": string, "config": object}; received ${describe(l)}`,
      );
    }
  });
  if (!Array.isArray(weights))
    throw new SpecError(`spec.weights must be a list of tensors; received ${describe(weights)}`);
  if (typeof training !== 'boolean')
    throw new SpecError(`spec.training must be true or false; received ${describe(training)}`);
  return {
    layers: layers as LayerSpec[],
    weights: weights.map((w, i) => parseTensor(w, `spec.weights[${i}]`)),
    input: parseTensor(input, 'spec.input'),
    dOutput: parseTensor(dOutput, 'spec.dOutput'),
    training,
  };
}

/** `{ shape: [...], data: [...flat, row-major] }` → a float32 Tensor. */
export function parseTensor(value: unknown, where: string): Tensor<Float32Array> {
  if (!isObject(value))
    throw new SpecError(`${where} must be {"shape": [...], "data": [...]}; received ${describe(value)}`);
  const { shape, data } = value;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SpecError(
      `${where}.shape must be a list of non-negative integers; received ${describe(shape)}`,
    );
  }
  if (!Array.isArray(data))
    throw new SpecError(`${where}.data must be a flat list of numbers; received ${describe(data)}`);
  const n = sizeOf(shape);
  if (data.length !== n) {
    throw new SpecError(
      `${where}.data has ${data.length} numbers but shape ${formatShape(shape)} needs ${n}`,
    );
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (typeof v !== 'number')
      throw new SpecError(`${where}.data[${i}] must be a number; received ${describe(v)}`);
    out[i] = v;
  }
  return { shape, data: out };
}

/** A tensor as the runner prints it. */
export function tensorToJSON(t: Tensor): { shape: number[]; data: number[] } {
  return { shape: [...t.shape], data: Array.from(t.data) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
