/**
 * Personalization quality and latency on held-out voices (MODEL.md): for each held-out voice of a `kws synth
 * --voices heldout` dataset, 5 of its keyword clips enroll — the first five that are the keyword alone (no
 * command after it) with no noise or noise at ≥ 15 dB SNR, as an enrollment screen would ask for — and the
 * rest of its keyword clips (and the dataset's negatives) measure the base and the personalized model at
 * their own thresholds. With --stream, each user model's false accepts per hour on that negative stream too
 * (`kws eval`'s measurement).
 *
 *   node --import tsx models/measure-personalize.ts HELDOUT_DIR [--stream DIR] [--voices A,B] [--base B.kws]
 *     [--replay R.kwsr] [--steps N] [--set KEY=VALUE ...] [--seed S]
 *
 * The seed of each voice's job is the voice's name (with --seed S: `voice/S`, another held-out clip and other
 * batches). --set overrides a numeric field of PERSONALIZE_DEFAULTS for this run only (e.g. `--set copiesPerClip=16
 * --set learningRate=1e-3`): how the settings in MODEL.md were compared without editing the defaults.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeWav, toMono16k } from '@kws/audio';
import { detect } from '../src/detect/detector.ts';
import { evaluateModel } from '../src/eval/evaluate.ts';
import { BASE_MODEL_PATH } from '../src/model/base-model.ts';
import { loadDetectorModel } from '../src/model/model-file.ts';
import { PERSONALIZE_DEFAULTS, personalize } from '../src/personalize/personalize.ts';
import { BASE_REPLAY_PATH } from '../src/personalize/replay.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    stream: { type: 'string' },
    voices: { type: 'string' },
    base: { type: 'string', default: BASE_MODEL_PATH },
    replay: { type: 'string', default: BASE_REPLAY_PATH },
    steps: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    seed: { type: 'string' },
  },
});
const [dir] = positionals;
if (!dir) {
  process.stderr.write(
    'usage: measure-personalize.ts HELDOUT_DIR [--stream DIR] [--voices A,B] [--base B.kws] [--replay R.kwsr] [--steps N] [--set KEY=VALUE ...] [--seed S]\n',
  );
  process.exit(2);
}
const { base: basePath, replay, steps: stepsText, stream } = values;
const defaults = PERSONALIZE_DEFAULTS as unknown as Record<string, unknown>;
for (const setting of values.set) {
  const [key, text] = setting.split('=');
  if (typeof defaults[key] !== 'number' || !Number.isFinite(Number(text))) {
    process.stderr.write(`--set ${setting}: not a numeric PERSONALIZE_DEFAULTS field and value\n`);
    process.exit(2);
  }
  defaults[key] = Number(text);
}
const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
  clips: {
    file: string;
    label: number;
    voice: string;
    followText: string | null;
    augmentation: { noise: { snrDb: number } | null };
  }[];
};
const load = async (file: string) => toMono16k(decodeWav(await readFile(join(dir, file))));
const baseBytes = await readFile(basePath);
const base = loadDetectorModel(baseBytes);
const negatives = await Promise.all(manifest.clips.filter((c) => c.label === 0).map((c) => load(c.file)));
const voices = [...new Set(manifest.clips.filter((c) => c.label === 1).map((c) => c.voice))]
  .filter((v) => values.voices === undefined || values.voices.split(',').some((name) => v.endsWith(name)))
  .sort();
/** False accepts per hour on the stream at the model's own threshold (the positives only feed the DET curve). */
const streamFa = async (model: typeof base) =>
  stream === undefined
    ? null
    : (await evaluateModel({ model, positivesDir: dir, negativesDir: stream })).fa_per_hour;
const baseFa = await streamFa(base);
const rate = (scores: number[], t: number, below: boolean) =>
  scores.filter((s) => (below ? s < t : s >= t)).length / scores.length;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const rows: string[] = [];
for (const voice of voices) {
  const ofVoice = manifest.clips.filter((c) => c.label === 1 && c.voice === voice);
  const enrollable = (c: (typeof ofVoice)[number]) =>
    c.followText === null && (c.augmentation.noise === null || c.augmentation.noise.snrDb >= 15);
  const enrollClips = ofVoice.filter(enrollable).slice(0, 5);
  const enroll = await Promise.all(enrollClips.map((c) => load(c.file)));
  const test = await Promise.all(ofVoice.filter((c) => !enrollClips.includes(c)).map((c) => load(c.file)));
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const result = await personalize({
    base: baseBytes,
    replay,
    clips: enroll,
    seed: values.seed === undefined ? voice : `${voice}/${values.seed}`,
    steps: stepsText === undefined ? undefined : Number(stepsText),
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const user = loadDetectorModel(result.model);
  const score = (m: typeof base, audio: Float32Array[]) => audio.map((a) => detect(m, a).score);
  const baseP = score(base, test);
  const userP = score(user, test);
  const baseN = score(base, negatives);
  const userN = score(user, negatives);
  const bt = base.header.threshold;
  const ut = user.header.threshold;
  const userFa = await streamFa(user);
  const fa = userFa === null ? '' : ` ${baseFa} | ${userFa} |`;
  rows.push(
    `| ${voice} | ${test.length} | ${pct(rate(baseP, bt, true))} | ${pct(rate(userP, ut, true))} (t=${ut.toFixed(2)}) | ` +
      `${pct(rate(baseN, bt, false))} | ${pct(rate(userN, ut, false))} |${fa} ${seconds.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s) |`,
  );
  process.stderr.write(`${rows.at(-1)}\n`);
}
const faColumns = stream === undefined ? ['', ''] : [' FA/h base | FA/h personalized |', '---|---|'];
process.stdout.write(
  `| voice | test positives | FRR base | FRR personalized | negative clips firing, base | personalized |${faColumns[0]} time |\n` +
    `|---|---|---|---|---|---|${faColumns[1]}---|\n${rows.join('\n')}\n`,
);
