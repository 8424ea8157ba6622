/**
 * `kws train-base --data DIR --out base.kws` (DESIGN §4): trains the base detector on a `kws synth` dataset
 * with a progress bar on stderr, a checkpoint every N steps (`OUT.ckpt` by default) and `--resume`.
 * Ctrl-C (SIGINT) or SIGTERM stops after the current step and saves a checkpoint first.
 */
import { readFile, stat } from 'node:fs/promises';
import { DEFAULT_FEATURE_CONFIG } from '@kws/audio';
import { createDetectorNetwork } from '../../model/architecture.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { detectorHeader } from '../../model/header.ts';
import { saveDetectorModel } from '../../model/model-file.ts';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type TrainingCheckpoint,
} from '../../train/checkpoint.ts';
import { DatasetError, type FeatureClip, loadDataset, splitClips } from '../../train/dataset.ts';
import { FIT_DEFAULTS, type FitProgress, fit, TrainingError } from '../../train/fit.ts';
import type { ValidationMetrics } from '../../train/validation.ts';
import { windowGeometry } from '../../train/windows.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';
import { integerOption, numberOption, readModelArg } from './inputs.ts';

export const TRAIN_BASE_DEFAULTS = {
  steps: 3000,
  checkpointEvery: 100,
  validation: 0.1,
  seed: '1',
  hardShare: 0.25,
  /** Seconds per negative piece cut from a --hard dataset's stream. */
  streamPieceS: 4,
} as const;

const usage = `Usage: kws train-base --data DIR --out base.kws [--steps N] [--batch-size B] [--lr X] [--lr-end X]
                      [--positive-share F] [--hard DIR]... [--hard-share F] [--init M.kws] [--seed S]
                      [--validation F] [--checkpoint-every N] [--checkpoint PATH] [--resume]

Trains the base wake-word detector (MFCC → Conv1D → BN → ReLU → BiLSTM → BN → BiLSTM → per-frame sigmoid on
≈ 1.5 s windows) on DIR, a dataset written by 'kws synth', and writes the model to the --out file. A share of
the clips (--validation) is held back to report frame accuracy and window AUC/FRR/FAR as training goes.
Training is a pure function of the seed; a run resumed from a checkpoint continues exactly as if it had not
stopped (--steps may be raised to train longer).

Options:
  --data DIR              dataset directory (manifest.json + WAVs) (required)
  --out FILE              model to write (required)
  --steps N               optimizer steps in total (default ${TRAIN_BASE_DEFAULTS.steps})
  --batch-size B          windows per step (default ${FIT_DEFAULTS.batchSize}, half of them positives)
  --lr X                  Adam learning rate (default ${FIT_DEFAULTS.learningRate})
  --lr-end X              learning rate at the last step, reached along a half cosine (default: --lr)
  --positive-share F      share of each batch that is keyword windows (default ${FIT_DEFAULTS.positiveFraction})
  --hard DIR              more negatives, drawn as their own share of every batch: the negative clips of a
                          'kws synth' or 'kws mine' directory and its stream cut into ${TRAIN_BASE_DEFAULTS.streamPieceS} s pieces
                          (repeatable; the running speech and the mined false accepts the clips lack)
  --hard-share F          share of each batch drawn from the --hard negatives (default ${TRAIN_BASE_DEFAULTS.hardShare})
  --init FILE             start from this model's weights instead of fresh ones (same architecture)
  --seed S                seed of the initial weights, the split and the batches (default ${TRAIN_BASE_DEFAULTS.seed})
  --validation F          share of clips held back for validation (default ${TRAIN_BASE_DEFAULTS.validation})
  --checkpoint-every N    steps between checkpoints (default ${TRAIN_BASE_DEFAULTS.checkpointEvery})
  --checkpoint PATH       checkpoint file (default: OUT.ckpt)
  --resume                continue from the checkpoint
  -h, --help              show this help`;

