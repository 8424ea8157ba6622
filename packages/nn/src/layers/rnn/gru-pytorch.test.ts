/**
 * GRU reset_after=true (which tfjs cannot run) against PyTorch: fixtures made by
 * test/fixtures/gru-reset-after/generate.py from torch.nn.GRU in float64, mapped to Keras' layout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertAllClose, PARITY_TOLERANCE } from '../../../test/tfjs-reference.ts';
import { runSpec } from '../../model/sequential.ts';
import type { Tensor } from '../../tensor.ts';
import type { LayerSpec } from '../layer.ts';
import '../index.ts';

interface JsonTensor {
  shape: number[];
  data: number[];
}

interface Fixture {
  description: string;
  layers: LayerSpec[];
  weights: JsonTensor[];
  input: JsonTensor;
  dOutput: JsonTensor;
  training: boolean;
  expected: { output: JsonTensor; dInput: JsonTensor; dWeights: JsonTensor[] };
}

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/gru-reset-after');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json'));

function f64(t: JsonTensor): Tensor {
  return { shape: t.shape, data: Float64Array.from(t.data) };
}

function load(file: string) {
  const fx = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Fixture;
  const spec = {
    layers: fx.layers,
    weights: fx.weights.map(f64),
    input: f64(fx.input),
    dOutput: f64(fx.dOutput),
    training: fx.training,
  };
  return { fx, spec };
}

function compare(file: string, dtype: 'float32' | 'float64', tolerance: { atol: number; rtol: number }) {
  const { fx, spec } = load(file);
  const ours = runSpec(spec, dtype);
  assertAllClose(`${file} output`, ours.output, f64(fx.expected.output), tolerance);
  assertAllClose(`${file} dInput`, ours.dInput, f64(fx.expected.dInput), tolerance);
  expect(ours.dWeights.length).toBe(fx.expected.dWeights.length);
  ours.dWeights.forEach((d, i) => {
    assertAllClose(`${file} dWeights[${i}]`, d, f64(fx.expected.dWeights[i]), tolerance);
  });
}

describe('GRU reset_after=true equals PyTorch nn.GRU (committed fixtures)', () => {
  it('has the fixtures generate.py writes', () => {
    expect(FILES.sort()).toEqual([
      'bidirectional-gru-last.json',
      'bidirectional-gru-sequences.json',
      'gru-batch1-sequences-backwards.json',
      'gru-last-backwards.json',
      'gru-no-bias.json',
      'gru-sequences.json',
    ]);
  });

  it.each(FILES)('float64 to round-off: %s', (file) => {
    compare(file, 'float64', { atol: 1e-12, rtol: 1e-10 });
  });

  it.each(FILES)('float32 within the parity tolerance: %s', (file) => {
    compare(file, 'float32', PARITY_TOLERANCE);
  });

  it('a wrong gate order would not pass (swapping z and r in the kernel changes the output)', () => {
    const { fx, spec } = load('gru-sequences.json');
    const kernel = spec.weights[0];
    const [rows, cols] = kernel.shape;
    const u = cols / 3;
    const swapped = Float64Array.from(kernel.data);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < u; j++) {
        swapped[r * cols + j] = kernel.data[r * cols + u + j];
        swapped[r * cols + u + j] = kernel.data[r * cols + j];
      }
    }
    const ours = runSpec(
      { ...spec, weights: [{ shape: kernel.shape, data: swapped }, ...spec.weights.slice(1)] },
      'float64',
    );
    expect(() => assertAllClose('output', ours.output, f64(fx.expected.output), PARITY_TOLERANCE)).toThrow();
  });
});
