import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { BatchRealFft } from './fft.ts';
import { kissBatchRealFft } from './kissfft.ts';
import { ReferenceBatchRealFft } from './reference.ts';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('../..', import.meta.url));

function fill(fft: BatchRealFft, signal: (frame: number, n: number) => number, count: number): void {
  const input = fft.input();
  for (let f = 0; f < count; f++) {
    for (let n = 0; n < fft.size; n++) input[f * fft.size + n] = signal(f, n);
  }
}

const signals: Record<string, (frame: number, n: number) => number> = {
  ramp: (f, n) => (n - 7 * f) / 100,
  sine: (f, n) => Math.sin(0.37 * n + f),
  random: (f, n) => Math.sin(12.9898 * (n + 1) * (f + 3)) * 0.9, // deterministic pseudo-noise
};

describe('kissfft batch real FFT', () => {
  for (const size of [2, 6, 10, 30, 100, 400, 512, 1000]) {
    for (const [name, signal] of Object.entries(signals)) {
      it(`matches the float64 DFT: N=${size}, ${name}, 3 frames in one batch`, () => {
        const kiss = kissBatchRealFft(size, 4);
        const ref = new ReferenceBatchRealFft(size, 4);
        fill(kiss, signal, 3);
        fill(ref, signal, 3);
        kiss.transform(3);
        ref.transform(3);
        const got = kiss.output();
        const want = ref.output();
        let norm = 0;
        for (let i = 0; i < 3 * (size + 2); i++) norm = Math.max(norm, Math.abs(want[i]));
        for (let i = 0; i < 3 * (size + 2); i++) {
          expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(norm, 1));
        }
      });
    }
  }

  it('leaves its input untouched, so zero padding written once stays zero', () => {
    const fft = kissBatchRealFft(512, 2);
    fill(fft, signals.random, 2);
    const before = fft.input().slice();
    fft.transform(2);
    expect(fft.input()).toEqual(before);
  });

  it('rejects odd sizes and out-of-range counts with the received value', () => {
    expect(() => kissBatchRealFft(511, 1)).toThrow('FFT size must be an even integer ≥ 2, got 511');
    expect(() => kissBatchRealFft(512, 2).transform(3)).toThrow(
      'FFT frame count must be an integer in 0…2, got 3',
    );
  });
});

/** Runs a module in a fresh Node process (its own process-wide handlers) and returns what it prints. */
async function probe(body: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', body],
      {
        cwd: packageDir,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const countHandlers = `const count = () => ({ uncaught: process.listeners('uncaughtException').length,
  rejection: process.listeners('unhandledRejection').length });`;

describe('kissfft loader side effects (DESIGN §7)', () => {
  it('control: the raw kissfft-wasm loader does install both process-wide handlers', async () => {
    const { stdout } = await probe(`${countHandlers}
      import { createRequire } from 'node:module';
      const before = count();
      delete globalThis.fetch;
      createRequire(import.meta.url)('kissfft-wasm');
      const after = count();
      console.log(JSON.stringify({ before, after }));`);
    const { before, after } = JSON.parse(stdout);
    expect(after.uncaught).toBe(before.uncaught + 1);
    expect(after.rejection).toBe(before.rejection + 1);
  });

  it('our loader removes them and restores the very same fetch', async () => {
    const { stdout } = await probe(`${countHandlers}
      const fetchBefore = globalThis.fetch;
      const before = count();
      await import('./src/fft/kissfft.ts');
      console.log(JSON.stringify({ before, after: count(), sameFetch: globalThis.fetch === fetchBefore,
        fetchType: typeof globalThis.fetch }));`);
    expect(JSON.parse(stdout)).toEqual({
      before: { uncaught: 0, rejection: 0 },
      after: { uncaught: 0, rejection: 0 },
      sameFetch: true,
      fetchType: 'function',
    });
  });

  it('a thrown error after loading still crashes the process with its own message', async () => {
    const result = await probe(`await import('./src/fft/kissfft.ts');
      setTimeout(() => { throw new Error('boom-after-load'); });`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('boom-after-load');
    expect(result.stderr).not.toMatch(/abort|RuntimeError/);
  });

  it('an unhandled rejection after loading is Node’s default crash, not an Emscripten abort', async () => {
    const result = await probe(`await import('./src/fft/kissfft.ts');
      Promise.reject(new Error('rejected-after-load'));`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rejected-after-load');
    expect(result.stderr).not.toMatch(/abort|RuntimeError/);
  });
});
