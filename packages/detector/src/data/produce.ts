/**
 * Producing one dataset clip end to end: synthesize its utterances, render the plan, write the WAV, and
 * describe it for the manifest. The same function runs in the main thread or in a render worker.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from '@kws/audio';
import { SAMPLE_RATE } from './augment.ts';
import { type AugmentationParams, type ClipKind, type ClipPlan, renderClip, speechRequests } from './clip.ts';
import type { Synthesizer } from './espeak.ts';
import { derive } from './random.ts';

export interface ClipRecord {
  /** Path relative to the dataset directory, e.g. `positive/pos-00003.wav`. */
  file: string;
  label: 0 | 1;
  kind: ClipKind;
  text: string;
  followText: string | null;
  precedeText: string | null;
  voice: string | null;
  /** espeak-ng words per minute and pitch (0–99), null for silence and noise clips. */
  speed: number | null;
  pitch: number | null;
  augmentation: AugmentationParams;
  durationS: number;
  /** Positives: the keyword's first and last active 10 ms frame edges in the clip, seconds. */
  keywordStartS: number | null;
  keywordEndS: number | null;
}

export interface ClipTask {
  plan: ClipPlan;
  /** Index within its class; with the seed and label it selects the clip's rendering stream. */
  index: number;
  /** Path relative to the dataset directory. */
  file: string;
}

export interface ClipContext {
  synth: Synthesizer;
  babble: readonly Float32Array[];
  seed: string;
  /** Directory the clip's `file` is relative to. */
  dir: string;
}

export async function produceClip(task: ClipTask, context: ClipContext): Promise<ClipRecord> {
  const { plan, index, file } = task;
  const speech = await Promise.all(
    speechRequests(plan).map((text) =>
      context.synth.speak(text, plan.voice as string, plan.speedWpm as number, plan.pitch as number),
    ),
  );
  const render = renderClip(plan, speech, derive(context.seed, 'render', plan.label, index), context.babble);
  await writeFile(join(context.dir, file), encodeWav(render.samples, SAMPLE_RATE));
  return {
    file,
    label: plan.label,
    kind: plan.kind,
    text: plan.text,
    followText: plan.followText,
    precedeText: plan.precedeText,
    voice: plan.voice,
    speed: plan.speedWpm,
    pitch: plan.pitch,
    augmentation: render.augmentation,
    durationS: Math.round((render.samples.length / SAMPLE_RATE) * 1e4) / 1e4,
    keywordStartS: render.keywordStartS,
    keywordEndS: render.keywordEndS,
  };
}
