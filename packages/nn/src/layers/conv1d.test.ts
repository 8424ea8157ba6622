import { describe, expect, it } from 'vitest';
import { assertGradients, randomTensor, seededRandom } from '../../test/finite-diff.ts';
import { assertParity, parityCase } from '../../test/tfjs-reference.ts';
import { Conv1D, type Conv1DPadding } from './conv1d.ts';
import { layerFromSpec } from './registry.ts';
import './index.ts';

const PADDINGS: Conv1DPadding[] = ['valid', 'same', 'causal'];
const ctx = { dtype: 'float32' } as const;

describe('Conv1D', () => {
  describe('equals tfjs (output, dInput, dkernel, dbias)', () => {
    let seed = 100;
    for (const padding of PADDINGS) {
      for (const strides of [1, 2, 3]) {
        for (const dilation of [1, 2]) {
          if (strides > 1 && dilation > 1) continue; // Keras and tfjs refuse this pair (tested below).
          for (const useBias of [true, false]) {
            for (const kernelSize of [2, 3]) {
              const label = `${padding} k${kernelSize} s${strides} d${dilation} bias ${useBias}`;
              const s = seed++;
              it(label, async () => {
                const spec = parityCase(
                  [
                    {
                      class_name: 'Conv1D',
                      config: {
                        filters: 4,
                        kernel_size: [kernelSize],
                        strides: [strides],
                        padding,
                        dilation_rate: [dilation],
                        use_bias: useBias,
                      },
                    },
                  ],
                  [2, 9, 3],
                  { training: true, seed: s },
                );
                await assertParity(spec, label);
              });
            }
          }
        }
      }
    }
    it('with a relu activation, bare-integer kernel_size and an even-length input', async () => {
      const spec = parityCase(
        [
          {
            class_name: 'Conv1D',
            config: { filters: 5, kernel_size: 3, padding: 'same', activation: 'relu' },
          },
        ],
        [3, 8, 2],
        { training: true, seed: 3 },
      );
      await assertParity(spec);
    });
  });

  it('has the output lengths Keras gives', () => {
    const length = (padding: Conv1DPadding, k: number, s: number, d: number, time: number) =>
      new Conv1D({ filters: 1, kernelSize: k, strides: s, dilationRate: d, padding }, ctx).build([
        time,
        2,
      ])[0];
    expect(length('valid', 3, 1, 1, 9)).toBe(7);
    expect(length('valid', 3, 2, 1, 9)).toBe(4);
    expect(length('valid', 3, 1, 2, 9)).toBe(5);
    expect(length('same', 3, 2, 1, 9)).toBe(5);
    expect(length('same', 4, 3, 1, 10)).toBe(4);
    expect(length('causal', 3, 1, 2, 9)).toBe(9);
    expect(length('causal', 3, 2, 1, 9)).toBe(5);
  });

  describe('agrees with float64 central finite differences', () => {
    for (const padding of PADDINGS) {
      for (const [strides, dilation] of [
        [1, 1],
        [2, 1],
        [1, 2],
      ]) {
        it(`${padding} s${strides} d${dilation}`, () => {
          const random = seededRandom(strides * 10 + dilation);
          const layer = new Conv1D(
            { filters: 3, kernelSize: 3, strides, dilationRate: dilation, padding, activation: 'tanh' },
            { dtype: 'float64' },
          );
          const [outTime] = layer.build([7, 2]);
          for (const w of layer.weights) w.value.set(randomTensor(w.shape, random).data);
          assertGradients(layer, randomTensor([2, 7, 2], random), randomTensor([2, outTime, 3], random));
        });
      }
    }
  });

  it('round-trips its config in Keras 2 form', () => {
    const config = {
      name: 'conv',
      trainable: true,
      filters: 8,
      kernel_size: [5],
      strides: [1],
      padding: 'causal',
      data_format: 'channels_last',
      dilation_rate: [4],
      groups: 1,
      activation: 'relu',
      use_bias: false,
    };
    const layer = layerFromSpec({ class_name: 'Conv1D', config }, ctx);
    expect(layer.getConfig()).toEqual(config);
    expect(layerFromSpec({ class_name: 'Conv1D', config: layer.getConfig() }, ctx).getConfig()).toEqual(
      config,
    );
  });

  it('rejects what Keras rejects, naming what it got', () => {
    expect(() =>
      Conv1D.fromConfig({ filters: 2, kernel_size: [3], strides: [2], dilation_rate: [2] }, ctx),
    ).toThrow(/strides 2 with dilation_rate 2/);
    expect(() => Conv1D.fromConfig({ filters: 2, kernel_size: [3], padding: 'full' }, ctx)).toThrow(
      /padding must be one of valid, same, causal; received "full"/,
    );
    expect(() =>
      Conv1D.fromConfig({ filters: 2, kernel_size: [3], data_format: 'channels_first' }, ctx),
    ).toThrow(/data_format/);
    expect(() => Conv1D.fromConfig({ filters: 2 }, ctx)).toThrow(/kernel_size must be a positive integer/);
    const layer = new Conv1D({ filters: 2, kernelSize: 5, name: 'c' }, ctx);
    expect(() => layer.build([4, 3])).toThrow(/Conv1D "c": 4 frames are fewer than the 5/);
    layer.build([8, 3]);
    expect(() => layer.forward(randomTensor([1, 8, 2], seededRandom(1), 'float32'))).toThrow(
      /built for 3 input channels/,
    );
  });
});
