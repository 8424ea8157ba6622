/**
 * The long negative stream for false-accepts-per-hour: non-keyword speech (confusables, words, phrases,
 * sentences) separated by pauses, over continuous background noise, written to disk block by block so a
 * 2-hour stream (DESIGN §8's minimum) never sits in memory — the process holds one 30 s block and a few
 * utterances at a time.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyGain, changeSpeed, quantizeSpeed, reverb, SAMPLE_RATE } from './augment.ts';
import { activePower, trimSilence } from './envelope.ts';
import type { Synthesizer } from './espeak.ts';
import { makeNoise, NOISE_KINDS, type NoiseKind } from './noise.ts';
import { mapConcurrent } from './parallel.ts';
import { type NegativeKind, negativeTexts } from './phrases.ts';
import { derive } from './random.ts';
import { WavStreamWriter } from './wav-writer.ts';

export const STREAM_WAV = 'stream.wav';
export const STREAM_MANIFEST = 'stream.json';

/** Noise changes kind and level every block; 30 s keeps those steps rare and the buffer small (1.9 MB). */
const BLOCK_S = 30;
/**
 * Speech is levelled to this active RMS before its random gain, so the block SNR means the same everywhere.
 * espeak-ng's peaks sit up to ≈ 18 dB over its active RMS, so −26 dBFS (+3 dB gain) stays clear of full scale.
 */
const SPEECH_LEVEL_DBFS = -26;
/** Utterance peaks are held under this, leaving headroom for the noise added on top. */
const SPEECH_PEAK = 0.7;
const STREAM_RANGES = {
  pauseS: [0.3, 3],
  speedWpm: [130, 210],
  pitch: [25, 75],
  gainDb: [-6, 3],
  speedFactor: [0.9, 1.1],
  reverbProbability: 0.3,
  rt60S: [0.15, 0.7],
  wet: [0.1, 0.5],
  snrDb: [5, 30],
} as const;
/** Speech kinds in the stream, weighted toward the confusable and sentence material FA/h is about. */
const STREAM_KINDS: readonly (readonly [Exclude<NegativeKind, 'silence' | 'noise'>, number])[] = [
  ['confusable', 0.3],
  ['word', 0.15],
  ['phrase', 0.25],
  ['sentence', 0.3],
];

export interface StreamSegment {
  /** Active speech span in the stream, seconds. */
  startS: number;
  endS: number;
  kind: NegativeKind;
  text: string;
  voice: string;
}

export interface StreamBlockNoise {
  kind: NoiseKind;
  snrDb: number;
}

export interface NegativeStreamManifest {
  keyword: string;
  seed: string;
  engine: string;
  sampleRate: number;
  durationS: number;
  /** Total active speech, seconds. */
  speechS: number;
  blockS: number;
  /** Noise of block b covers [b·blockS, (b+1)·blockS). */
  noise: StreamBlockNoise[];
  segments: StreamSegment[];
}

export interface NegativeStreamOptions {
  durationS: number;
  keyword: string;
  seed: string;
  voices: readonly string[];
  synth: Synthesizer;
  babble: readonly Float32Array[];
  onProgress?: (doneS: number, totalS: number) => void;
}

