import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planPositive } from './clip.ts';
import { createRng } from './random.ts';
import { RenderPool } from './render-pool.ts';

describe('RenderPool', () => {
  it('produces clips in worker threads and passes their errors back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kws-pool-'));
    const pool = new RenderPool(2, {
      engine: 'wasm',
      jobs: 1,
      babble: [new Float32Array(1600).fill(0.1)],
      seed: 's',
      dir,
    });
    try {
      const plan = planPositive(createRng(1), 'hey nova', 'en-us+m1');
      const record = await pool.run({ plan, index: 0, file: 'a.wav' });
      expect(record.file).toBe('a.wav');
      expect(record.keywordEndS).toBeGreaterThan(0);
      expect(await readdir(dir)).toEqual(['a.wav']);
      const bad = { ...plan, voice: 'en-us+nosuch' };
      await expect(pool.run({ plan: bad, index: 1, file: 'b.wav' })).rejects.toThrow(
        /unknown espeak-ng voice "en-us\+nosuch"/,
      );
    } finally {
      await pool.close();
      await pool.close(); // twice is fine
      await rm(dir, { recursive: true, force: true });
    }
    await expect(
      pool.run({ plan: planPositive(createRng(2), 'x', 'en-us'), index: 0, file: 'c.wav' }),
    ).rejects.toThrow(/render pool is closed/);
  });
});
