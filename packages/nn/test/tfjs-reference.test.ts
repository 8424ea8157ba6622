// The parity harness checked against hand-computed values, so a wrong harness cannot bless a wrong layer.
import { describe, expect, it } from 'vitest';
import { assertAllClose, tfjsReference } from './tfjs-reference.ts';

const t = (shape: number[], data: number[]) => ({ shape, data: Float32Array.from(data) });
/** sin(1), sin(2), ...: deterministic values with no structure to hide mistakes. */
const ramp = (shape: number[]) =>
  t(
    shape,
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1)),
  );

describe('tfjsReference', () => {
  it('computes Dense output and gradients of Σ output ⊙ dOutput', async () => {
    const r = await tfjsReference({
      layers: [{ class_name: 'Dense', config: { units: 2 } }],
      weights: [t([3, 2], [1, 2, 3, 4, 5, 6]), t([2], [0.5, -0.5])],
      input: t([1, 3], [1, 1, 2]),
      dOutput: t([1, 2], [1, 10]),
      training: false,
    });
    expect([...r.output.data]).toEqual([14.5, 17.5]);
    expect([...r.dInput.data]).toEqual([21, 43, 65]);
    expect([...r.dWeights[0].data]).toEqual([1, 10, 1, 10, 2, 20]);
    expect([...r.dWeights[1].data]).toEqual([1, 10]);
  });

  it('sets weights per layer in get_weights() order and updates BN moving stats with the biased variance', async () => {
    const r = await tfjsReference({
      layers: [
        { class_name: 'Dense', config: { units: 2, use_bias: false } },
        { class_name: 'BatchNormalization', config: {} },
        { class_name: 'Dense', config: { units: 1, use_bias: false } },
      ],
      weights: [
        t([2, 2], [1, 0, 0, 1]),
        t([2], [1, 1]),
        t([2], [0, 0]),
        t([2], [0.5, 0.5]),
        t([2], [2, 2]),
        t([2, 1], [1, 1]),
      ],
      input: t([4, 2], [1, 0, 3, 0, 5, 0, 7, 0]),
      dOutput: t([4, 1], [1, 1, 1, 1]),
      training: true,
    });
    // Channel 0 holds 1, 3, 5, 7: mean 4, biased variance 5.
    expect(r.weightsAfter[3].data[0]).toBeCloseTo(0.99 * 0.5 + 0.01 * 4, 6);
    expect(r.weightsAfter[4].data[0]).toBeCloseTo(0.99 * 2 + 0.01 * 5, 6);
    expect([...r.dWeights[3].data, ...r.dWeights[4].data]).toEqual([0, 0, 0, 0]);
    expect(r.dWeights.map((w) => w.shape)).toEqual([[2, 2], [2], [2], [2], [2], [2, 1]]);
  });

  it.each([1, 2])('runs causal Conv1D with dilation %i (tfjs lacks both) as Keras defines it', async (d) => {
    const [k, cin, cout, time] = [3, 2, 2, 6];
    const input = ramp([1, time, cin]);
    const kernel = ramp([k, cin, cout]);
    const bias = t([cout], [0.25, -0.25]);
    const dOutput = ramp([1, time, cout]);
    const r = await tfjsReference({
      layers: [
        {
          class_name: 'Conv1D',
          config: { filters: cout, kernel_size: [k], padding: 'causal', dilation_rate: [d] },
        },
      ],
      weights: [kernel, bias],
      input,
      dOutput,
      training: true,
    });
    // y[t, o] = b[o] + Σ_j Σ_c x[t − (k−1−j)·d, c] · W[j, c, o], zeros before t = 0.
    const x = (s: number, c: number) => (s < 0 ? 0 : input.data[s * cin + c]);
    const expectedY: number[] = [];
    const expectedDW = new Array<number>(k * cin * cout).fill(0);
    const expectedDX = new Array<number>(time * cin).fill(0);
    for (let s = 0; s < time; s++) {
      for (let o = 0; o < cout; o++) {
        let y = bias.data[o];
        for (let j = 0; j < k; j++) {
          const src = s - (k - 1 - j) * d;
          for (let c = 0; c < cin; c++) {
            const w = kernel.data[(j * cin + c) * cout + o];
            y += x(src, c) * w;
            const g = dOutput.data[s * cout + o];
            expectedDW[(j * cin + c) * cout + o] += x(src, c) * g;
            if (src >= 0) expectedDX[src * cin + c] += w * g;
          }
        }
        expectedY.push(y);
      }
    }
    assertAllClose('output', r.output, t([1, time, cout], expectedY));
    assertAllClose('dInput', r.dInput, t([1, time, cin], expectedDX));
    assertAllClose('dKernel', r.dWeights[0], t([k, cin, cout], expectedDW));
  });

  it('assertAllClose applies |a − b| <= 1e-5 + 1e-4·|b| and names the offending element', () => {
    expect(() => assertAllClose('x', t([2], [1.0001, 100.01]), t([2], [1, 100]))).not.toThrow();
    expect(() => assertAllClose('x', t([2], [1, 100.5]), t([2], [1, 100]))).toThrow(
      /x: element 1 is 100.5, expected 100 .*1 of 2 elements differ/,
    );
    expect(() => assertAllClose('x', t([1], [Number.NaN]), t([1], [0]))).toThrow(/element 0 is NaN/);
    expect(() => assertAllClose('x', t([2], [1, 2]), t([1, 2], [1, 2]))).toThrow(
      /shape \[2\], expected \[1, 2\]/,
    );
  });

  it('fills TF2 Keras defaults tfjs lacks: GRU reset_after true, which tfjs cannot run', async () => {
    await expect(
      tfjsReference({
        layers: [{ class_name: 'GRU', config: { units: 2 } }],
        weights: [ramp([3, 6]), ramp([2, 6]), ramp([2, 6])],
        input: ramp([1, 4, 3]),
        dOutput: ramp([1, 2]),
        training: false,
      }),
    ).rejects.toThrow(/reset_after/);
  });
});
