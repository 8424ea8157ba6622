/** `kws mfcc IN.wav [--json]`: the front end's features for one file (DESIGN §4). */
import { readFile } from 'node:fs/promises';
import { DEFAULT_FEATURE_CONFIG, decodeWav, mfcc, toMono16k } from '@kws/audio';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';

const usage = `Usage: kws mfcc IN.wav [--json]

Decodes IN.wav, converts it to 16 kHz mono and prints its MFCC features (DESIGN §1 default config:
25 ms frames every 10 ms, 40 mel bands from 20 to 7600 Hz, 13 coefficients).

Options:
  --json      print {"shape": [frames, 13], "data": [...row-major...]} instead of a summary
  -h, --help  show this help`;

export const mfccCommand: Command = {
  name: 'mfcc',
  summary: 'print the MFCC features of a WAV file',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
    if (values.help) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`expected exactly one input WAV file, got ${positionals.length}`);
    }
    const [path] = positionals;
    const bytes = await readInput(path);
    const decoded = decodeWav(bytes);
    const features = mfcc(toMono16k(decoded));

    if (values.json) {
      io.stdout(
        `${JSON.stringify({ shape: [features.frames, features.coeffs], data: Array.from(features.data) })}\n`,
      );
      return 0;
    }
    const seconds = decoded.samples.length / decoded.channels / decoded.sampleRate;
    const c = DEFAULT_FEATURE_CONFIG;
    const lines = [
      `${path}: ${decoded.sampleRate} Hz, ${decoded.channels} channel(s), ${seconds.toFixed(3)} s`,
      `MFCC: ${features.frames} frames × ${features.coeffs} coefficients ` +
        `(${(1000 * c.frame_length) / c.sample_rate} ms frames every ${(1000 * c.frame_step) / c.sample_rate} ms, ` +
        `${c.num_mel_bins} mel bands ${c.lower_edge_hertz}–${c.upper_edge_hertz} Hz, at 16 kHz mono)`,
    ];
    if (features.frames > 0) {
      lines.push('coeff      mean       std       min       max');
      for (let i = 0; i < features.coeffs; i++) {
        const column = Array.from(
          { length: features.frames },
          (_, f) => features.data[f * features.coeffs + i],
        );
        const mean = column.reduce((a, b) => a + b, 0) / column.length;
        const std = Math.sqrt(column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length);
        const cells = [mean, std, Math.min(...column), Math.max(...column)].map((v) =>
          v.toFixed(3).padStart(9),
        );
        lines.push(`c${i}`.padEnd(6) + cells.join(' '));
      }
    } else {
      lines.push(`(shorter than one ${(1000 * c.frame_length) / c.sample_rate} ms frame: no features)`);
    }
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  },
};

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new UsageError(`cannot read ${path}: ${reason}`);
  }
}
