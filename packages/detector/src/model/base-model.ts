/**
 * Where the committed base model lives (DESIGN §4: `packages/detector/models/base.kws`, the default of every
 * command's `--model` / `--base`), and reading a model file from disk with errors that name the path.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DetectorModelError } from './header.ts';
import { type DetectorModel, isModelInputError, loadDetectorModel } from './model-file.ts';

export const BASE_MODEL_PATH = fileURLToPath(new URL('../../models/base.kws', import.meta.url));

/** Reads and loads a `.kws` detector; every failure is a DetectorModelError naming `path`. */
export async function readDetectorModel(path: string): Promise<{ model: DetectorModel; bytes: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? path === BASE_MODEL_PATH
          ? 'no such file (the base model is not built yet: run kws train-base, or pass --model)'
          : 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (error as Error).message;
    throw new DetectorModelError(`cannot read model ${path}: ${reason}`);
  }
  try {
    return { model: loadDetectorModel(bytes), bytes };
  } catch (error) {
    if (isModelInputError(error)) throw new DetectorModelError(`${path}: ${error.message}`);
    throw error;
  }
}
