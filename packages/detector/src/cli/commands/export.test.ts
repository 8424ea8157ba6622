import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFile } from '@kws/nn';
import { afterAll, describe, expect, it } from 'vitest';
import { createDetectorNetwork } from '../../model/architecture.ts';
import { detectorHeader } from '../../model/header.ts';
import { saveDetectorModel } from '../../model/model-file.ts';
import { runMain } from '../testing.ts';

const root = mkdtempSync(join(tmpdir(), 'kws-export-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const modelPath = join(root, 'm.kws');
const modelBytes = saveDetectorModel({
  network: createDetectorNetwork({ sizes: { convFilters: 4, lstmUnits: [3, 2] }, seed: 3 }),
  header: detectorHeader({ keyword: 'hey nova' }),
});
writeFileSync(modelPath, modelBytes);

const run = (args: string[]) => runMain(['export', ...args]);

describe('kws export', () => {
  it('writes model.json with the .kws topology and weights.bin with its float32 weights', async () => {
    const out = join(root, 'tfjs', 'nested');
    const r = await run(['--model', modelPath, '--format', 'tfjs', '--out', out]);
    expect(r).toEqual({
      code: 0,
      stdout: `wrote ${join(out, 'model.json')} and ${join(out, 'weights.bin')}\n`,
      stderr: '',
    });
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    const contents = readModelFile(modelBytes);
    expect(json.modelTopology.config.layers).toEqual(contents.layers);
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(
      contents.tensors.map((t) => t.name),
    );
    const bin = readFileSync(join(out, 'weights.bin'));
    const floats = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
    expect(Array.from(floats)).toEqual(contents.tensors.flatMap((t) => Array.from(t.data)));
  });

  it('bad input exits 2 with one line', async () => {
    const out = join(root, 'bad');
    const cases: [string[], RegExp][] = [
      [['--model', modelPath, '--out', out], /--format is required \(tfjs\)/],
      [['--model', modelPath, '--format', 'onnx', '--out', out], /--format must be one of tfjs, got "onnx"/],
      [['--model', modelPath, '--format', 'tfjs'], /--out DIR is required/],
      [
        ['--model', join(root, 'none.kws'), '--format', 'tfjs', '--out', out],
        /cannot read model .*none\.kws/,
      ],
      [['--model', modelPath, '--format', 'tfjs', '--out', modelPath], /cannot write to .*m\.kws/],
    ];
    for (const [args, message] of cases) {
      const res = await run(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});
