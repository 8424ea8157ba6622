/**
 * Decision rules over consecutive window scores (MODEL.md, "Decision rules over several hops"), measured
 * offline from one detector pass per file: every window score of every positive clip and negative stream is
 * kept, a rule turns each window's score into a decision score, and `kws eval`'s own counting
 * (`countDetections`, `falseRejectRate`) gives FRR and FA/h on the threshold grid. Rules: `min k` (the window
 * and its k − 1 predecessors all reach the threshold), `mean k` (their mean does), `hyst d` (the window
 * reaches t and a neighbour reaches t − d). At the start of the audio fewer predecessors exist and the rule
 * takes the windows that do, so a clip with one window is scored as today; --pad S surrounds each positive
 * clip with S seconds of digital silence, so its keyword is seen by as many windows as in a stream.
 *
 *   node --import tsx models/measure-decision-rules.ts MODEL POSITIVES_DIR NEGATIVES_DIR [--pad 1.5]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeWav, readWavChunks, toMono16k } from '@kws/audio';
import { StreamingDetector, type WindowScore } from '../src/detect/detector.ts';
import { countDetections, falseRejectRate, THRESHOLD_GRID } from '../src/eval/det.ts';
import { listLabelledWavs } from '../src/eval/files.ts';
import { loadDetectorModel } from '../src/model/model-file.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { pad: { type: 'string', default: '0' } },
});
const [modelPath, positivesDir, negativesDir] = positionals;
const model = loadDetectorModel(await readFile(modelPath));
const rate = model.header.feature_config.sample_rate;
const pad = Math.round(Number(values.pad) * rate);
const refractory = model.header.smoothing.refractory_s;

/** Every window score of one file's detection pass, in time order. */
async function windowsOf(feed: (d: StreamingDetector) => Promise<void> | void) {
  const windows: WindowScore[] = [];
  const detector = new StreamingDetector(model, { onWindow: (w) => windows.push(w) });
  await feed(detector);
  detector.finish();
  return { windows, durationS: detector.durationS };
}

const positives: WindowScore[][] = [];
for (const file of await listLabelledWavs(positivesDir, 1)) {
  const clip = toMono16k(decodeWav(await readFile(file.path)));
  const padded = new Float32Array(clip.length + 2 * pad);
  padded.set(clip, pad);
  positives.push((await windowsOf((d) => void d.push(padded))).windows);
}
const streams: { windows: WindowScore[]; durationS: number }[] = [];
for (const file of await listLabelledWavs(negativesDir, 0)) {
  streams.push(
    await windowsOf(async (d) => {
      for await (const piece of readWavChunks(file.path, 160_000)) d.push(toMono16k(piece));
    }),
  );
}
const hours = streams.reduce((s, x) => s + x.durationS, 0) / 3600;

type Rule = { name: string; score: (s: readonly number[], i: number) => number };
const lastK = (s: readonly number[], i: number, k: number) => s.slice(Math.max(0, i - k + 1), i + 1);
const rules: Rule[] = [
  ...[1, 2, 3].map((k) => ({
    name: `min ${k}`,
    score: (s: readonly number[], i: number) => Math.min(...lastK(s, i, k)),
  })),
  ...[2, 3].map((k) => ({
    name: `mean ${k}`,
    score: (s: readonly number[], i: number) =>
      lastK(s, i, k).reduce((a, b) => a + b, 0) / lastK(s, i, k).length,
  })),
  {
    name: 'hyst 0.1',
    score: (s: readonly number[], i: number) => {
      const near = [s[i - 1], s[i + 1]].filter((x) => x !== undefined);
      return near.length === 0 ? s[i] : Math.min(s[i], Math.max(...near) + 0.1);
    },
  },
];
const apply = (rule: Rule, windows: readonly WindowScore[]) => {
  const s = windows.map((w) => w.score);
  return windows.map((w, i) => ({ ...w, score: rule.score(s, i) }));
};

const budgets = [0, 0.5, 1, 1.5, 2, 3, 4, 5, 10];
console.log(`${positives.length} positives (pad ${values.pad} s), ${hours.toFixed(2)} h of negatives`);
console.log(`| rule | ${budgets.map((b) => `≤ ${b} FA/h`).join(' | ')} |`);
for (const rule of rules) {
  const clipScores = positives.map((w) => Math.max(...apply(rule, w).map((x) => x.score)));
  const ruled = streams.map((s) => apply(rule, s.windows));
  const curve = THRESHOLD_GRID.map((t) => ({
    t,
    frr: falseRejectRate(clipScores, t),
    fa: ruled.reduce((n, w) => n + countDetections(w, t, refractory), 0) / hours,
  }));
  const cells = budgets.map((b) => {
    const p = curve.find((x) => x.fa <= b);
    return p ? `${(100 * p.frr).toFixed(1)} % (${p.t.toFixed(2)})` : '–';
  });
  console.log(`| ${rule.name} | ${cells.join(' | ')} |`);
}
