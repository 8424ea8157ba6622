/**
 * `kws synth` as a library function: plans N positive and N negative clips from a seed, synthesizes their
 * speech with espeak-ng (child processes) and renders and writes them (worker threads) as 16 kHz mono 16-bit WAV with
 * a manifest, all inside a temporary directory that is renamed into place only when everything succeeded.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SAMPLE_RATE } from './augment.ts';
import { type ClipPlan, type DataProfile, planNegative, planPositive } from './clip.ts';
import {
  createSynthesizer,
  DEFAULT_PITCH,
  DEFAULT_SPEED_WPM,
  type EngineChoice,
  type EspeakEngine,
  type Synthesizer,
} from './espeak.ts';
import { defaultJobs, mapConcurrent } from './parallel.ts';
import {
  containsKeyword,
  DEFAULT_KEYWORD,
  NEGATIVE_MIX,
  NEGATIVE_MIX_WIDE,
  type NegativeKind,
  PHRASES,
  SENTENCES,
} from './phrases.ts';
import { type ClipRecord, type ClipTask, produceClip } from './produce.ts';
import { derive, type Rng } from './random.ts';
import { RenderPool } from './render-pool.ts';
import { type NegativeStreamManifest, writeNegativeStream } from './stream.ts';
import { type VoiceSet, voicesOf } from './voices.ts';

export type { ClipRecord } from './produce.ts';

export const MANIFEST_VERSION = 1;

export interface DatasetManifest {
  version: number;
  keyword: string;
  seed: string;
  voices: VoiceSet;
  /** How the clips vary (data/clip.ts); absent in datasets from before profiles, which are `standard`. */
  profile: DataProfile;
  /** The espeak-ng build that spoke the clips: the two agree on timing but not bit for bit. */
  engine: EspeakEngine;
  sampleRate: number;
  countPerClass: number;
  clips: ClipRecord[];
  /** The negative stream's manifest (also `stream/stream.json`), when one was asked for. */
  stream: NegativeStreamManifest | null;
}

export interface DatasetProgress {
  done: number;
  total: number;
}

export interface DatasetOptions {
  /** Directory to create; it must not exist (or be empty). */
  outDir: string;
  keyword?: string;
  /** Clips per class (positives, negatives); 0 is allowed when only a stream is wanted. */
  count: number;
  /** Also write a negative stream of this many seconds into `stream/` (for FA/h; DESIGN §8 wants ≥ 7200). */
  streamS?: number;
  seed?: number | string;
  voices?: VoiceSet;
  /** `standard` (default; the evaluation sets) or `wide` (base training), see data/clip.ts. */
  profile?: DataProfile;
  engine?: EngineChoice;
  /**
   * Clips rendered in parallel: 1 renders in this thread, N ≥ 2 in N worker threads; each renderer keeps two
   * espeak-ng processes busy. Default: one per core (1 below 64 clips). The output does not depend on it.
   */
  jobs?: number;
  onProgress?: (progress: DatasetProgress) => void;
}

/** The output directory already holds something; nothing was written. */
export class DatasetExistsError extends Error {
  constructor(path: string) {
    super(`output directory ${path} already exists and is not empty; expected a new or empty directory`);
    this.name = 'DatasetExistsError';
  }
}

/**
 * espeak-ng processes per renderer: while one clip is being rendered (resampling, reverb, noise — the
 * main cost once espeak-ng runs as a separate process) the next one is already being spoken.
 */
const ESPEAK_PER_RENDERER = 2;

/** Below this many clips the default is to render in this thread (see `jobs`). */
const MIN_CLIPS_FOR_WORKERS = 64;

/** Utterances in the babble pool; babble mixes 4 talkers drawn from it. */
const BABBLE_POOL_SIZE = 16;

/**
 * Other speech to make babble from: sentences and phrases (never the keyword) in voices of the same set,
 * at espeak-ng's default speed and pitch.
 */
