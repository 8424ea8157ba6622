// The real `kws-nn` bin, spawned as the outside conformance checks run it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertAllClose, parityCase, type ReferenceSpec, tfjsReference } from '../../test/tfjs-reference.ts';
import type { Tensor } from '../tensor.ts';

const BIN = fileURLToPath(new URL('../../bin/kws-nn.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function kwsNn(args: string[], command = process.execPath, prefix: string[] = [BIN]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(command, [...prefix, ...args], {
      cwd: REPO_ROOT,
      maxBuffer: 1 << 26,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout: string; stderr: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const toJSON = (t: Tensor) => ({ shape: [...t.shape], data: Array.from(t.data) });
const specJSON = (spec: ReferenceSpec) => ({
  layers: structuredClone(spec.layers),
  weights: spec.weights.map(toJSON),
  input: toJSON(spec.input),
  dOutput: toJSON(spec.dOutput),
  training: spec.training,
});

const LAYERS = [
  {
    class_name: 'Conv1D',
    config: { name: 'conv', filters: 4, kernel_size: [3], padding: 'same', batch_input_shape: [null, 7, 3] },
  },
  { class_name: 'BatchNormalization', config: { name: 'bn' } },
  { class_name: 'Activation', config: { name: 'act', activation: 'relu' } },
  {
    class_name: 'TimeDistributed',
    config: {
      name: 'td',
      layer: { class_name: 'Dense', config: { name: 'head', units: 1, activation: 'sigmoid' } },
    },
  },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kws-nn-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function specFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe.concurrent('kws-nn run', () => {
  for (const training of [true, false]) {
    it(`prints output, dInput and dWeights equal to tfjs (training ${training})`, async () => {
      const spec = parityCase(LAYERS, [2, 7, 3], { training, seed: 21 });
      const path = await specFile(`valid-${training}.json`, specJSON(spec));
      const { code, stdout, stderr } = await kwsNn(['run', path]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const printed = JSON.parse(stdout) as { output: Tensor; dInput: Tensor; dWeights: Tensor[] };
      expect(Object.keys(printed)).toEqual(['output', 'dInput', 'dWeights']);
      const ref = await tfjsReference(spec);
      assertAllClose('output', printed.output, ref.output);
      assertAllClose('dInput', printed.dInput, ref.dInput);
      expect(printed.dWeights.length).toBe(8);
      printed.dWeights.forEach((d, i) => {
        assertAllClose(`dWeights[${i}]`, d, ref.dWeights[i]);
      });
      // moving_mean and moving_variance are not trainable.
      expect(
        printed.dWeights[4].data.every((v) => v === 0) && printed.dWeights[5].data.every((v) => v === 0),
      ).toBe(true);
    });
  }

  it('works as `npx kws-nn run` from the repository root', async () => {
    const spec = parityCase([{ class_name: 'Dense', config: { units: 2 } }], [1, 3], {
      training: false,
      seed: 2,
    });
    const path = await specFile('npx.json', specJSON(spec));
    const { code, stdout } = await kwsNn(['kws-nn', 'run', path], 'npx', []);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).output.shape).toEqual([1, 2]);
  });

  const valid = () => specJSON(parityCase(LAYERS, [2, 7, 3], { training: true, seed: 22 }));
  const malformed: [string, () => unknown, RegExp][] = [
    ['bad JSON', () => '{"layers": [', /spec .*bad-JSON\.json is not valid JSON/],
    [
      'an unknown class_name',
      () => {
        const s = valid();
        s.layers[2] = { class_name: 'Dropout', config: { rate: 0.5 } } as never;
        return s;
      },
      /layer 2 \(Dropout\): Unknown layer class_name "Dropout"/,
    ],
    [
      'too few weights',
      () => ({ ...valid(), weights: valid().weights.slice(0, 7) }),
      /layer 3 \(TimeDistributed "td"\): weight bias \[1\] is missing: 7 weights given, the model has 8/,
    ],
    [
      'too many weights',
      () => ({ ...valid(), weights: [...valid().weights, { shape: [1], data: [0] }] }),
      /9 weights given, the model has 8/,
    ],
    [
      'a weight of the wrong shape',
      () => {
        const s = valid();
        s.weights[0] = { shape: [3, 4, 4], data: new Array(48).fill(0) };
        return s;
      },
      /layer 0 \(Conv1D "conv"\): weight kernel has shape \[3, 4, 4\], expected \[3, 3, 4\]/,
    ],
    [
      'an input that does not match batch_input_shape',
      () => ({ ...valid(), input: { shape: [2, 7, 5], data: new Array(70).fill(0) } }),
      /input shape \[batch, 7, 5\] does not match the model's batch_input_shape \[null, 7, 3\] \(layer 0, Conv1D "conv"\)/,
    ],
    [
      'tensor data that does not fill its shape',
      () => ({ ...valid(), input: { shape: [2, 7, 3], data: [1, 2, 3] } }),
      /spec\.input\.data has 3 numbers but shape \[2, 7, 3\] needs 42/,
    ],
    [
      'a missing training flag',
      () => ({ ...valid(), training: 'yes' }),
      /spec\.training must be true or false; received "yes"/,
    ],
    [
      'a bad layer config',
      () => {
        const s = valid();
        s.layers[0] = { class_name: 'Conv1D', config: { filters: 4, kernel_size: [3], padding: 'full' } };
        return s;
      },
      /layer 0 \(Conv1D\): Conv1D: padding must be one of valid, same, causal; received "full"/,
    ],
  ];
  for (const [what, make, message] of malformed) {
    it(`exits 2 with one line naming the problem for ${what}`, async () => {
      const path = await specFile(`${what.replaceAll(' ', '-')}.json`, make());
      const { code, stdout, stderr } = await kwsNn(['run', path]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(message);
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    });
  }

  it('exits 2 for an unreadable spec file', async () => {
    const { code, stderr } = await kwsNn(['run', join(dir, 'missing.json')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot read spec .*missing\.json: ENOENT/);
  });

  it('exits 2 with usage for a missing or unknown command', async () => {
    for (const args of [[], ['frobnicate'], ['run']]) {
      const { code, stderr } = await kwsNn(args);
      expect(code).toBe(2);
      expect(stderr).toMatch(/usage: kws-nn run SPEC\.json/);
    }
  });
});
