import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeWav, encodeWav, mfcc, toMono16k } from '@kws/audio';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from './testing.ts';

const bin = fileURLToPath(new URL('../../bin/kws.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kws-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 0.5 s of a 300 Hz + 2 kHz mixture at 22.05 kHz, so the command has to resample. */
const goodPath = join(dir, 'good.wav');
const signal = new Float32Array(11025);
for (let i = 0; i < signal.length; i++) {
  signal[i] =
    0.3 * Math.sin((2 * Math.PI * 300 * i) / 22050) + 0.1 * Math.sin((2 * Math.PI * 2000 * i) / 22050);
}
const goodBytes = encodeWav(signal, 22050);
writeFileSync(goodPath, goodBytes);
/** A WAV whose data chunk claims more bytes than the file has. */
const badPath = join(dir, 'bad.wav');
const badBytes = goodBytes.slice(0, 1000);
writeFileSync(badPath, badBytes);

async function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      maxBuffer: 1 << 26,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('kws bin (spawned)', () => {
  it('kws mfcc --json prints the shape and the row-major features of the file', async () => {
    const { code, stdout, stderr } = await runBin(['mfcc', goodPath, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout);
    const expected = mfcc(toMono16k(decodeWav(goodBytes)));
    expect(printed.shape).toEqual([48, 13]);
    expect(printed.shape).toEqual([expected.frames, expected.coeffs]);
    expect(printed.data).toEqual(Array.from(expected.data));
  });

  it('a malformed WAV exits 2 with a one-line reason on stderr', async () => {
    const { code, stdout, stderr } = await runBin(['mfcc', badPath]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('kws mfcc: WAV data chunk says 22050 bytes but only 956 remain\n');
  });
});

describe('kws main (in process)', () => {
  it('prints a human summary by default', async () => {
    const { code, stdout } = await runMain(['mfcc', goodPath]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${goodPath}: 22050 Hz, 1 channel(s), 0.500 s`);
    expect(lines[1]).toMatch(/^MFCC: 48 frames × 13 coefficients \(25 ms frames every 10 ms/);
    expect(lines[2]).toMatch(/^coeff\s+mean\s+std\s+min\s+max$/);
    expect(lines).toHaveLength(3 + 13);
    const expected = mfcc(toMono16k(decodeWav(goodBytes)));
    const c0 = Array.from({ length: 48 }, (_, f) => expected.data[f * 13]);
    expect(Number(lines[3].split(/\s+/)[1])).toBeCloseTo(c0.reduce((a, b) => a + b) / 48, 2);
  });

  it('a missing file, a directory, unknown flags and commands are bad input (exit 2, one line)', async () => {
    const cases: [string[], string][] = [
      [['mfcc', join(dir, 'nope.wav')], `kws mfcc: cannot read ${join(dir, 'nope.wav')}: no such file\n`],
      [['mfcc', dir], `kws mfcc: cannot read ${dir}: it is a directory\n`],
      [['mfcc'], 'kws mfcc: expected exactly one input WAV file, got 0\n'],
      [['mfcc', goodPath, badPath], 'kws mfcc: expected exactly one input WAV file, got 2\n'],
      [
        ['frobnicate'],
        'kws: unknown command "frobnicate"; expected one of: mfcc, synth, train-base, mine, personalize, detect, eval, export\n',
      ],
      [[], "kws: missing command; run 'kws --help' for the list\n"],
    ];
    for (const [args, stderr] of cases) {
      expect(await runMain(args), args.join(' ')).toEqual({ code: 2, stdout: '', stderr });
    }
    const unknownFlag = await runMain(['mfcc', goodPath, '--jsn']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/^kws mfcc: Unknown option '--jsn'.*\n$/);
    expect(unknownFlag.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('--help lists the commands; <command> --help shows its usage', async () => {
    const top = await runMain(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: kws <command>/);
    expect(top.stdout).toMatch(/\n {2}mfcc +print the MFCC features of a WAV file\n/);
    const sub = await runMain(['mfcc', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/^Usage: kws mfcc IN.wav \[--json\]/);
  });
});
