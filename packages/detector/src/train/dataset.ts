/**
 * Training material as MFCC features: a `kws synth` dataset directory (manifest.json + WAVs) is read once
 * and kept as features, ~8 KB per clip instead of ~50 KB of audio, and windows are cut from them at frame
 * boundaries (a window starting at frame f is exactly the MFCC of the audio starting at sample f · hop).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeWav, type FeatureConfig, mfcc, resolveFeatureConfig, toMono16k } from '@kws/audio';
import { derive } from '../data/random.ts';

/** One clip's features and, for a positive, where the keyword is. */
export interface FeatureClip {
  /** Where it came from (a dataset-relative path, or a name the caller chose). */
  file: string;
  label: 0 | 1;
  frames: number;
  /** [frames, num_mfcc], row-major. */
  features: Float32Array;
  /** Positives: seconds from the clip start to the keyword's first and last active frame. */
  keywordStartS: number | null;
  keywordEndS: number | null;
}

/** A dataset that cannot be used for training: the message names the file and the field. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

export interface ClipAudio {
  file: string;
  label: 0 | 1;
  /** Mono audio at `featureConfig.sample_rate`. */
  samples: Float32Array;
  keywordStartS?: number | null;
  keywordEndS?: number | null;
}

export function toFeatureClip(clip: ClipAudio, featureConfig: FeatureConfig): FeatureClip {
  const { label, file } = clip;
  const start = clip.keywordStartS ?? null;
  const end = clip.keywordEndS ?? null;
  const duration = clip.samples.length / featureConfig.sample_rate;
  if (label === 1) {
    if (start === null || end === null || !(start >= 0 && end > start && end <= duration + 1e-3)) {
      throw new DatasetError(
        `${file}: a positive needs 0 ≤ keywordStartS < keywordEndS ≤ its duration ${duration.toFixed(3)} s; ` +
          `received ${start} and ${end}`,
      );
    }
  }
  const { frames, data } = mfcc(clip.samples, featureConfig);
  return {
    file,
    label,
    frames,
    features: data,
    keywordStartS: label === 1 ? start : null,
    keywordEndS: label === 1 ? end : null,
  };
}

export interface LoadedDataset {
  keyword: string;
  clips: FeatureClip[];
}

export interface LoadOptions {
  featureConfig?: Partial<FeatureConfig>;
  /**
   * Also read the dataset's negative stream (`stream/stream.wav`, when it has one) as negatives cut into
   * pieces of this many seconds: running speech over noise, the material false accepts come from.
   */
  streamPieceS?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The dataset's stream (see `LoadOptions.streamPieceS`) as negative clips of `pieceS` seconds each. */
async function loadStreamPieces(
  dir: string,
  pieceS: number,
  featureConfig: FeatureConfig,
): Promise<FeatureClip[]> {
  const path = join(dir, 'stream', 'stream.wav');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    return []; // no stream in this dataset
  }
  const { frames, data } = mfcc(toMono16k(decodeWav(bytes)), featureConfig);
  const n = featureConfig.num_mfcc;
  const per = Math.max(1, Math.round((pieceS * featureConfig.sample_rate) / featureConfig.frame_step));
  const pieces: FeatureClip[] = [];
  for (let from = 0; from < frames; from += per) {
    const count = Math.min(per, frames - from);
    pieces.push({
      file: `stream/stream.wav@${((from * featureConfig.frame_step) / featureConfig.sample_rate).toFixed(2)}`,
      label: 0,
      frames: count,
      features: data.subarray(from * n, (from + count) * n),
      keywordStartS: null,
      keywordEndS: null,
    });
  }
  return pieces;
}

interface ManifestClip {
  file: string;
  label: 0 | 1;
  keywordStartS: number | null;
  keywordEndS: number | null;
}

function readManifest(text: string, path: string): { keyword: string; clips: ManifestClip[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DatasetError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const m = json as { keyword?: unknown; clips?: unknown };
  if (typeof m?.keyword !== 'string' || !Array.isArray(m.clips)) {
    throw new DatasetError(`${path} must hold { keyword: string, clips: [...] } as kws synth writes it`);
  }
  const clips = m.clips.map((c: Record<string, unknown>, i: number): ManifestClip => {
    const where = `${path}: clips[${i}]`;
    if (typeof c?.file !== 'string' || c.file.includes('..')) {
      throw new DatasetError(
        `${where}.file must be a path inside the dataset; received ${JSON.stringify(c?.file)}`,
      );
    }
    if (c.label !== 0 && c.label !== 1) {
      throw new DatasetError(`${where}.label must be 0 or 1; received ${JSON.stringify(c.label)}`);
    }
    const time = (key: 'keywordStartS' | 'keywordEndS'): number | null => {
      const v = c[key];
      if (v === null || v === undefined) return null;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new DatasetError(`${where}.${key} must be a number or null; received ${JSON.stringify(v)}`);
      }
      return v;
    };
    return {
      file: c.file,
      label: c.label,
      keywordStartS: time('keywordStartS'),
      keywordEndS: time('keywordEndS'),
    };
  });
  return { keyword: m.keyword, clips };
}

/** Reads `dir/manifest.json` and every clip it lists, as features. */
export async function loadDataset(dir: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const featureConfig = resolveFeatureConfig(options.featureConfig);
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(
      code === 'ENOENT'
        ? `no manifest.json in ${dir}; expected a dataset directory written by kws synth`
        : `cannot read ${manifestPath}: ${(error as Error).message}`,
    );
  }
  const manifest = readManifest(text, manifestPath);
  const clips: FeatureClip[] =
    options.streamPieceS === undefined
      ? []
      : await loadStreamPieces(dir, options.streamPieceS, featureConfig);
  if (manifest.clips.length === 0 && clips.length === 0) {
    throw new DatasetError(`${manifestPath} lists no clips`);
  }
  for (const [i, c] of manifest.clips.entries()) {
    options.signal?.throwIfAborted();
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(dir, c.file));
    } catch (error) {
      throw new DatasetError(
        `cannot read clip ${c.file} listed in ${manifestPath}: ${(error as Error).message}`,
      );
    }
    let samples: Float32Array;
    try {
      samples = toMono16k(decodeWav(bytes));
    } catch (error) {
      throw new DatasetError(`${join(dir, c.file)}: ${(error as Error).message}`);
    }
    clips.push(toFeatureClip({ ...c, samples }, featureConfig));
    options.onProgress?.(i + 1, manifest.clips.length);
  }
  return { keyword: manifest.keyword, clips };
}

/**
 * A seeded split per label: `fraction` of the positives and of the negatives (at least one of each when
 * there are two or more) go to validation, the rest to training.
 */
export function splitClips(
  clips: readonly FeatureClip[],
  fraction: number,
  seed: number | string,
): { train: FeatureClip[]; validation: FeatureClip[] } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`validation fraction must be in [0, 1), got ${fraction}`);
  }
  const train: FeatureClip[] = [];
  const validation: FeatureClip[] = [];
  for (const label of [1, 0] as const) {
    const group = derive(seed, 'split', label).shuffled(clips.filter((c) => c.label === label));
    const count =
      fraction === 0 ? 0 : Math.max(group.length >= 2 ? 1 : 0, Math.round(fraction * group.length));
    validation.push(...group.slice(0, count));
    train.push(...group.slice(count));
  }
  return { train, validation };
}
