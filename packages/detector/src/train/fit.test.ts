import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FEATURE_CONFIG } from '@kws/audio';
import { BinaryCrossentropy } from '@kws/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../data/random.ts';
import { generateDataset } from '../data/synth.ts';
import { createDetectorNetwork, type DetectorSizes } from '../model/architecture.ts';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type TrainingCheckpoint,
} from './checkpoint.ts';
import { DatasetError, type FeatureClip, loadDataset, splitClips } from './dataset.ts';
import { composeBatch, type FitOptions, fit } from './fit.ts';
import { ValidationSet } from './validation.ts';
import { silenceFrame, windowGeometry } from './windows.ts';

/** Small enough that a step of 8 windows takes tens of milliseconds on the pure-TS kernels. */
const TINY: Partial<DetectorSizes> = { convFilters: 8, lstmUnits: [8, 8] };

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kws-fit-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Clips of random features with a keyword mark, for tests about the loop rather than about learning. */
function randomClips(count: number, label: 0 | 1, seed: string): FeatureClip[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, (_, i) => {
    const frames = 120 + rng.int(80);
    const features = Float32Array.from({ length: frames * 13 }, () => rng.normal());
    const end = 0.9 + rng.next() * 0.3;
    return {
      file: `${seed}-${i}`,
      label,
      frames,
      features,
      keywordStartS: label === 1 ? end - 0.5 : null,
      keywordEndS: label === 1 ? end : null,
    };
  });
}

function loopOptions(overrides: Partial<FitOptions> = {}): FitOptions {
  const network = createDetectorNetwork({ sizes: { convFilters: 4, lstmUnits: [3, 3] }, seed: 2 });
  return {
    network,
    geometry: windowGeometry(network, DEFAULT_FEATURE_CONFIG),
    data: { positives: randomClips(6, 1, 'p'), negatives: randomClips(6, 0, 'n') },
    validation: [...randomClips(2, 1, 'vp'), ...randomClips(2, 0, 'vn')],
    steps: 6,
    batchSize: 4,
    seed: 'loop',
    validateEvery: 2,
    ...overrides,
  };
}

describe('fit on synthesized speech', () => {
  it('learns: the loss falls, frame accuracy rises, and keyword windows come to outscore the others', async () => {
    const dir = join(root, 'tiny-set');
    await generateDataset({ outDir: dir, count: 24, seed: 'fit-test' });
    const { keyword, clips } = await loadDataset(dir);
    expect(keyword).toBe('hey nova');
    expect(clips.length).toBe(48);
    const { train, validation } = splitClips(clips, 0.25, 1);
    expect(validation.filter((c) => c.label === 1).length).toBe(6);

    const network = createDetectorNetwork({ sizes: TINY, seed: 1 });
    const geometry = windowGeometry(network, DEFAULT_FEATURE_CONFIG);
    const positives = train.filter((c) => c.label === 1);
    const negatives = train.filter((c) => c.label === 0);
    // Before training: how well do window scores separate keyword windows from the rest of the training set?
    const trainWindows = new ValidationSet(train, geometry, silenceFrame(DEFAULT_FEATURE_CONFIG), 'probe');
    const before = trainWindows.evaluate(network, new BinaryCrossentropy(), 5);

    const result = await fit({
      network,
      geometry,
      data: { positives, negatives },
      validation,
      steps: 150,
      batchSize: 8,
      learningRate: 3e-3,
      seed: 1,
      validateEvery: 15,
    });
    const first = result.history[0];
    const last = result.history.at(-1);
    if (!last) throw new Error('no history');
    expect(result.history.map((h) => h.step)).toEqual([15, 30, 45, 60, 75, 90, 105, 120, 135, 150]);
    expect(last.loss).toBeLessThan(0.7 * first.loss);
    expect(last.frameAccuracy).toBeGreaterThan(first.frameAccuracy);
    expect(last.frameAccuracy).toBeGreaterThan(0.85);
    expect(last.validation?.loss).toBeLessThan(first.validation?.loss ?? 0);
    const after = trainWindows.evaluate(network, new BinaryCrossentropy(), 5);
    expect(after.windowAuc).toBeGreaterThan(0.85);
    expect(after.windowAuc).toBeGreaterThan(before.windowAuc + 0.2);
  });

  it('names what is wrong with a dataset directory', async () => {
    await expect(loadDataset(join(root, 'nothing-here'))).rejects.toThrow(
      /no manifest.json in .*nothing-here; expected a dataset directory written by kws synth/,
    );
    await expect(loadDataset(join(root, 'nothing-here'))).rejects.toThrow(DatasetError);
  });
});

