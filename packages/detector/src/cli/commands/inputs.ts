/**
 * Reading the files the model commands take (train-base, detect, export), with every failure as a one-line
 * `UsageError` naming the path (exit code 2).
 */
import { readFile } from 'node:fs/promises';
import { AudioFormatError, decodeWav, toMono16k } from '@kws/audio';
import { BASE_MODEL_PATH, readDetectorModel } from '../../model/base-model.ts';
import { DetectorModelError } from '../../model/header.ts';
import type { DetectorModel } from '../../model/model-file.ts';
import { UsageError } from '../command.ts';

/** The model at `path` (default: the committed base model). */
export async function readModelArg(
  path: string | undefined,
): Promise<{ model: DetectorModel; bytes: Uint8Array }> {
  try {
    return await readDetectorModel(path ?? BASE_MODEL_PATH);
  } catch (error) {
    if (error instanceof DetectorModelError) throw new UsageError(error.message);
    throw error;
  }
}

/** A WAV file as mono samples at 16 kHz. Decoding errors are AudioFormatErrors (also exit code 2). */
export async function readWavArg(path: string): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new UsageError(`cannot read ${path}: ${reason}`);
  }
  try {
    return toMono16k(decodeWav(bytes));
  } catch (error) {
    // Name the file: with several inputs the decoder's message alone would not say which one is bad.
    if (error instanceof AudioFormatError) throw new UsageError(`${path}: ${error.message}`);
    throw error;
  }
}

/** A positive integer option, or `fallback` when absent. */
export function integerOption(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** A number option within (lo, hi] or [lo, hi] as `inclusiveLow` says, or `fallback` when absent. */
export function numberOption(
  name: string,
  text: string | undefined,
  fallback: number | undefined,
  lo: number,
  hi: number,
  inclusiveLow = false,
): number | undefined {
  if (text === undefined) return fallback;
  const v = Number(text);
  const ok = text.trim() !== '' && Number.isFinite(v) && (inclusiveLow ? v >= lo : v > lo) && v <= hi;
  if (!ok) {
    throw new UsageError(
      `--${name} must be a number in ${inclusiveLow ? '[' : '('}${lo}, ${hi}], got ${JSON.stringify(text)}`,
    );
  }
  return v;
}