const BAR_WIDTH = 24;
/** Progress lines go out at least every this many percent (and at every validation). */
const REPORT_EVERY_PCT = 5;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function describeValidation(v: ValidationMetrics): string {
  return (
    `val loss ${v.loss.toFixed(4)} acc ${v.frameAccuracy.toFixed(3)} auc ${v.windowAuc.toFixed(3)} ` +
    `frr ${v.windowFrr.toFixed(3)} far ${v.windowFar.toFixed(3)}`
  );
}

/** `[######------]  40% step 120/300 epoch 2 loss 0.2143 eta 1m05s | val ...`, one line per report. */
export function progressLine(p: FitProgress): string {
  const filled = Math.round((BAR_WIDTH * p.pct) / 100);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  const head =
    `${bar} ${p.pct.toFixed(0).padStart(3)}% step ${p.step}/${p.totalSteps} epoch ${p.epoch} ` +
    `loss ${p.loss.toFixed(4)} eta ${duration(p.etaS)}`;
  return p.validation ? `${head} | ${describeValidation(p.validation)}` : head;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readCheckpoint(path: string): Promise<TrainingCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    throw new UsageError(`--resume: no checkpoint at ${path} to resume from`);
  }
  try {
    return decodeCheckpoint(bytes, path);
  } catch (error) {
    if (error instanceof CheckpointError) throw new UsageError(error.message);
    throw error;
  }
}

