/**
 * `kws personalize --base base.kws --clips DIR --out user.kws [--negatives DIR] [--report report.json]
 * [--plot det.svg]` (DESIGN §4): fine-tunes the base model on the WAV recordings of the keyword in DIR
 * (personalize/personalize.ts) and writes the user model, optionally the JSON report and a DET plot of the
 * base and the personalized model on the held-out material.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detSvg } from '../../eval/plot.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { BASE_MODEL_PATH } from '../../model/base-model.ts';
import { MAX_CLIPS, MIN_CLIPS, PersonalizeInputError } from '../../personalize/enrollment.ts';
import { PERSONALIZE_DEFAULTS, type PersonalizeResult, personalize } from '../../personalize/personalize.ts';
import { BASE_REPLAY_PATH } from '../../personalize/replay.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';
import { integerOption, numberOption } from './inputs.ts';

const usage = `Usage: kws personalize --clips DIR --out user.kws [--base base.kws] [--negatives DIR]
                       [--report report.json] [--plot det.svg] [--steps N] [--seed S] [--max-seconds T]

Fine-tunes the base detector on ${MIN_CLIPS}–${MAX_CLIPS} recordings of the keyword (the .wav files in --clips, 16 kHz
mono), with augmentation and replay of the base set's negatives, holds some recordings out to choose the
user's threshold, and writes the user model. The same clips and seed give the same model.

Options:
  --clips DIR        directory of the user's keyword recordings (required)
  --out FILE         user model to write (required)
  --base FILE        base model (default: the committed base model, ${BASE_MODEL_PATH})
  --replay FILE      replay negatives (default: ${BASE_REPLAY_PATH})
  --negatives DIR    extra negative WAVs (optional)
  --report FILE      write the JSON report (before/after FRR, FA estimate, threshold, DET points)
  --plot FILE        write the DET curves of base and personalized model on held-out material as SVG
  --steps N          optimizer steps (default ${PERSONALIZE_DEFAULTS.steps})
  --seed S           seed (default 1)
  --max-seconds T    stop training after T seconds (the result then depends on timing)
  -h, --help         show this help`;

/** The `.wav` files of `dir` in name order, with their bytes. */
async function readClips(dir: string): Promise<{ files: string[]; clips: Uint8Array[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.wav')).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read --clips ${dir}: ${code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : (error as Error).message}`,
    );
  }
  if (names.length < MIN_CLIPS || names.length > MAX_CLIPS) {
    throw new UsageError(
      `--clips ${dir} holds ${names.length} .wav files; expected ${MIN_CLIPS}–${MAX_CLIPS}`,
    );
  }
  const files = names.map((n) => join(dir, n));
  return { files, clips: await Promise.all(files.map((f) => readFile(f))) };
}

function summary(r: PersonalizeResult['report']): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return (
    `held-out FRR ${pct(r.before.frr)} → ${pct(r.after.frr)} (base at ${r.before.threshold.toFixed(2)}, ` +
    `user at ${r.after.threshold.toFixed(2)}), FA estimate ${r.before.fa_per_hour.toFixed(1)} → ` +
    `${r.after.fa_per_hour.toFixed(1)}/h over ${r.negative_seconds.toFixed(0)} s, ` +
    `${r.training.steps} steps in ${r.seconds.toFixed(1)} s`
  );
}

export const personalizeCommand: Command = {
  name: 'personalize',
  summary: "fine-tune the base detector on a user's keyword recordings",
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      base: { type: 'string' },
      clips: { type: 'string' },
      out: { type: 'string' },
      replay: { type: 'string' },
      negatives: { type: 'string' },
      report: { type: 'string' },
      plot: { type: 'string' },
      steps: { type: 'string' },
      seed: { type: 'string' },
      'max-seconds': { type: 'string' },
    });
    if (values.help) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (values.clips === undefined || values.clips.trim() === '')
      throw new UsageError('--clips DIR is required');
    if (values.out === undefined || values.out.trim() === '') throw new UsageError('--out FILE is required');
    const steps = integerOption('steps', values.steps, PERSONALIZE_DEFAULTS.steps);
    const maxSeconds = numberOption('max-seconds', values['max-seconds'], undefined, 0, 86_400);
    const { files, clips } = await readClips(values.clips);
    let lastPct = -Infinity;
    let result: PersonalizeResult;
    try {
      result = await personalize({
        base: values.base ?? BASE_MODEL_PATH,
        replay: values.replay,
        clips,
        negativesDir: values.negatives,
        seed: values.seed ?? '1',
        steps,
        maxSeconds,
        onProgress: (p) => {
          if (p.pct - lastPct >= 10 || p.pct === 100) {
            lastPct = p.pct;
            io.stderr(`kws personalize: ${p.pct.toFixed(0)}% epoch ${p.epoch} loss ${p.loss.toFixed(4)}\n`);
          }
        },
      });
    } catch (error) {
      if (error instanceof PersonalizeInputError) {
        const file = error.clipIndex === undefined ? undefined : files[error.clipIndex];
        throw new UsageError(file === undefined ? error.message : `${file}: ${error.message}`);
      }
      throw error;
    }
    await writeFileAtomic(values.out, result.model);
    if (values.report !== undefined) {
      await writeFileAtomic(
        values.report,
        new TextEncoder().encode(`${JSON.stringify(result.report, null, 1)}\n`),
      );
    }
    if (values.plot !== undefined) {
      const svg = detSvg(
        [
          { label: 'base', points: result.report.before.det, threshold: result.report.before.threshold },
          {
            label: 'personalized',
            points: result.report.after.det,
            threshold: result.report.after.threshold,
          },
        ],
        'Held-out DET (FA/h estimated from held-out negatives)',
      );
      await writeFileAtomic(values.plot, new TextEncoder().encode(svg));
    }
    io.stdout(`wrote ${values.out} (${result.model.length} bytes): ${summary(result.report)}\n`);
    return 0;
  },
};
