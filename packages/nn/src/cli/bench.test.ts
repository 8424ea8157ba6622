import { afterEach, describe, expect, it, vi } from 'vitest';
import { kernels } from '../kernels/backend.ts';
import { BENCH_FEATURES, BENCH_FRAMES, benchCommand, benchData, medianMs, referenceModel } from './bench.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Captures what benchCommand writes. */
function capture(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

describe('the reference model', () => {
  it('has the Keras weight shapes and parameter count (51,201)', () => {
    const { model } = referenceModel();
    expect(model.weights.map((w) => [w.name.split('/').pop(), w.shape])).toEqual([
      ['kernel', [3, 13, 32]],
      ['bias', [32]],
      ['gamma', [32]],
      ['beta', [32]],
      ['moving_mean', [32]],
      ['moving_variance', [32]],
      ['kernel', [32, 256]],
      ['recurrent_kernel', [64, 256]],
      ['bias', [256]],
      ['kernel', [32, 256]],
      ['recurrent_kernel', [64, 256]],
      ['bias', [256]],
      ['kernel', [128, 1]],
      ['bias', [1]],
    ]);
    // Keras model.summary(): 1,280 + 128 + 49,664 + 129.
    expect(model.weights.reduce((n, w) => n + w.value.length, 0)).toBe(51201);
  });

  it('trains: repeated steps on one small batch lower the loss, and infers one window', () => {
    const { trainStep, infer } = referenceModel();
    const { x, y } = benchData(2, 3);
    const losses = Array.from({ length: 4 }, () => trainStep(x, y));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[3]).toBeLessThan(losses[0]);
    const out = infer(benchData(1, 4).x);
    expect(out.shape).toEqual([1, BENCH_FRAMES, 1]);
    expect(out.data.every((p) => p > 0 && p < 1)).toBe(true);
    expect(benchData(1, 4).x.shape).toEqual([1, BENCH_FRAMES, BENCH_FEATURES]);
  });
});

describe('medianMs', () => {
  it('runs warm-up untimed then returns the median of the timed runs', async () => {
    let calls = 0;
    const ms = await medianMs(() => calls++, 2, 3);
    expect(calls).toBe(5);
    expect(ms).toBeGreaterThanOrEqual(0);
  });
});

describe('kws-nn bench', () => {
  it('prints the JSON line last with --json', async () => {
    const io = capture();
    const code = await benchCommand(['--json', '--runs', '1', '--warmup', '0']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[lines.length - 1]);
    expect(Object.keys(result)).toEqual(['backend', 'trainStepMs', 'inferMs']);
    expect(result.backend).toBe(kernels().name);
    expect(result.trainStepMs).toBeGreaterThan(result.inferMs);
  });

  it('answers 2 with a one-line reason for bad arguments', async () => {
    const io = capture();
    expect(await benchCommand(['--fast'])).toBe(2);
    expect(await benchCommand(['--runs', '0'])).toBe(2);
    expect(await benchCommand(['--warmup'])).toBe(2);
    vi.restoreAllMocks();
    expect(io.err()).toContain('kws-nn bench: unknown argument --fast');
    expect(io.err()).toContain('kws-nn bench: --runs needs an integer >= 1, got 0');
    expect(io.err()).toContain('kws-nn bench: --warmup needs an integer >= 0, got nothing');
    expect(io.out()).toBe('');
  });
});
