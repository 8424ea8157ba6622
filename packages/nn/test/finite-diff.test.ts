import { describe, expect, it } from 'vitest';
import type { Layer, Weight } from '../src/layers/layer.ts';
import { allocate, type DType, type Tensor } from '../src/tensor.ts';
import { assertGradients, checkGradients, randomTensor, seededRandom } from './finite-diff.ts';

type Bug = 'none' | 'dInput' | 'dScale' | 'assignInsteadOfAccumulate' | 'gradOnFrozen';

/**
 * y[b, f] = scale[f] · tanh(x[b, f])² + offset[f]: a tiny layer with two trainable weights and one
 * non-trainable one, and switchable bugs that the checker must catch.
 */
class ToyLayer implements Layer {
  readonly className = 'Toy';
  readonly name = 'toy';
  trainable = true;
  weights: Weight[] = [];
  private x: Tensor | null = null;
  private y: Tensor | null = null;

  constructor(
    readonly dtype: DType,
    private readonly bug: Bug,
  ) {}

  build(inputShape: readonly number[]): number[] {
    const f = inputShape[inputShape.length - 1];
    const make = (name: string, trainable: boolean): Weight => ({
      name,
      shape: [f],
      value: allocate(this.dtype, f),
      grad: allocate(this.dtype, f),
      trainable,
    });
    this.weights = [make('scale', true), make('offset', true), make('frozen', false)];
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    const [scale, offset] = this.weights;
    const f = scale.value.length;
    const data = allocate(this.dtype, x.data.length);
    for (let i = 0; i < data.length; i++)
      data[i] = scale.value[i % f] * Math.tanh(x.data[i]) ** 2 + offset.value[i % f];
    return { shape: x.shape, data };
  }

  forwardTrain(x: Tensor): Tensor {
    this.x = x;
    this.y = this.forward(x);
    return this.y;
  }

  backward(dy: Tensor): Tensor {
    const x = this.x!;
    const [scale, offset, frozen] = this.weights;
    const f = scale.value.length;
    const dx = allocate(this.dtype, x.data.length);
    if (this.bug === 'assignInsteadOfAccumulate') {
      scale.grad.fill(0);
      offset.grad.fill(0);
    }
    for (let i = 0; i < dx.length; i++) {
      const t = Math.tanh(x.data[i]);
      const k = i % f;
      dx[i] =
        dy.data[i] * scale.value[k] * 2 * t * (1 - t * t) * (this.bug === 'dInput' && i === 3 ? 1.001 : 1);
      scale.grad[k] += dy.data[i] * t * t * (this.bug === 'dScale' ? 1.0001 : 1);
      offset.grad[k] += dy.data[i];
      if (this.bug === 'gradOnFrozen') frozen.grad[k] += dy.data[i];
    }
    return { shape: x.shape, data: dx };
  }

  zeroGrad(): void {
    for (const w of this.weights) w.grad.fill(0);
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
  dispose(): void {}
}

function setup(bug: Bug, dtype: DType = 'float64') {
  const random = seededRandom(7);
  const layer = new ToyLayer(dtype, bug);
  layer.build([5]);
  layer.weights[0].value.set(randomTensor([5], random).data);
  layer.weights[1].value.set(randomTensor([5], random).data);
  return { layer, input: randomTensor([3, 5], random), dOutput: randomTensor([3, 5], random) };
}

describe('finite-diff checker', () => {
  it('accepts a correct backward with errors near float64 round-off', () => {
    const { layer, input, dOutput } = setup('none');
    const report = assertGradients(layer, input, dOutput);
    expect(report.maxError).toBeLessThan(1e-7);
    expect(report.perTensor.map((t) => [t.tensor, t.checked])).toEqual([
      ['input', 15],
      ['weights[0] scale', 5],
      ['weights[1] offset', 5],
    ]);
    // Weights restored, grads hold one backward's worth.
    expect(layer.weights[1].grad[0]).toBeCloseTo(dOutput.data[0] + dOutput.data[5] + dOutput.data[10], 12);
  });

  it.each([
    ['dInput', /input \[3, 5\]: max error 9\.99e-4/],
    ['dScale', /weights\[0\] scale \[5\]: max error 1\.0\de-4/],
    ['assignInsteadOfAccumulate', /did not double grad/],
    ['gradOnFrozen', /non-trainable weights\[2\] frozen has a non-zero grad/],
  ] as const)('rejects a backward with bug %s', (bug, message) => {
    const { layer, input, dOutput } = setup(bug);
    expect(() => assertGradients(layer, input, dOutput)).toThrow(message);
  });

  it('strides big tensors when asked (so a bug between the strided elements goes unseen)', () => {
    const { layer, input, dOutput } = setup('dInput');
    // 15 input elements strided to 4 checks: indices 0, 5, 9, 14 — the bug sits at index 3.
    const report = checkGradients(layer, input, dOutput, { maxElementsPerTensor: 4 });
    expect(report.perTensor[0].checked).toBe(4);
    expect(report.perTensor[0].maxError).toBeLessThan(1e-7);
    expect(report.worst.some((m) => m.tensor === 'input' && m.index === 14)).toBe(true);
  });

  it('refuses float32, whose round-off would swamp the difference quotient', () => {
    const { layer, input, dOutput } = setup('none', 'float32');
    expect(() => checkGradients(layer, input, dOutput)).toThrow(/needs float64.*layer toy is float32/);
  });
});
