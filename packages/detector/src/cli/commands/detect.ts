/**
 * `kws detect [--model M.kws] IN.wav... [--json]` (DESIGN §4): streaming detection over each file. With
 * --json, always one JSON array with an entry per file: `{ file, detected, score, detections: [{ start_s,
 * end_s, score }] }`. Every input is read and checked before anything is printed, so bad input (exit 2)
 * never leaves half an answer on stdout.
 */
import { TARGET_SAMPLE_RATE } from '@kws/audio';
import { type DetectionOptions, type DetectionResult, detect } from '../../detect/detector.ts';
import { BASE_MODEL_PATH } from '../../model/base-model.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';
import { numberOption, readModelArg, readWavArg } from './inputs.ts';

const usage = `Usage: kws detect [--model M.kws] IN.wav... [--json] [--threshold P] [--hop S]

Runs the wake-word detector over each WAV file (any length, rate and channel count; converted to 16 kHz
mono): a ≈ 1.5 s window slides over the audio every hop, posteriors are smoothed, and a detection is reported
where they reach the threshold (at most one per refractory period). A detection's start_s and end_s bound
where the smoothed posterior is at or above the threshold: the model marks the end of the keyword.

Options:
  --model FILE     detector model (default: the committed base model, ${BASE_MODEL_PATH})
  --json           print one JSON array with an entry per file
  --threshold P    override the model's threshold, a probability in (0, 1)
  --hop S          override the model's hop between windows, seconds
  -h, --help       show this help`;

export interface DetectEntry extends DetectionResult {
  file: string;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Times to the millisecond, scores to 4 decimals: what the output format promises, not float noise. */
function rounded(file: string, r: DetectionResult): DetectEntry {
  return {
    file,
    detected: r.detected,
    score: round(r.score, 4),
    detections: r.detections.map((d) => ({
      start_s: round(d.start_s, 3),
      end_s: round(d.end_s, 3),
      score: round(d.score, 4),
    })),
  };
}

export const detectCommand: Command = {
  name: 'detect',
  summary: 'detect the wake word in WAV files',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      model: { type: 'string' },
      json: { type: 'boolean' },
      threshold: { type: 'string' },
      hop: { type: 'string' },
    });
    if (values.help) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('expected at least one input WAV file');
    const options: DetectionOptions = {
      threshold: numberOption('threshold', values.threshold, undefined, 0, 1),
      hopS: numberOption('hop', values.hop, undefined, 0, 60),
    };
    if (options.threshold === 1) throw new UsageError('--threshold must be below 1');
    const { model } = await readModelArg(values.model);
    if (model.header.feature_config.sample_rate !== TARGET_SAMPLE_RATE) {
      throw new UsageError(
        `the model wants ${model.header.feature_config.sample_rate} Hz features; kws detect feeds it ${TARGET_SAMPLE_RATE} Hz`,
      );
    }
    const entries: DetectEntry[] = [];
    for (const file of positionals) {
      const samples = await readWavArg(file);
      try {
        entries.push(rounded(file, detect(model, samples, options)));
      } catch (error) {
        if (error instanceof RangeError) throw new UsageError(error.message);
        throw error;
      }
    }
    if (values.json) {
      io.stdout(`${JSON.stringify(entries)}\n`);
      return 0;
    }
    const lines = entries.map((e) =>
      e.detected
        ? `${e.file}: ${e.detections.length} detection(s): ` +
          e.detections
            .map((d) => `${d.start_s.toFixed(3)}–${d.end_s.toFixed(3)} s (${d.score.toFixed(3)})`)
            .join(', ')
        : `${e.file}: no detection (best score ${e.score.toFixed(3)} < threshold)`,
    );
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  },
};
