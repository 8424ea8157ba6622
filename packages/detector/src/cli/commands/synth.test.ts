import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeWav } from '@kws/audio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetManifest } from '../../data/synth.ts';

const bin = fileURLToPath(new URL('../../../bin/kws.js', import.meta.url));
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kws-synth-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function kws(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

describe('kws synth (spawned)', () => {
  it('writes a small dataset with --count 2 and reports progress on stderr', async () => {
    const out = join(dir, 'ds');
    const { code, stdout, stderr } = await kws([
      'synth',
      '--out',
      out,
      '--count',
      '2',
      '--seed',
      '9',
      '--voices',
      'heldout',
    ]);
    expect(stderr).toMatch(/kws synth: wrote 4 clips \(\d+\.\d\/s\) to .* with espeak-ng (binary|wasm)\n/);
    expect(stderr).toMatch(/kws synth: 4\/4 \(100%\)/);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as DatasetManifest;
    expect(manifest.countPerClass).toBe(2);
    expect(manifest.voices).toBe('heldout');
    expect((await readdir(join(out, 'positive'))).sort()).toEqual(['pos-00000.wav', 'pos-00001.wav']);
    for (const clip of manifest.clips) {
      const audio = decodeWav(new Uint8Array(await readFile(join(out, clip.file))));
      expect(audio.sampleRate).toBe(16_000);
      expect(audio.channels).toBe(1);
    }
  });

  it('answers bad arguments with one line and exit code 2, writing nothing', async () => {
    for (const args of [
      ['synth', '--count', '2'],
      ['synth', '--out', join(dir, 'bad1'), '--count', 'many'],
      ['synth', '--out', join(dir, 'bad2'), '--voices', 'robots'],
      ['synth', '--out', join(dir, 'bad3'), '--frobnicate'],
      ['synth', '--out', join(dir, 'bad4'), '--count', '0'],
    ]) {
      const { code, stderr } = await kws(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
      expect(stderr).toMatch(/^kws synth: /);
    }
    const { stderr } = await kws(['synth', '--out', join(dir, 'bad5'), '--voices', 'robots']);
    expect(stderr).toContain('--voices must be one of base, heldout, all, got "robots"');
    for (const name of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5'])
      expect(existsSync(join(dir, name))).toBe(false);
  });

  it('refuses an output directory that already holds files (exit 2)', async () => {
    const { code, stderr } = await kws(['synth', '--out', dir, '--count', '1']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/already exists and is not empty/);
  });

  it('falls back to the npm wasm build where no espeak-ng binary is on PATH', async () => {
    // A PATH that holds node and nothing else (node and espeak-ng both live in /usr/bin on Debian).
    const nodeOnly = join(dir, 'node-only');
    await mkdir(nodeOnly);
    await symlink(process.execPath, join(nodeOnly, basename(process.execPath)));
    const env = { ...process.env, PATH: nodeOnly };
    const forced = await kws(
      ['synth', '--out', join(dir, 'nobin'), '--count', '1', '--engine', 'binary'],
      env,
    );
    expect(forced.code).toBe(2);
    expect(forced.stderr).toBe('kws synth: espeak-ng binary requested but not found on PATH\n');
    const out = join(dir, 'fallback');
    const auto = await kws(['synth', '--out', out, '--count', '1'], env);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/with espeak-ng wasm\n$/);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as DatasetManifest;
    expect(manifest.engine).toBe('wasm');
  });
});