interface Utterance {
  audio: Float32Array;
  kind: NegativeKind;
  text: string;
  voice: string;
  pauseBefore: number;
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

async function speakSegment(options: NegativeStreamOptions, k: number, voice: string): Promise<Utterance> {
  const r = STREAM_RANGES;
  const rng = derive(options.seed, 'stream', k);
  let u = rng.next();
  let kind = STREAM_KINDS[STREAM_KINDS.length - 1][0];
  for (const [candidate, share] of STREAM_KINDS) {
    if (u < share) {
      kind = candidate;
      break;
    }
    u -= share;
  }
  const text = rng.pick(negativeTexts(kind, options.keyword));
  const speed = r.speedWpm[0] + rng.int(r.speedWpm[1] - r.speedWpm[0] + 1);
  const pitch = r.pitch[0] + rng.int(r.pitch[1] - r.pitch[0] + 1);
  const pauseBefore = Math.round(rng.uniform(r.pauseS[0], r.pauseS[1]) * SAMPLE_RATE);
  const speedFactor = quantizeSpeed(rng.uniform(r.speedFactor[0], r.speedFactor[1]));
  const room = rng.chance(r.reverbProbability)
    ? { rt60S: rng.uniform(r.rt60S[0], r.rt60S[1]), wet: rng.uniform(r.wet[0], r.wet[1]) }
    : null;
  const gainDb = rng.uniform(r.gainDb[0], r.gainDb[1]);

  let audio = trimSilence(await options.synth.speak(text, voice, speed, pitch));
  audio = changeSpeed(audio, speedFactor);
  if (room !== null) {
    // Room for the tail, then trim again so the recorded span is where the (reverberant) speech is.
    const padded = new Float32Array(audio.length + Math.round(room.rt60S * SAMPLE_RATE));
    padded.set(audio);
    audio = trimSilence(reverb(padded, room, rng));
  }
  const power = activePower(audio);
  let levelDb = power > 0 ? SPEECH_LEVEL_DBFS + gainDb - 10 * Math.log10(power) : 0;
  let peak = 0;
  for (let i = 0; i < audio.length; i++) peak = Math.max(peak, Math.abs(audio[i]));
  if (peak > 0) levelDb = Math.min(levelDb, 20 * Math.log10(SPEECH_PEAK / peak));
  return { audio: applyGain(audio, levelDb), kind, text, voice, pauseBefore };
}

/**
 * Writes `dir/stream.wav` and `dir/stream.json`. Utterances are synthesized a batch at a time (in parallel,
 * through `synth`) and laid out in order, so the result does not depend on the degree of parallelism.
 */
export async function writeNegativeStream(
  dir: string,
  options: NegativeStreamOptions,
): Promise<NegativeStreamManifest> {
  const { durationS, seed } = options;
  if (!(Number.isFinite(durationS) && durationS > 0 && durationS <= 24 * 3600)) {
    throw new RangeError(`stream duration must be in (0, 86400] seconds, got ${durationS}`);
  }
  const total = Math.round(durationS * SAMPLE_RATE);
  const blockLength = BLOCK_S * SAMPLE_RATE;
  const voiceOrder = derive(seed, 'stream', 'voices').shuffled(options.voices);
  const writer = await WavStreamWriter.create(join(dir, STREAM_WAV), SAMPLE_RATE);
  const segments: StreamSegment[] = [];
  const noise: StreamBlockNoise[] = [];
  let speechSamples = 0;
  let block = new Float32Array(Math.min(blockLength, total));
  let blockStart = 0; // stream position of block[0]
  let fill = 0; // samples of the current block laid out so far

  const flush = async (): Promise<void> => {
    const b = noise.length;
    const rng = derive(seed, 'stream', 'noise', b);
    const kind = rng.pick(NOISE_KINDS);
    const snrDb = rng.uniform(STREAM_RANGES.snrDb[0], STREAM_RANGES.snrDb[1]);
    const unit = makeNoise(kind, block.length, rng, options.babble);
    const g = 10 ** ((SPEECH_LEVEL_DBFS - snrDb) / 20);
    for (let i = 0; i < block.length; i++) block[i] += g * unit[i];
    noise.push({ kind, snrDb: round4(snrDb) });
    await writer.append(block);
    blockStart += block.length;
    fill = 0;
    options.onProgress?.(blockStart / SAMPLE_RATE, durationS);
    block = new Float32Array(Math.min(blockLength, total - blockStart));
  };
  /** Lays out `count` samples (zeros when `audio` is null), flushing full blocks; false once the stream is full. */
  const put = async (audio: Float32Array | null, count: number): Promise<boolean> => {
    let from = 0;
    while (from < count) {
      if (blockStart >= total) return false;
      const n = Math.min(count - from, block.length - fill);
      if (audio !== null) block.set(audio.subarray(from, from + n), fill);
      fill += n;
      from += n;
      if (fill === block.length) await flush();
    }
    return blockStart < total;
  };

  try {
    const batch = 8;
    let k = 0;
    let open = true;
    while (open) {
      const ids = Array.from({ length: batch }, (_, j) => k + j);
      const utterances = await mapConcurrent(ids, batch, (id) =>
        speakSegment(options, id, voiceOrder[id % voiceOrder.length]),
      );
      k += batch;
      for (const u of utterances) {
        if (!(await put(null, u.pauseBefore))) {
          open = false;
          break;
        }
        const start = blockStart + fill;
        const end = Math.min(total, start + u.audio.length);
        segments.push({
          startS: round4(start / SAMPLE_RATE),
          endS: round4(end / SAMPLE_RATE),
          kind: u.kind,
          text: u.text,
          voice: u.voice,
        });
        speechSamples += end - start;
        if (!(await put(u.audio, u.audio.length))) {
          open = false;
          break;
        }
      }
    }
  } finally {
    await writer.close();
  }
  const manifest: NegativeStreamManifest = {
    keyword: options.keyword,
    seed,
    engine: options.synth.engine,
    sampleRate: SAMPLE_RATE,
    durationS: round4(total / SAMPLE_RATE),
    speechS: round4(speechSamples / SAMPLE_RATE),
    blockS: BLOCK_S,
    noise,
    segments,
  };
  await writeFile(join(dir, STREAM_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}