export const trainBaseCommand: Command = {
  name: 'train-base',
  summary: 'train the base detector on a synthesized dataset',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      data: { type: 'string' },
      out: { type: 'string' },
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      'lr-end': { type: 'string' },
      'positive-share': { type: 'string' },
      hard: { type: 'string', multiple: true },
      'hard-share': { type: 'string' },
      init: { type: 'string' },
      seed: { type: 'string' },
      validation: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      checkpoint: { type: 'string' },
      resume: { type: 'boolean' },
    });
    if (values.help) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const data = values.data;
    const out = values.out;
    if (data === undefined || data.trim() === '') throw new UsageError('--data DIR is required');
    if (out === undefined || out.trim() === '') throw new UsageError('--out FILE is required');
    const steps = integerOption('steps', values.steps, TRAIN_BASE_DEFAULTS.steps);
    const batchSize = integerOption('batch-size', values['batch-size'], FIT_DEFAULTS.batchSize);
    const learningRate = numberOption('lr', values.lr, FIT_DEFAULTS.learningRate, 0, 1) as number;
    const learningRateEnd = numberOption('lr-end', values['lr-end'], learningRate, 0, 1) as number;
    const positiveFraction = numberOption(
      'positive-share',
      values['positive-share'],
      FIT_DEFAULTS.positiveFraction,
      0,
      1,
    ) as number;
    const hardShare = numberOption(
      'hard-share',
      values['hard-share'],
      TRAIN_BASE_DEFAULTS.hardShare,
      0,
      1,
      true,
    ) as number;
    const validationShare = numberOption(
      'validation',
      values.validation,
      TRAIN_BASE_DEFAULTS.validation,
      0,
      0.5,
      true,
    ) as number;
    const checkpointEvery = integerOption(
      'checkpoint-every',
      values['checkpoint-every'],
      TRAIN_BASE_DEFAULTS.checkpointEvery,
    );
    const seed = values.seed ?? TRAIN_BASE_DEFAULTS.seed;
    const checkpointPath = values.checkpoint ?? `${out}.ckpt`;

    let resume: TrainingCheckpoint | undefined;
    if (values.resume) resume = await readCheckpoint(checkpointPath);
    else if (await exists(checkpointPath)) {
      throw new UsageError(
        `checkpoint ${checkpointPath} exists; pass --resume to continue from it, or delete it to start over`,
      );
    }
    if (resume && resume.step > steps) {
      throw new UsageError(`--steps ${steps} is below the checkpoint's step ${resume.step}`);
    }

    const init = values.init === undefined ? undefined : (await readModelArg(values.init)).model;
    if (init !== undefined) {
      const ours = JSON.stringify(createDetectorNetwork({ seed }).toJSON().config.layers);
      if (JSON.stringify(init.network.toJSON().config.layers) !== ours) {
        throw new UsageError(
          `--init ${values.init} has another architecture than the detector train-base trains`,
        );
      }
    }
    const started = performance.now();
    let lastDecile = -1;
    let loaded: Awaited<ReturnType<typeof loadDataset>>;
    try {
      loaded = await loadDataset(data, {
        onProgress: (done, total) => {
          const decile = Math.floor((10 * done) / total);
          if (decile > lastDecile) {
            lastDecile = decile;
            io.stderr(`kws train-base: reading ${data}: ${done}/${total} clips\n`);
          }
        },
      });
    } catch (error) {
      if (error instanceof DatasetError) throw new UsageError(error.message);
      throw error;
    }
    const hard: FeatureClip[] = [];
    for (const dir of values.hard ?? []) {
      try {
        const more = await loadDataset(dir, { streamPieceS: TRAIN_BASE_DEFAULTS.streamPieceS });
        hard.push(...more.clips.filter((c) => c.label === 0));
      } catch (error) {
        if (error instanceof DatasetError) throw new UsageError(error.message);
        throw error;
      }
    }
    const { train, validation } = splitClips(loaded.clips, validationShare, seed);
    const positives = train.filter((c) => c.label === 1);
    const negatives = train.filter((c) => c.label === 0);
    if (positives.length === 0 || negatives.length === 0) {
      throw new UsageError(
        `${data} has ${positives.length} positive and ${negatives.length} negative training clips; both are needed`,
      );
    }
    io.stderr(
      `kws train-base: ${positives.length} positives + ${negatives.length} negatives for training, ` +
        `${validation.length} clips for validation, ${hard.length} hard negatives; ` +
        `keyword ${JSON.stringify(loaded.keyword)}` +
        (resume ? `; resuming from step ${resume.step}\n` : '\n'),
    );

    const network = createDetectorNetwork({ seed });
    if (init !== undefined) network.setWeights(init.network.getWeights());
    const featureConfig = { ...DEFAULT_FEATURE_CONFIG };
    const controller = new AbortController();
    const stop = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let lastPct = -Infinity;
    let savedStep = resume?.step ?? 0;
    try {
      const result = await fit({
        network,
        geometry: windowGeometry(network, featureConfig),
        data: { positives, negatives, replay: hard },
        validation,
        steps,
        batchSize,
        learningRate,
        learningRateEnd,
        positiveFraction,
        replayFraction: hardShare,
        seed,
        validateEvery: Math.max(1, Math.min(checkpointEvery, Math.round(steps / 20))),
        checkpointEvery,
        resume,
        signal: controller.signal,
        onCheckpoint: async (checkpoint) => {
          await writeFileAtomic(checkpointPath, encodeCheckpoint(checkpoint));
          savedStep = checkpoint.step;
        },
        onProgress: (p) => {
          if (p.validation || p.pct - lastPct >= REPORT_EVERY_PCT || p.step === p.totalSteps) {
            lastPct = p.pct;
            io.stderr(`kws train-base: ${progressLine(p)}\n`);
          }
        },
      });
      const model = {
        network,
        header: detectorHeader({ keyword: loaded.keyword, feature_config: featureConfig }),
      };
      const bytes = saveDetectorModel(model);
      await writeFileAtomic(out, bytes);
      const seconds = (performance.now() - started) / 1000;
      const summary = result.validation ? `; ${describeValidation(result.validation)}` : '';
      io.stdout(
        `wrote ${out} (${bytes.length} bytes) after ${result.steps} steps in ${duration(seconds)}${summary}\n`,
      );
      return 0;
    } catch (error) {
      if (controller.signal.aborted && error === controller.signal.reason) {
        io.stderr(
          `kws train-base: interrupted; checkpoint at step ${savedStep} in ${checkpointPath} (rerun with --resume)\n`,
        );
        return 130;
      }
      if (error instanceof CheckpointError) throw new UsageError(error.message);
      if (error instanceof TrainingError) {
        // Not bad input and not a bug: training itself failed (e.g. the loss diverged).
        io.stderr(`kws train-base: ${error.message}\n`);
        return 1;
      }
      throw error;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
