/**
 * Writes the replay set committed next to the base model (personalize/replay.ts): windows of the base
 * dataset's negatives, half of them the ones the base model scores highest (the confusions personalization
 * must not make worse), half drawn at random.
 *
 *   node --import tsx models/make-replay.ts DATA_DIR[,DATA_DIR...] BASE.kws OUT.kwsr [COUNT] [SEED]
 *
 * Several directories (comma-separated) pool their negatives: a `kws synth` set and a `kws mine` set of the
 * places the base model fires on running speech, say.
 */
import { writeFile } from 'node:fs/promises';
import { derive } from '../src/data/random.ts';
import { readDetectorModel } from '../src/model/base-model.ts';
import { scoreClips } from '../src/personalize/personalize.ts';
import { encodeReplaySet } from '../src/personalize/replay.ts';
import { loadDataset } from '../src/train/dataset.ts';
import { windowGeometry } from '../src/train/windows.ts';

const [data, modelPath, out, countText = '128', seed = '1'] = process.argv.slice(2);
if (!data || !modelPath || !out) {
  process.stderr.write('usage: make-replay.ts DATA_DIR[,DATA_DIR...] BASE.kws OUT.kwsr [COUNT] [SEED]\n');
  process.exit(2);
}
const count = Number(countText);
const { model } = await readDetectorModel(modelPath);
const { header, network } = model;
const g = windowGeometry(network, header.feature_config);
const negatives = [];
for (const dir of data.split(',')) {
  const { clips } = await loadDataset(dir);
  negatives.push(...clips.filter((c) => c.label === 0).map((c) => ({ ...c, file: `${dir}/${c.file}` })));
}
const hop = Math.round((header.smoothing.hop_s * g.featureConfig.sample_rate) / g.featureConfig.frame_step);
const scores = scoreClips(network, negatives, g, header.smoothing.window_frames, hop);
const byScore = negatives.map((clip, i) => ({ clip, score: scores[i] })).sort((a, b) => b.score - a.score);
const hard = byScore.slice(0, Math.floor(count / 2)).map((s) => s.clip);
const rest = derive(seed, 'replay-random').shuffled(byScore.slice(Math.floor(count / 2)).map((s) => s.clip));
const chosen = [...hard, ...rest.slice(0, count - hard.length)];
const bytes = encodeReplaySet(chosen, g, seed, {
  dataset: data,
  hard_negatives: hard.length,
  random_negatives: chosen.length - hard.length,
  hardest_base_score: byScore[0]?.score ?? null,
});
await writeFile(out, bytes);
process.stdout.write(`wrote ${out}: ${chosen.length} windows, ${bytes.length} bytes\n`);
