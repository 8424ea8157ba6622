/**
 * SimpleRNN, LSTM, GRU (reset_after=false: all tfjs can run) and Bidirectional against tfjs-layers 4.22:
 * output, dInput and every weight gradient within DESIGN §2's tolerance, over every option.
 */
import { describe, it } from 'vitest';
import { assertParity, parityCase } from '../../../test/tfjs-reference.ts';
import type { LayerSpec } from '../layer.ts';
import '../index.ts';

type Config = Record<string, unknown>;

const CELLS: { class_name: string; config: Config }[] = [
  { class_name: 'SimpleRNN', config: {} },
  { class_name: 'LSTM', config: {} },
  { class_name: 'GRU', config: { reset_after: false } },
];

function label(spec: LayerSpec, shape: readonly number[]): string {
  return `${spec.class_name} ${JSON.stringify(spec.config)} on [${shape.join(', ')}]`;
}

interface Case {
  name: string;
  layers: LayerSpec[];
  shape: number[];
  seed: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  let seed = 100;
  const add = (spec: LayerSpec, shape: number[]) =>
    out.push({ name: label(spec, shape), layers: [spec], shape, seed: seed++ });
  for (const cell of CELLS) {
    const gated = cell.class_name !== 'SimpleRNN';
    for (const return_sequences of [false, true]) {
      for (const go_backwards of [false, true]) {
        add(
          {
            class_name: cell.class_name,
            config: { ...cell.config, units: 5, return_sequences, go_backwards },
          },
          [3, 7, 4],
        );
      }
    }
    add(
      {
        class_name: cell.class_name,
        config: { ...cell.config, units: 3, use_bias: false, return_sequences: true },
      },
      [1, 5, 3],
    );
    add(
      {
        class_name: cell.class_name,
        config: { ...cell.config, units: 7, activation: 'relu', return_sequences: true },
      },
      [3, 6, 5],
    );
    add(
      {
        class_name: cell.class_name,
        config: {
          ...cell.config,
          units: 4,
          activation: 'linear',
          ...(gated ? { recurrent_activation: 'hard_sigmoid' } : {}),
          go_backwards: true,
        },
      },
      [1, 9, 2],
    );
  }
  for (const cell of CELLS) {
    for (const merge_mode of ['concat', 'sum', 'mul', 'ave']) {
      for (const return_sequences of [true, false]) {
        add(
          {
            class_name: 'Bidirectional',
            config: {
              merge_mode,
              layer: { class_name: cell.class_name, config: { ...cell.config, units: 3, return_sequences } },
            },
          },
          [3, 5, 2],
        );
      }
    }
    add(
      {
        class_name: 'Bidirectional',
        config: {
          layer: {
            class_name: cell.class_name,
            config: { ...cell.config, units: 5, return_sequences: true, go_backwards: true },
          },
        },
      },
      [1, 6, 3],
    );
  }
  return out;
}

describe('recurrent layers equal tfjs-layers (output, dInput, every dWeight)', () => {
  it.each(cases().map((c) => [c.name, c] as const))('%s', async (_, c) => {
    await assertParity(parityCase(c.layers, c.shape, { training: true, seed: c.seed }), c.name);
  });

  it('Bidirectional(LSTM) feeding TimeDistributed(Dense), as the detector stacks them', async () => {
    const layers: LayerSpec[] = [
      {
        class_name: 'Bidirectional',
        config: { layer: { class_name: 'LSTM', config: { units: 6, return_sequences: true } } },
      },
      {
        class_name: 'TimeDistributed',
        config: { layer: { class_name: 'Dense', config: { units: 1, activation: 'sigmoid' } } },
      },
    ];
    await assertParity(
      parityCase(layers, [2, 8, 3], { training: true, seed: 7 }),
      'BiLSTM → TimeDistributed(Dense)',
    );
  });
});