describe('fit: the loop', () => {
  it('composes batches from positives, negatives and replayed negatives', () => {
    const clips = { positives: randomClips(1, 1, 'a'), negatives: randomClips(1, 0, 'b') };
    const replay = randomClips(1, 0, 'c');
    expect(composeBatch(clips, 16)).toEqual({ positives: 8, negatives: 8, replay: 0 });
    expect(composeBatch({ ...clips, replay }, 16)).toEqual({ positives: 8, negatives: 4, replay: 4 });
    expect(composeBatch({ ...clips, negatives: [], replay }, 16)).toEqual({
      positives: 8,
      negatives: 0,
      replay: 8,
    });
    expect(composeBatch({ ...clips, replay }, 10, { positiveFraction: 0.3, replayFraction: 0.5 })).toEqual({
      positives: 3,
      negatives: 2,
      replay: 5,
    });
    expect(() => composeBatch({ positives: [], negatives: clips.negatives }, 8)).toThrow(/no positive clips/);
    expect(() => composeBatch({ positives: clips.positives, negatives: [] }, 8)).toThrow(/no negative clips/);
  });

  it('resumes from a checkpoint to exactly the weights of an uninterrupted run', async () => {
    const straight = loopOptions();
    const straightResult = await fit(straight);

    const saved: Uint8Array[] = [];
    const first = loopOptions({ steps: 3, onCheckpoint: (c) => void saved.push(encodeCheckpoint(c)) });
    await fit(first);
    expect(saved.length).toBe(1); // the final step's checkpoint only: checkpointEvery is unset
    const checkpoint = decodeCheckpoint(saved[0]);
    expect(checkpoint.step).toBe(3);

    const resumed = loopOptions({ resume: checkpoint });
    const resumedResult = await fit(resumed);
    expect(resumedResult.steps).toBe(6);
    resumed.network.weights.forEach((w, i) => {
      expect(Array.from(w.value), w.name).toEqual(Array.from(straight.network.weights[i].value));
    });
    // Validation depends on the weights alone, so it agrees at every step both runs validated.
    const validationAt = (h: typeof straightResult.history, step: number) =>
      h.find((e) => e.step === step)?.validation;
    for (const step of [2, 4, 6]) {
      expect(validationAt(resumedResult.history, step)).toEqual(validationAt(straightResult.history, step));
    }
    expect(resumedResult.history.map((h) => h.step)).toEqual([2, 3, 4, 6]); // the first run ended at step 3
    // And a different seed would not have given those weights.
    const other = loopOptions({ seed: 'other' });
    await fit(other);
    expect(Array.from(other.network.weights[0].value)).not.toEqual(
      Array.from(straight.network.weights[0].value),
    );
  });

  it('checkpoints every N steps and refuses to resume with other settings', async () => {
    const steps: number[] = [];
    let last: TrainingCheckpoint | undefined;
    await fit(
      loopOptions({
        steps: 5,
        checkpointEvery: 2,
        onCheckpoint: (c) => {
          steps.push(c.step);
          last = c;
        },
      }),
    );
    expect(steps).toEqual([2, 4, 5]);
    if (!last) throw new Error('no checkpoint');
    const checkpoint = decodeCheckpoint(encodeCheckpoint(last));
    await expect(fit(loopOptions({ resume: checkpoint, batchSize: 8 }))).rejects.toThrow(
      /cannot resume: the checkpoint was made with batchSize 4, this run has 8/,
    );
    await expect(fit(loopOptions({ resume: checkpoint, seed: 'x' }))).rejects.toThrow(CheckpointError);
    expect(() => decodeCheckpoint(new Uint8Array(20))).toThrow(CheckpointError);
  });

  it('stops between steps when aborted, handing out a checkpoint first', async () => {
    const controller = new AbortController();
    const options = loopOptions({ steps: 50, freeze: ['conv1d'], signal: controller.signal });
    const checkpoints: number[] = [];
    options.onProgress = (p) => {
      if (p.step === 2) controller.abort(new Error('stop here'));
    };
    options.onCheckpoint = (c) => void checkpoints.push(c.step);
    await expect(fit(options)).rejects.toThrow('stop here');
    expect(checkpoints).toEqual([2]);
    expect(options.network.layers.every((l) => l.trainable)).toBe(true); // freeze is undone
  });

  it('keeps frozen layers fixed (BatchNormalization statistics too) and trains the rest', async () => {
    const options = loopOptions({ steps: 3, freeze: ['conv1d', 'batch_normalization'] });
    const before = options.network.getWeights();
    await fit(options);
    const after = options.network.getWeights();
    const names = options.network.layers.flatMap((l) => l.weights.map((w) => `${l.name}/${w.name}`));
    names.forEach((name, i) => {
      const frozen = name.startsWith('conv1d/') || name.startsWith('batch_normalization/');
      if (frozen) expect(Array.from(after[i].data), name).toEqual(Array.from(before[i].data));
      else if (!name.endsWith('moving_mean') && !name.endsWith('moving_variance')) {
        expect(Array.from(after[i].data), name).not.toEqual(Array.from(before[i].data));
      }
    });
    await expect(fit(loopOptions({ freeze: ['nope'] }))).rejects.toThrow(/cannot freeze layer "nope"/);
  });

  it('reports progress every step with the DESIGN §5 fields', async () => {
    const seen: { step: number; epoch: number; pct: number; validated: boolean }[] = [];
    await fit(
      loopOptions({
        onProgress: (p) => seen.push({ step: p.step, epoch: p.epoch, pct: p.pct, validated: !!p.validation }),
      }),
    );
    // 12 clips in batches of 4: 3 steps per epoch.
    expect(seen).toEqual([
      { step: 1, epoch: 1, pct: 100 / 6, validated: false },
      { step: 2, epoch: 1, pct: 200 / 6, validated: true },
      { step: 3, epoch: 1, pct: 50, validated: false },
      { step: 4, epoch: 2, pct: 400 / 6, validated: true },
      { step: 5, epoch: 2, pct: 500 / 6, validated: false },
      { step: 6, epoch: 2, pct: 100, validated: true },
    ]);
  });
});
