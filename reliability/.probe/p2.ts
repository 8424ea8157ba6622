import { AudioFormatError, analyzeQuality, decodeWav, toMono16k } from '@kws/audio';
import fc from 'fast-check';
import { checkClip } from '/work/main/apps/api/src/enrollment/quality.ts';
import { applyCase, fuzzCase, seedWavs } from '/work/main/reliability/src/hostile/wav-fuzz.ts';

const seeds = seedWavs();
for (const s of seeds) {
  const q = checkClip(s.name, s.bytes);
  console.log(s.name, s.bytes.length, q.durationS.toFixed(2), q.quality.speechS);
}
const stats = new Map<string, number>();
let max = 0;
let maxCase: unknown;
const t0 = performance.now();
const samples = fc.sample(fuzzCase(seeds.length), { seed: 42, numRuns: Number(process.argv[2] ?? 2000) });
for (const c of samples) {
  const bytes = applyCase(c, seeds);
  const t = performance.now();
  let key: string;
  try {
    const d = decodeWav(bytes);
    const m = toMono16k(d);
    analyzeQuality(m);
    try {
      checkClip('x', bytes);
      key = 'ok';
    } catch (e: any) {
      key = 'clip:' + (e.code ?? e.name) + (e.code ? '' : e.message);
    }
  } catch (e: any) {
    key = e instanceof AudioFormatError ? e.code : 'OTHER ' + e.name + ' ' + e.message;
    if (!(e instanceof AudioFormatError)) console.log(JSON.stringify(c));
  }
  const dt = performance.now() - t;
  if (dt > max) {
    max = dt;
    maxCase = c;
  }
  stats.set(key, (stats.get(key) ?? 0) + 1);
}
console.log([...stats].sort((a, b) => b[1] - a[1]));
console.log(
  'total',
  (performance.now() - t0).toFixed(0),
  'ms, max',
  max.toFixed(1),
  JSON.stringify(maxCase),
  'rss',
  process.memoryUsage().rss / 1e6,
);
