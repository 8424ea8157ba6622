import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeWav, resample } from '@kws/audio';
import { afterAll, describe, expect, it } from 'vitest';
import { loudnessModel, scene } from '../../detect/testing.ts';
import { saveDetectorModel } from '../../model/model-file.ts';
import { runMain } from '../testing.ts';

const bin = fileURLToPath(new URL('../../../bin/kws.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kws-detect-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modelPath = join(dir, 'tone.kws');
writeFileSync(modelPath, saveDetectorModel(loudnessModel({ refractory_s: 1 })));
/** Two bursts at 16 kHz. */
const twoBursts = join(dir, 'two.wav');
writeFileSync(
  twoBursts,
  encodeWav(
    scene(4, [
      [1.0, 1.3, 0.3],
      [2.8, 3.0, 0.3],
    ]),
    16_000,
  ),
);
/** One burst, written at 22.05 kHz so the command has to resample. */
const oneBurst = join(dir, 'one.wav');
writeFileSync(oneBurst, encodeWav(resample(scene(2.5, [[1.5, 1.8, 0.3]]), 16_000, 22_050), 22_050));
const quiet = join(dir, 'quiet.wav');
writeFileSync(quiet, encodeWav(scene(2, []), 16_000));
const broken = join(dir, 'broken.wav');
writeFileSync(broken, encodeWav(scene(1, []), 16_000).slice(0, 500));

const run = (args: string[]) => runMain(['detect', ...args]);

describe('kws detect', () => {
  it('--json prints one array with an entry per file, in order (spawned bin)', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [
      bin,
      'detect',
      '--model',
      modelPath,
      twoBursts,
      oneBurst,
      quiet,
      '--json',
    ]);
    expect(stderr).toBe('');
    const entries = JSON.parse(stdout);
    expect(entries.map((e: { file: string }) => e.file)).toEqual([twoBursts, oneBurst, quiet]);
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(['detected', 'detections', 'file', 'score']);
      for (const d of e.detections) expect(Object.keys(d).sort()).toEqual(['end_s', 'score', 'start_s']);
    }
    const spans = (e: { detections: { start_s: number; end_s: number }[] }) =>
      e.detections.map((d) => [d.start_s, d.end_s]);
    expect(entries[0].detected).toBe(true);
    expect(spans(entries[0]).length).toBe(2);
    expect(spans(entries[0])[0][0]).toBeCloseTo(1.0, 1);
    expect(spans(entries[0])[0][1]).toBeCloseTo(1.3, 1);
    expect(spans(entries[0])[1][0]).toBeCloseTo(2.8, 1);
    expect(spans(entries[0])[1][1]).toBeCloseTo(3.0, 1);
    expect(spans(entries[1])).toHaveLength(1);
    expect(spans(entries[1])[0][0]).toBeCloseTo(1.5, 1);
    expect(spans(entries[1])[0][1]).toBeCloseTo(1.8, 1);
    expect(entries[2]).toEqual({ file: quiet, detected: false, score: entries[2].score, detections: [] });
    expect(entries[2].score).toBeLessThan(0.05);
    // Rounded as promised: milliseconds and 4 decimals.
    for (const d of entries[0].detections) {
      expect(Math.round(d.start_s * 1000) / 1000).toBe(d.start_s);
      expect(Math.round(d.score * 1e4) / 1e4).toBe(d.score);
    }
  });

  it('prints a line per file without --json, and honours --threshold', async () => {
    const plain = await run(['--model', modelPath, twoBursts, quiet]);
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trimEnd().split('\n');
    const match = lines[0].match(
      /two\.wav: 2 detection\(s\): ([\d.]+)–([\d.]+) s \((0\.\d{3})\), ([\d.]+)–([\d.]+) s/,
    );
    expect(match, lines[0]).not.toBeNull();
    const [a, b, score, c, d] = (match ?? []).slice(1).map(Number);
    expect([a, b, c, d].map((x) => Math.round(x * 10) / 10)).toEqual([1.0, 1.3, 2.8, 3.0]);
    expect(score).toBeGreaterThan(0.98);
    expect(lines[1]).toMatch(/quiet\.wav: no detection \(best score 0\.0\d\d < threshold\)$/);
    const strict = JSON.parse(
      (await run(['--model', modelPath, twoBursts, '--json', '--threshold', '0.9999'])).stdout,
    );
    expect(strict[0].detected).toBe(false);
  });

  it('bad input exits 2 with one line naming it, and prints nothing on stdout', async () => {
    const cases: [string[], RegExp][] = [
      [['--model', modelPath], /^kws detect: expected at least one input WAV file\n$/],
      [['--model', modelPath, twoBursts, broken], /^kws detect: .*broken\.wav: WAV .*\n$/],
      [
        ['--model', modelPath, join(dir, 'nope.wav')],
        /^kws detect: cannot read .*nope\.wav: no such file\n$/,
      ],
      [
        ['--model', join(dir, 'nope.kws'), twoBursts],
        /^kws detect: cannot read model .*nope\.kws: no such file\n$/,
      ],
      [['--model', broken, twoBursts], /^kws detect: .*broken\.wav: .*KWS1.*\n$/],
      [
        ['--model', modelPath, twoBursts, '--threshold', '2'],
        /^kws detect: --threshold must be a number in \(0, 1\]/,
      ],
      [
        ['--model', modelPath, twoBursts, '--hop', '5'],
        /^kws detect: hop 5 s is 500 frames; expected 1 to 148/,
      ],
    ];
    for (const [args, stderr] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});
