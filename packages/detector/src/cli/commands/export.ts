/**
 * `kws export --model M.kws --format tfjs --out DIR` (DESIGN §4): writes DIR/model.json + DIR/weights.bin,
 * which `tf.loadLayersModel` loads with the same outputs as the `.kws` model.
 */

import { writeTfjs } from '../../export/tfjs.ts';
import { BASE_MODEL_PATH } from '../../model/base-model.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';
import { readModelArg } from './inputs.ts';

const FORMATS = ['tfjs'] as const;

const usage = `Usage: kws export [--model M.kws] --format tfjs --out DIR

Writes the detector in the TensorFlow.js layers format: DIR/model.json (Keras topology, weights manifest,
and the keyword, threshold, smoothing and feature config as userDefinedMetadata) and DIR/weights.bin.
Serve DIR over HTTP and load it with tf.loadLayersModel('<url>/model.json').

Options:
  --model FILE     detector model (default: the committed base model, ${BASE_MODEL_PATH})
  --format F       ${FORMATS.join(', ')} (required)
  --out DIR        directory to write (created if missing; model.json and weights.bin are replaced)
  -h, --help       show this help`;

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a detector model for TensorFlow.js',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      model: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
    });
    if (values.help) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (values.format === undefined) throw new UsageError(`--format is required (${FORMATS.join(', ')})`);
    if (!(FORMATS as readonly string[]).includes(values.format)) {
      throw new UsageError(
        `--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(values.format)}`,
      );
    }
    if (values.out === undefined || values.out.trim() === '') throw new UsageError('--out DIR is required');
    const { model } = await readModelArg(values.model);
    let paths: Awaited<ReturnType<typeof writeTfjs>>;
    try {
      paths = await writeTfjs(model, values.out);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EACCES') {
        throw new UsageError(`cannot write to ${values.out}: ${(error as Error).message}`);
      }
      throw error;
    }
    io.stdout(`wrote ${paths.modelJson} and ${paths.weights}\n`);
    return 0;
  },
};
