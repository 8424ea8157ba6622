import { afterEach, describe, expect, it } from 'vitest';
import { rawWav, speechWav } from '../../test/audio.ts';
import { KwsError } from '../errors.ts';
import { ClipCheckPool } from './check-pool.ts';
import { checkClip } from './quality.ts';

const faults = new URL('../../test/fixtures/check-thread-faults.ts', import.meta.url);
const pools: ClipCheckPool[] = [];
function pool(...options: ConstructorParameters<typeof ClipCheckPool>): ClipCheckPool {
  const p = new ClipCheckPool(...options);
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** What checking `bytes` on the event loop gives: the clip, or the KwsError. */
function onLoop(fileName: string, bytes: Uint8Array) {
  try {
    return checkClip(fileName, bytes);
  } catch (err) {
    return err;
  }
}

const good16k = speechWav(1.2, { seed: 3 });
const good48k = speechWav(2, { seed: 4, sampleRate: 48_000 });
const silent = speechWav(1, { peak: 0.001 });
const truncated = rawWav({ data: new Uint8Array(200), dataSize: 4000 });

describe('ClipCheckPool', () => {
  it('gives what checkClip on the event loop gives: the same stored WAV, duration and quality', async () => {
    const checks = pool({ threads: 2 });
    for (const [name, bytes] of [
      ['a.wav', good16k],
      ['b.wav', good48k],
    ] as const) {
      const want = onLoop(name, bytes);
      // The pool may hand the bytes over to the thread, so it gets a copy.
      expect(await checks.check(name, bytes.slice())).toEqual(want);
    }
  });

  it('rejects a bad clip with the same KWS_ERR_BAD_AUDIO code, status and message', async () => {
    const checks = pool({ threads: 1 });
    for (const [name, bytes] of [
      ['quiet.wav', silent],
      ['cut.wav', truncated],
    ] as const) {
      const want = onLoop(name, bytes) as KwsError;
      expect(want).toBeInstanceOf(KwsError);
      const got = await checks.check(name, bytes.slice()).catch((err: unknown) => err);
      expect(got).toBeInstanceOf(KwsError);
      expect(got).toMatchObject({ code: want.code, statusCode: want.statusCode, message: want.message });
    }
  });

  it('answers checks sent at once, each with its own result', async () => {
    const checks = pool({ threads: 2 });
    const names = Array.from({ length: 9 }, (_, i) => `take-${i}.wav`);
    const inputs = names.map((_, i) => (i % 3 === 2 ? silent : speechWav(1 + i / 10, { seed: i })));
    const results = await Promise.allSettled(names.map((n, i) => checks.check(n, inputs[i].slice())));
    results.forEach((result, i) => {
      const want = onLoop(names[i], inputs[i]);
      if (result.status === 'fulfilled') expect(result.value).toEqual(want);
      else expect((result.reason as Error).message).toBe((want as Error).message);
    });
  });

  for (const fault of ['crash.wav', 'throw.wav']) {
    it(`fails the check whose thread dies (${fault}) with a plain Error, and heals for the next`, async () => {
      const checks = pool({ threads: 1, threadModule: faults });
      const err = await checks.check(fault, good16k.slice()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(KwsError); // answered as a 500, not as the client's fault
      expect((err as Error).message).toMatch(
        new RegExp(`^clip check thread exited \\(code \\d+.*\\) while checking "${fault}"$`),
      );
      expect(await checks.check('next.wav', good16k.slice())).toEqual(onLoop('next.wav', good16k));
    });
  }

  it('checks on the event loop once maxQueued checks wait (bounded queue)', async () => {
    // One thread held by slow.wav: with no room to queue, cut.wav is checked on the loop and settles first;
    // with room for one, it waits behind slow.wav.
    for (const maxQueued of [0, 1]) {
      const checks = pool({ threads: 1, maxQueued, threadModule: faults });
      const order: string[] = [];
      const slow = checks.check('slow.wav', good16k.slice()).then(() => order.push('slow'));
      const quick = checks.check('cut.wav', truncated.slice()).catch(() => order.push('quick'));
      await Promise.all([slow, quick]);
      expect(order, `maxQueued ${maxQueued}`).toEqual(
        maxQueued === 0 ? ['quick', 'slow'] : ['slow', 'quick'],
      );
    }
  });

  it('checks on the event loop with 0 threads', async () => {
    const checks = pool({ threads: 0, threadModule: faults });
    // The faulty thread module would exit on crash.wav; on the loop it is just a clip.
    expect(await checks.check('crash.wav', good16k)).toEqual(onLoop('crash.wav', good16k));
  });

  it('close() rejects running and waiting checks, refuses new ones, returns the same promise twice', async () => {
    const checks = pool({ threads: 1, threadModule: faults });
    const running = checks.check('slow.wav', good16k.slice()).catch((e: unknown) => e);
    const waiting = checks.check('a.wav', good16k.slice()).catch((e: unknown) => e);
    const closing = checks.close();
    expect(checks.close()).toBe(closing);
    await closing;
    expect(await waiting).toMatchObject({ message: 'clip check pool closed' });
    expect(await running).toMatchObject({ message: 'clip check pool closed' });
    await expect(checks.check('b.wav', good16k)).rejects.toThrow('clip check pool is closed');
  });

  it('refuses a thread count that is not an integer ≥ 0', () => {
    expect(() => new ClipCheckPool({ threads: -1 })).toThrow('threads must be an integer ≥ 0, got -1');
    expect(() => new ClipCheckPool({ threads: 1.5 })).toThrow('got 1.5');
  });
});
