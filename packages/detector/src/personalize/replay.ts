/**
 * The replay set: MFCC windows of the base set's negatives, shipped next to the base model
 * (`models/base-replay.kwsr`) so personalization can replay them (DESIGN: fine-tuning on a handful of
 * keyword clips alone would teach the model that everything is the keyword) without espeak-ng or the
 * base dataset at hand.
 *
 * File: bytes `KWSR`, uint32 little-endian header length, UTF-8 JSON header `{ format_version, feature_config,
 * frames, num_mfcc, count, scales, sources }`, zero padding to 16 bytes, then int8 features
 * [count, frames, num_mfcc], each coefficient symmetric-quantized with its own scale (`value = scales[c] · q`;
 * coefficient 0, the log energy, spans a far larger range than the others).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type FeatureConfig, resolveFeatureConfig } from '@kws/audio';
import { derive } from '../data/random.ts';
import type { FeatureClip } from '../train/dataset.ts';
import { sampleWindowStart, type WindowGeometry } from '../train/windows.ts';

export const REPLAY_MAGIC = 'KWSR';
export const REPLAY_FORMAT_VERSION = 1;
export const BASE_REPLAY_PATH = fileURLToPath(new URL('../../models/base-replay.kwsr', import.meta.url));

export interface ReplaySet {
  featureConfig: FeatureConfig;
  /** Negative windows, each exactly `frames` MFCC frames. */
  clips: FeatureClip[];
  /** Where the windows came from (free-form, for the record). */
  sources: Record<string, unknown>;
}

/** A replay file that cannot be read: the message says what was received and what was expected. */
export class ReplaySetError extends Error {
  override name = 'ReplaySetError';
}

/**
 * Cuts one window of `g.inputFrames` frames out of each negative (placed by the seed), quantizes and encodes
 * them.
 */
export function encodeReplaySet(
  negatives: readonly FeatureClip[],
  g: WindowGeometry,
  seed: number | string,
  sources: Record<string, unknown> = {},
): Uint8Array {
  const n = g.numMfcc;
  const t = g.inputFrames;
  if (negatives.length === 0) throw new RangeError('a replay set needs at least one negative clip');
  const windows = negatives.map((clip, i) => {
    if (clip.label !== 0)
      throw new RangeError(`replay clip ${clip.file} is a positive; expected negatives only`);
    const start = sampleWindowStart(clip, g, derive(seed, 'replay', i));
    const out = new Float32Array(t * n);
    for (let f = 0; f < t; f++) {
      const src = Math.min(clip.frames - 1, Math.max(0, start + f));
      out.set(clip.features.subarray(src * n, src * n + n), f * n);
    }
    return out;
  });
  const scales = Array.from({ length: n }, (_, c) => {
    let max = 0;
    for (const w of windows) for (let f = 0; f < t; f++) max = Math.max(max, Math.abs(w[f * n + c]));
    return max === 0 ? 1 : max / 127;
  });
  const header = new TextEncoder().encode(
    JSON.stringify({
      format_version: REPLAY_FORMAT_VERSION,
      feature_config: g.featureConfig,
      frames: t,
      num_mfcc: n,
      count: windows.length,
      scales,
      sources,
    }),
  );
  const dataStart = Math.ceil((8 + header.length) / 16) * 16;
  const bytes = new Uint8Array(dataStart + windows.length * t * n);
  bytes.set(new TextEncoder().encode(REPLAY_MAGIC), 0);
  new DataView(bytes.buffer).setUint32(4, header.length, true);
  bytes.set(header, 8);
  const q = new Int8Array(bytes.buffer, dataStart);
  windows.forEach((w, i) => {
    for (let k = 0; k < t * n; k++) q[i * t * n + k] = Math.round(w[k] / scales[k % n]);
  });
  return bytes;
}

export function decodeReplaySet(bytes: Uint8Array, where = 'replay set'): ReplaySet {
  const fail = (what: string): never => {
    throw new ReplaySetError(`${where}: ${what}`);
  };
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== REPLAY_MAGIC) {
    fail(`expected a file starting with ${REPLAY_MAGIC}; received ${bytes.length} bytes starting otherwise`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  if (8 + headerLength > bytes.length) {
    fail(`header says ${headerLength} bytes but only ${bytes.length - 8} remain`);
  }
  let header: Record<string, unknown> = {};
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    fail(`header is not JSON: ${(error as Error).message}`);
  }
  const { format_version: version, frames, num_mfcc: n, count, scales } = header;
  if (version !== REPLAY_FORMAT_VERSION) {
    fail(`format_version ${JSON.stringify(version)} is not the supported ${REPLAY_FORMAT_VERSION}`);
  }
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!positiveInt(frames) || !positiveInt(n) || !positiveInt(count)) {
    fail(`frames, num_mfcc and count must be integers > 0; received ${frames}, ${n} and ${count}`);
  }
  if (!Array.isArray(scales) || scales.length !== n || !scales.every((s) => typeof s === 'number' && s > 0)) {
    fail(`scales must be ${n} numbers > 0`);
  }
  const t = frames as number;
  const c = n as number;
  const dataStart = Math.ceil((8 + headerLength) / 16) * 16;
  const size = (count as number) * t * c;
  if (bytes.length - dataStart !== size) {
    fail(`${count} windows of ${t}×${c} need ${size} data bytes; the file holds ${bytes.length - dataStart}`);
  }
  let featureConfig: FeatureConfig = resolveFeatureConfig({});
  try {
    featureConfig = resolveFeatureConfig(header.feature_config as Partial<FeatureConfig>);
  } catch (error) {
    fail(`feature_config: ${(error as Error).message}`);
  }
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + dataStart, size);
  const s = scales as number[];
  const clips: FeatureClip[] = Array.from({ length: count as number }, (_, i) => {
    const features = new Float32Array(t * c);
    for (let k = 0; k < t * c; k++) features[k] = q[i * t * c + k] * s[k % c];
    return { file: `replay/${i}`, label: 0, frames: t, features, keywordStartS: null, keywordEndS: null };
  });
  return { featureConfig, clips, sources: (header.sources ?? {}) as Record<string, unknown> };
}

/** Reads a replay file (default: the one committed next to the base model). */
export async function readReplaySet(path: string = BASE_REPLAY_PATH): Promise<ReplaySet> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ReplaySetError(`cannot read replay set ${path}: ${(error as Error).message}`);
  }
  return decodeReplaySet(bytes, path);
}