export async function buildBabblePool(
  synth: Synthesizer,
  voices: readonly string[],
  keyword: string,
  seed: number | string,
): Promise<Float32Array[]> {
  const texts = [...SENTENCES, ...PHRASES].filter((t) => !containsKeyword(t, keyword));
  const requests = Array.from({ length: BABBLE_POOL_SIZE }, (_, i) => {
    const rng = derive(seed, 'babble', i);
    return { text: rng.pick(texts), voice: rng.pick(voices) };
  });
  return mapConcurrent(requests, BABBLE_POOL_SIZE, ({ text, voice }) =>
    synth.speak(text, voice, DEFAULT_SPEED_WPM, DEFAULT_PITCH),
  );
}

/** Kinds for `count` negatives, in the shares of NEGATIVE_MIX and a seeded random order. */
function negativeKinds(count: number, rng: Rng, mix: Readonly<Record<NegativeKind, number>>): NegativeKind[] {
  const kinds = Object.keys(mix) as NegativeKind[];
  const out: NegativeKind[] = [];
  let assigned = 0;
  kinds.forEach((kind, k) => {
    // Cumulative rounding, so the shares sum to `count` exactly.
    const upTo =
      k === kinds.length - 1
        ? count
        : Math.round(count * kinds.slice(0, k + 1).reduce((s, q) => s + mix[q], 0));
    for (; assigned < upTo; assigned++) out.push(kind);
  });
  return rng.shuffled(out);
}

function planDataset(
  keyword: string,
  count: number,
  seed: number | string,
  voices: readonly string[],
  profile: DataProfile,
): ClipPlan[] {
  // Voices go round-robin over a seeded shuffle, so every voice gets its share (FRR per voice needs ≥ 100).
  const posVoices = derive(seed, 'voices', 'positive').shuffled(voices);
  const negVoices = derive(seed, 'voices', 'negative').shuffled(voices);
  const mix = profile === 'wide' ? NEGATIVE_MIX_WIDE : NEGATIVE_MIX;
  const kinds = negativeKinds(count, derive(seed, 'kinds'), mix);
  const plans: ClipPlan[] = [];
  for (let i = 0; i < count; i++) {
    plans.push(
      planPositive(derive(seed, 'plan', 'positive', i), keyword, posVoices[i % posVoices.length], profile),
    );
  }
  for (let i = 0; i < count; i++) {
    plans.push(
      planNegative(
        derive(seed, 'plan', 'negative', i),
        keyword,
        negVoices[i % negVoices.length],
        kinds[i],
        profile,
      ),
    );
  }
  return plans;
}

