/**
 * `kws mine --model M.kws --negatives DIR --out DIR [--threshold P] [--max N]`: hard-negative mining. Runs the
 * detector over non-keyword audio and writes where it fires as a dataset of negative clips (16 kHz WAV + a
 * manifest.json like `kws synth`'s), for `kws train-base --hard DIR`. The library side is train/mine.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from '@kws/audio';
import { writeDirectoryAtomically } from '../../data/synth.ts';
import { EvalInputError, listLabelledWavs } from '../../eval/files.ts';
import { mineHardNegatives } from '../../train/mine.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';
import { integerOption, numberOption, readModelArg } from './inputs.ts';

const DEFAULT_THRESHOLD = 0.3;

const usage = `Usage: kws mine [--model M.kws] --negatives DIR --out DIR [--threshold P] [--max N]

Runs the detector over the non-keyword audio under --negatives (a 'kws synth' directory's negatives and
stream, or any WAVs) and writes every place a window scores at least P — one clip per false accept, the
window with 0.5 s on each side — to DIR/negative/*.wav with DIR/manifest.json. Train on them with
'kws train-base --hard DIR'. Never mine audio of the held-out evaluation voices.

Options:
  --model FILE      detector model (default: the committed base model)
  --negatives DIR   non-keyword audio (required)
  --out DIR         new (or empty) output directory (required)
  --threshold P     window score that counts as firing (default ${DEFAULT_THRESHOLD}, below the models' thresholds,
                    so near misses are caught too)
  --max N           keep at most N clips, the highest-scoring ones
  -h, --help        show this help`;

export const mineCommand: Command = {
  name: 'mine',
  summary: 'collect the places a detector fires on non-keyword audio (hard negatives)',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      model: { type: 'string' },
      negatives: { type: 'string' },
      out: { type: 'string' },
      threshold: { type: 'string' },
      max: { type: 'string' },
    });
    if (values.help) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (!values.negatives?.trim()) throw new UsageError('--negatives DIR is required');
    if (!values.out?.trim()) throw new UsageError('--out DIR is required');
    const threshold = numberOption('threshold', values.threshold, DEFAULT_THRESHOLD, 0, 1) as number;
    if (threshold >= 1) throw new UsageError('--threshold must be below 1');
    const max = values.max === undefined ? undefined : integerOption('max', values.max, 0);
    const { model } = await readModelArg(values.model);
    let files: string[];
    try {
      files = (await listLabelledWavs(values.negatives, 0)).map((f) => f.path);
    } catch (error) {
      if (error instanceof EvalInputError) throw new UsageError(error.message);
      throw error;
    }
    const started = performance.now();
    const clips = await mineHardNegatives({
      model,
      files,
      threshold,
      max,
      onProgress: (done, total, found) => {
        if (done === total || done % 200 === 0)
          io.stderr(`kws mine: ${done}/${total} files, ${found} found\n`);
      },
    });
    const rate = model.header.feature_config.sample_rate;
    await writeDirectoryAtomically(values.out, async (dir) => {
      await mkdir(join(dir, 'negative'));
      const records = [];
      for (const [i, clip] of clips.entries()) {
        const file = `negative/mined-${String(i).padStart(5, '0')}.wav`;
        await writeFile(join(dir, file), encodeWav(clip.samples, rate));
        records.push({
          file,
          label: 0,
          kind: 'mined',
          source: clip.source,
          sourceStartS: Math.round(clip.startS * 1e3) / 1e3,
          score: Math.round(clip.score * 1e4) / 1e4,
          durationS: Math.round((clip.samples.length / rate) * 1e4) / 1e4,
          keywordStartS: null,
          keywordEndS: null,
        });
      }
      const manifest = {
        version: 1,
        keyword: model.header.keyword,
        mined: { model: values.model ?? 'base', negatives: values.negatives, threshold },
        clips: records,
      };
      await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    });
    const seconds = (performance.now() - started) / 1000;
    io.stderr(`kws mine: wrote ${clips.length} clips to ${values.out} in ${seconds.toFixed(1)} s\n`);
    return 0;
  },
};
