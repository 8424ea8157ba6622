import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '@kws/audio';
import { afterAll, describe, expect, it } from 'vitest';
import { scene } from '../../detect/testing.ts';
import { loadDetectorModel } from '../../model/model-file.ts';
import { decodeCheckpoint } from '../../train/checkpoint.ts';
import { runMain } from '../testing.ts';
import { progressLine } from './train-base.ts';

const root = mkdtempSync(join(tmpdir(), 'kws-train-base-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A dataset in the layout `kws synth` writes (manifest.json + positive/ + negative/): "keywords" are noise
 * bursts and negatives quiet noise, which is all the command's plumbing needs.
 */
function writeDataset(dir: string): void {
  mkdirSync(join(dir, 'positive'), { recursive: true });
  mkdirSync(join(dir, 'negative'), { recursive: true });
  const clips = [];
  for (let i = 0; i < 4; i++) {
    const start = 0.3 + 0.1 * i;
    const file = `positive/pos-${i}.wav`;
    writeFileSync(join(dir, file), encodeWav(scene(1.6, [[start, start + 0.6, 0.3]]), 16_000));
    clips.push({ file, label: 1, keywordStartS: start, keywordEndS: start + 0.6 });
    const neg = `negative/neg-${i}.wav`;
    writeFileSync(join(dir, neg), encodeWav(scene(1.2 + 0.2 * i, [[0, 1.2, 0.01]]), 16_000));
    clips.push({ file: neg, label: 0, keywordStartS: null, keywordEndS: null });
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ keyword: 'hey nova', clips }));
}

const data = join(root, 'data');
writeDataset(data);

const run = (args: string[]) => runMain(['train-base', ...args]);

describe('kws train-base', () => {
  it('trains, shows a progress bar, checkpoints every N steps, writes the model, and resumes', async () => {
    const out = join(root, 'base.kws');
    const common = ['--data', data, '--out', out, '--batch-size', '4', '--validation', '0.25'];
    const first = await run([...common, '--steps', '4', '--checkpoint-every', '2']);
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^wrote .*base\.kws \(\d+ bytes\) after 4 steps in \d+s; val loss /);
    expect(first.stderr).toMatch(
      /3 positives \+ 3 negatives for training, 2 clips for validation, 0 hard negatives; keyword "hey nova"/,
    );
    // 6 training clips in batches of 4: 2 steps per epoch.
    const bars = first.stderr.split('\n').filter((l) => l.includes('] '));
    expect(bars.at(-1)).toMatch(
      /^kws train-base: \[#{24}\] 100% step 4\/4 epoch 2 loss \d\.\d{4} eta 0s \| val loss/,
    );
    expect(bars.length).toBeGreaterThanOrEqual(4);

    const model = loadDetectorModel(readFileSync(out));
    expect(model.header.keyword).toBe('hey nova');
    expect(model.header.base_model_sha256).toBeNull();
    expect(model.network.inputShape).toEqual([148, 13]);
    const checkpoint = decodeCheckpoint(readFileSync(`${out}.ckpt`));
    expect(checkpoint.step).toBe(4);
    expect(checkpoint.history.map((h) => h.step)).toEqual([1, 2, 3, 4]);
    // The model holds the checkpoint's weights.
    model.network.weights.forEach((w, i) => {
      expect(Array.from(w.value)).toEqual(Array.from(checkpoint.weights[i].data));
    });

    // Without --resume an existing checkpoint is refused rather than overwritten.
    const refused = await run([...common, '--steps', '6']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/checkpoint .*base\.kws\.ckpt exists; pass --resume/);

    const resumed = await run([...common, '--steps', '6', '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from step 4/);
    expect(resumed.stdout).toMatch(/after 6 steps/);
    expect(decodeCheckpoint(readFileSync(`${out}.ckpt`)).step).toBe(6);
  });

  it('draws --hard negatives (clips and a stream cut in pieces) as their own share, from --init weights', async () => {
    const hard = join(root, 'hard');
    mkdirSync(join(hard, 'stream'), { recursive: true });
    // A 20 s stream: five 4 s pieces of "running speech" (bursts), no clips of its own.
    const bursts: [number, number, number][] = [1, 5, 9, 13, 17].map((t) => [t, t + 0.5, 0.2]);
    writeFileSync(join(hard, 'stream', 'stream.wav'), encodeWav(scene(20, bursts), 16_000));
    writeFileSync(join(hard, 'manifest.json'), JSON.stringify({ keyword: 'hey nova', clips: [] }));
    const init = join(root, 'init.kws');
    expect((await run(['--data', data, '--out', init, '--steps', '1', '--batch-size', '4'])).code).toBe(0);
    const out = join(root, 'hard.kws');
    const r = await run([
      ...['--data', data, '--out', out, '--steps', '3', '--batch-size', '4', '--init', init],
      ...['--hard', hard, '--hard-share', '0.5', '--positive-share', '0.25', '--lr-end', '0.0001'],
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/5 hard negatives/);
    const composition = decodeCheckpoint(readFileSync(`${out}.ckpt`)).settings.composition;
    expect(composition).toEqual({ positives: 1, negatives: 1, replay: 2 });
    expect(decodeCheckpoint(readFileSync(`${out}.ckpt`)).settings.learningRateEnd).toBe(0.0001);
  });

  it('bad input exits 2 with one line', async () => {
    const out = join(root, 'bad.kws');
    const cases: [string[], RegExp][] = [
      [['--out', out], /--data DIR is required/],
      [['--data', data], /--out FILE is required/],
      [
        ['--data', join(root, 'none'), '--out', out],
        /no manifest\.json in .*none; expected a dataset directory/,
      ],
      [['--data', data, '--out', out, '--steps', '0'], /--steps must be an integer ≥ 1, got "0"/],
      [['--data', data, '--out', out, '--lr', 'fast'], /--lr must be a number in \(0, 1\], got "fast"/],
      [['--data', data, '--out', out, '--resume'], /--resume: no checkpoint at .*bad\.kws\.ckpt/],
      [['--data', data, '--out', out, '--init', join(root, 'none.kws')], /cannot read model .*none\.kws/],
      [['--data', data, '--out', out, '--hard-share', '2'], /--hard-share must be a number in \[0, 1\]/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('formats progress as a bar with step, epoch, loss, eta and the latest validation', () => {
    const line = progressLine({
      step: 30,
      totalSteps: 120,
      epoch: 2,
      loss: 0.21434,
      pct: 25,
      elapsedS: 20,
      etaS: 65,
      validation: {
        loss: 0.3,
        frameAccuracy: 0.9,
        windowFrr: 0.1,
        windowFar: 0.2,
        windowAuc: 0.85,
        positives: 5,
        negatives: 5,
      },
    });
    expect(line).toBe(
      '[######------------------]  25% step 30/120 epoch 2 loss 0.2143 eta 1m05s | ' +
        'val loss 0.3000 acc 0.900 auc 0.850 frr 0.100 far 0.200',
    );
  });
});