async function prepareTarget(outDir: string): Promise<void> {
  try {
    const info = await stat(outDir);
    if (!info.isDirectory() || (await readdir(outDir)).length > 0) throw new DatasetExistsError(outDir);
    await rmdir(outDir); // an empty directory is replaced by the rename
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Runs `fill(tmpDir)` in a fresh temporary directory next to `outDir` and renames it to `outDir` when it
 * resolves; on failure the temporary directory is removed, so a failed run leaves nothing behind.
 */
export async function writeDirectoryAtomically<T>(
  outDir: string,
  fill: (tmpDir: string) => Promise<T>,
): Promise<T> {
  const target = resolve(outDir);
  await prepareTarget(target);
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(
    dirname(target),
    `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(tmp);
  try {
    const result = await fill(tmp);
    await prepareTarget(target); // someone may have created it meanwhile
    await rename(tmp, target);
    return result;
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

export function checkDatasetOptions(options: DatasetOptions): void {
  const { count, keyword = DEFAULT_KEYWORD, jobs, streamS } = options;
  if (!Number.isInteger(count) || count < 0 || count > 1_000_000) {
    throw new RangeError(`count must be an integer 0–1000000 clips per class, got ${count}`);
  }
  if (streamS !== undefined && !(Number.isFinite(streamS) && streamS > 0 && streamS <= 86_400)) {
    throw new RangeError(`stream length must be in (0, 86400] seconds, got ${streamS}`);
  }
  if (count === 0 && streamS === undefined) {
    throw new RangeError('nothing to generate: count is 0 and no stream length was given');
  }
  if (typeof keyword !== 'string' || !/[a-z0-9]/i.test(keyword) || keyword.length > 100) {
    throw new RangeError(
      `keyword must be 1–100 characters with a letter or digit, got ${JSON.stringify(keyword)}`,
    );
  }
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)) {
    throw new RangeError(`jobs must be an integer 1–64, got ${jobs}`);
  }
}

/** Generates the dataset and returns its manifest (also written as `manifest.json`). */
export async function generateDataset(options: DatasetOptions): Promise<DatasetManifest> {
  checkDatasetOptions(options);
  const keyword = options.keyword ?? DEFAULT_KEYWORD;
  const seed = String(options.seed ?? 1);
  const voiceSet = options.voices ?? 'base';
  const voices = voicesOf(voiceSet);
  // Worker threads pay from a few dozen clips on: each spends ≈ 1 s loading the TypeScript sources.
  const jobs = options.jobs ?? (options.count * 2 >= MIN_CLIPS_FOR_WORKERS ? defaultJobs() : 1);
  const synth = createSynthesizer(options.engine, ESPEAK_PER_RENDERER * jobs);
  const profile = options.profile ?? 'standard';
  const plans = planDataset(keyword, options.count, seed, voices, profile);
  const streamS = options.streamS ?? 0;
  // Progress counts clips, and a stream as one unit per second of it.
  const total = plans.length + Math.round(streamS);
  let done = 0;
  options.onProgress?.({ done, total });

  return writeDirectoryAtomically(options.outDir, async (dir) => {
    if (plans.length > 0) {
      await mkdir(join(dir, 'positive'));
      await mkdir(join(dir, 'negative'));
    }
    const babble = await buildBabblePool(synth, voices, keyword, seed);
    const tasks: ClipTask[] = plans.map((plan, i) => {
      const index = plan.label === 1 ? i : i - options.count;
      const file = plan.label === 1 ? `positive/pos-${pad(index)}.wav` : `negative/neg-${pad(index)}.wav`;
      return { plan, index, file };
    });
    const progress = (record: ClipRecord): ClipRecord => {
      options.onProgress?.({ done: ++done, total });
      return record;
    };
    let clips: ClipRecord[];
    if (jobs === 1 || tasks.length === 0) {
      // One more clip in flight than espeak-ng processes, so a process is always running while we render.
      const context = { synth, babble, seed, dir };
      clips = await mapConcurrent(tasks, ESPEAK_PER_RENDERER + 1, async (task) =>
        progress(await produceClip(task, context)),
      );
    } else {
      const pool = new RenderPool(jobs, {
        engine: synth.engine,
        jobs: ESPEAK_PER_RENDERER,
        babble,
        seed,
        dir,
      });
      try {
        clips = await mapConcurrent(tasks, jobs * (ESPEAK_PER_RENDERER + 1), async (task) =>
          progress(await pool.run(task)),
        );
      } finally {
        await pool.close();
      }
    }
    let stream: NegativeStreamManifest | null = null;
    if (streamS > 0) {
      await mkdir(join(dir, 'stream'));
      const before = done;
      stream = await writeNegativeStream(join(dir, 'stream'), {
        durationS: streamS,
        keyword,
        seed,
        voices,
        synth,
        babble,
        onProgress: (doneS) => {
          done = before + Math.round(doneS);
          options.onProgress?.({ done, total });
        },
      });
    }
    const manifest: DatasetManifest = {
      version: MANIFEST_VERSION,
      keyword,
      seed,
      voices: voiceSet,
      profile,
      engine: synth.engine,
      sampleRate: SAMPLE_RATE,
      countPerClass: options.count,
      clips,
      stream,
    };
    await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    return manifest;
  });
}

function pad(i: number): string {
  return String(i).padStart(5, '0');
}
