/** Extra negatives for personalization from a directory of WAVs (label-0 clips of a dataset, or any audio). */
import { readFile } from 'node:fs/promises';
import { AudioFormatError, decodeWav, type FeatureConfig, toMono16k } from '@kws/audio';
import { EvalInputError, listLabelledWavs } from '../eval/files.ts';
import { type FeatureClip, toFeatureClip } from '../train/dataset.ts';
import { PersonalizeInputError } from './enrollment.ts';

/** At most this many seconds of a negative file are used (a long stream would swamp the user's clips). */
const MAX_NEGATIVE_S = 30;

export async function loadNegativeClips(
  dir: string,
  featureConfig: FeatureConfig,
  signal?: AbortSignal,
): Promise<FeatureClip[]> {
  let files: Awaited<ReturnType<typeof listLabelledWavs>>;
  try {
    files = await listLabelledWavs(dir, 0);
  } catch (error) {
    if (error instanceof EvalInputError) throw new PersonalizeInputError(`negatives: ${error.message}`);
    throw error;
  }
  const clips: FeatureClip[] = [];
  for (const { path } of files) {
    signal?.throwIfAborted();
    let samples: Float32Array;
    try {
      samples = toMono16k(decodeWav(await readFile(path)));
    } catch (error) {
      if (error instanceof AudioFormatError)
        throw new PersonalizeInputError(`negatives: ${path}: ${error.message}`);
      throw error;
    }
    const cut = samples.subarray(0, Math.min(samples.length, MAX_NEGATIVE_S * featureConfig.sample_rate));
    clips.push(toFeatureClip({ file: path, label: 0, samples: cut }, featureConfig));
  }
  return clips;
}
