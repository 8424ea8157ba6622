/**
 * `kws synth --out DIR [--keyword "hey nova"] [--count N] …`: synthetic positive/negative clips, and optionally
 * a long negative stream for FA/h, spoken by espeak-ng (DESIGN §4). The library side is data/synth.ts.
 */
import { DATA_PROFILES, type DataProfile } from '../../data/clip.ts';
import { type EngineChoice, resolveEngine } from '../../data/espeak.ts';
import { DEFAULT_KEYWORD } from '../../data/phrases.ts';
import {
  checkDatasetOptions,
  DatasetExistsError,
  type DatasetOptions,
  generateDataset,
} from '../../data/synth.ts';
import { VOICE_SETS, type VoiceSet } from '../../data/voices.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';

const DEFAULT_COUNT = 200;
const ENGINES: readonly EngineChoice[] = ['auto', 'binary', 'wasm'];

const usage = `Usage: kws synth --out DIR [--keyword "hey nova"] [--count N] [--seed S]
                 [--voices base|heldout|all] [--profile standard|wide] [--engine auto|binary|wasm] [--jobs J]
                 [--stream-minutes M]

Writes DIR/positive/*.wav (the keyword, sometimes followed by a command) and DIR/negative/*.wav (confusable
phrases, other words and sentences, silence, noise) as 16 kHz mono 16-bit WAV, spoken by espeak-ng with
random voices, speeds and pitches, then augmented (noise at 0–30 dB SNR, gain, shift, speed, reverb), plus
DIR/manifest.json describing every clip (for positives: where the keyword ends). The same seed gives the
same bytes. DIR is created atomically: a failed run leaves nothing.

Options:
  --out DIR           new (or empty) output directory (required)
  --keyword TEXT      the wake phrase (default "${DEFAULT_KEYWORD}")
  --count N           clips per class (default ${DEFAULT_COUNT}; 0 with --stream-minutes for a stream only)
  --seed S            any string or number (default 1)
  --voices SET        base (training voices, default), heldout (the "user" voices) or all
  --profile P         standard (default; what the evaluation sets use) or wide (base training: wider speeds,
                      pitches and speed perturbation, speech before the keyword and after confusables, more
                      confusables and near misses)
  --engine E          auto (Debian binary if on PATH, else the npm wasm build), binary or wasm
  --jobs J            espeak-ng processes in parallel (default: one per core)
  --stream-minutes M  also write DIR/stream/stream.wav: M minutes of non-keyword speech over noise, for
                      false accepts per hour (120 for the 2 h DESIGN §8 asks for)
  -h, --help          show this help`;

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text))
    throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function toOptions(values: Record<string, string | boolean | undefined>): DatasetOptions {
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const outDir = str('out');
  if (outDir === undefined || outDir.trim() === '') throw new UsageError('--out DIR is required');
  const voices = str('voices') ?? 'base';
  if (!(VOICE_SETS as readonly string[]).includes(voices)) {
    throw new UsageError(`--voices must be one of ${VOICE_SETS.join(', ')}, got ${JSON.stringify(voices)}`);
  }
  const profile = str('profile') ?? 'standard';
  if (!(DATA_PROFILES as readonly string[]).includes(profile)) {
    throw new UsageError(
      `--profile must be one of ${DATA_PROFILES.join(', ')}, got ${JSON.stringify(profile)}`,
    );
  }
  const engine = str('engine') ?? 'auto';
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw new UsageError(`--engine must be one of ${ENGINES.join(', ')}, got ${JSON.stringify(engine)}`);
  }
  try {
    resolveEngine(engine as EngineChoice);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const minutes = str('stream-minutes');
  if (minutes !== undefined && !(/^\d+(\.\d+)?$/.test(minutes) && Number(minutes) > 0)) {
    throw new UsageError(`--stream-minutes must be a positive number, got ${JSON.stringify(minutes)}`);
  }
  const streamS = minutes === undefined ? undefined : Number(minutes) * 60;
  const options: DatasetOptions = {
    outDir,
    keyword: str('keyword') ?? DEFAULT_KEYWORD,
    count: integer('count', str('count')) ?? (streamS === undefined ? DEFAULT_COUNT : 0),
    seed: str('seed') ?? '1',
    voices: voices as VoiceSet,
    profile: profile as DataProfile,
    engine: engine as EngineChoice,
    jobs: integer('jobs', str('jobs')),
    streamS,
  };
  try {
    checkDatasetOptions(options);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return options;
}

/** Progress on stderr: a line per 10 % (the output is usually a log, not a terminal). */
function progressReporter(io: CliIo): (done: number, total: number) => void {
  const start = performance.now();
  let lastDecile = -1;
  return (done, total) => {
    const pct = total === 0 ? 100 : Math.floor((100 * done) / total);
    if (Math.floor(pct / 10) <= lastDecile) return;
    lastDecile = Math.floor(pct / 10);
    const rate = done / Math.max(1e-3, (performance.now() - start) / 1000);
    io.stderr(`kws synth: ${done}/${total} (${pct}%), ${rate.toFixed(1)}/s\n`);
  };
}

export const synthCommand: Command = {
  name: 'synth',
  summary: 'synthesize keyword/negative training clips with espeak-ng',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      out: { type: 'string' },
      keyword: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      voices: { type: 'string' },
      profile: { type: 'string' },
      engine: { type: 'string' },
      jobs: { type: 'string' },
      'stream-minutes': { type: 'string' },
    });
    if (values.help) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const options = toOptions(values);
    const report = progressReporter(io);
    const started = performance.now();
    let manifest: Awaited<ReturnType<typeof generateDataset>>;
    try {
      manifest = await generateDataset({ ...options, onProgress: (p) => report(p.done, p.total) });
    } catch (error) {
      if (error instanceof DatasetExistsError) throw new UsageError(error.message);
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    const parts: string[] = [];
    const clips = manifest.clips.length;
    if (clips > 0) parts.push(`${clips} clips (${(clips / seconds).toFixed(1)}/s)`);
    if (manifest.stream !== null) {
      const minutes = manifest.stream.durationS / 60;
      parts.push(
        `a ${minutes.toFixed(1)} min negative stream (${((60 * minutes) / seconds).toFixed(0)}× real time)`,
      );
    }
    io.stderr(
      `kws synth: wrote ${parts.join(' and ')} to ${options.outDir} in ${seconds.toFixed(1)} s ` +
        `with espeak-ng ${manifest.engine}\n`,
    );
    return 0;
  },
};
