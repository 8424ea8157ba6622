import { analyzeQuality } from '@kws/audio';
import { describe, expect, it } from 'vitest';
import { activeRegion } from './envelope.ts';
import { type EspeakEngine, findEspeakBinary, synthesize } from './espeak.ts';
import { HELDOUT_VOICES } from './voices.ts';

const engines: EspeakEngine[] = findEspeakBinary() === null ? ['wasm'] : ['binary', 'wasm'];

describe.each(engines)('synthesize with the %s engine', (engine) => {
  it('speaks the keyword at 16 kHz: speech first, then espeak-ng’s end-of-clause pause', async () => {
    const x = await synthesize('hey nova', 'en-us+m3', { engine });
    expect(x).toBeInstanceOf(Float32Array);
    // 22,050 Hz output resampled: ≈ 0.88 s at the default 175 wpm (measured with the Debian binary).
    expect(x.length / 16_000).toBeGreaterThan(0.6);
    expect(x.length / 16_000).toBeLessThan(1.2);
    const region = activeRegion(x);
    expect(region).not.toBeNull();
    if (region === null) return;
    expect(region.start).toBeLessThan(800); // no leading silence to speak of
    expect((x.length - region.end) / 16_000).toBeGreaterThan(0.2); // the trailing pause
    // The audio package's voice-activity measure (what the API applies to enrollment clips) hears speech.
    const quality = analyzeQuality(x);
    expect(quality.speechS).toBeGreaterThan(0.3);
    expect(quality.peakDb).toBeGreaterThan(-20);
    expect(quality.clippingFraction).toBe(0);
  });

  it('is deterministic: the same request gives the same samples', async () => {
    const a = await synthesize('hey nora', 'en-gb+f2', { engine, speed: 150, pitch: 60 });
    const b = await synthesize('hey nora', 'en-gb+f2', { engine, speed: 150, pitch: 60 });
    expect(b).toEqual(a);
  });

  it('speaks every held-out voice and follows speed', async () => {
    for (const voice of HELDOUT_VOICES) {
      const x = await synthesize('hey nova', voice, { engine });
      expect(activeRegion(x), voice).not.toBeNull();
    }
    const slow = activeRegion(await synthesize('what is the weather', 'en-us', { engine, speed: 120 }));
    const fast = activeRegion(await synthesize('what is the weather', 'en-us', { engine, speed: 240 }));
    if (slow === null || fast === null) throw new Error('no speech');
    const ratio = (slow.end - slow.start) / (fast.end - fast.start);
    expect(ratio).toBeGreaterThan(1.5);
  });
});

describe('synthesize', () => {
  it.skipIf(engines.length < 2)('gives the same timing with both engines', async () => {
    const a = activeRegion(await synthesize('hey nova', 'en-us+f3', { engine: 'binary', speed: 160 }));
    const b = activeRegion(await synthesize('hey nova', 'en-us+f3', { engine: 'wasm', speed: 160 }));
    expect(a).not.toBeNull();
    expect(b).toEqual(a);
  });

  it('rejects bad arguments before running espeak-ng', async () => {
    await expect(synthesize('hey nova', 'en-us+klatt')).rejects.toThrow(
      /unknown espeak-ng voice "en-us\+klatt"/,
    );
    await expect(synthesize('  ', 'en-us')).rejects.toThrow(/text to synthesize must be 1–1000 characters/);
    await expect(synthesize('-v en-gb hi', 'en-us')).rejects.toThrow(/must not start with '-'/);
    await expect(synthesize('hi', 'en-us', { speed: 20 })).rejects.toThrow(
      /speed must be an integer 80–450 words per minute, got 20/,
    );
    await expect(synthesize('hi', 'en-us', { pitch: 100 })).rejects.toThrow(
      /pitch must be an integer 0–99, got 100/,
    );
    // @ts-expect-error: a wrong engine name from untyped input
    await expect(synthesize('hi', 'en-us', { engine: 'mbrola' })).rejects.toThrow(
      /engine must be auto, binary or wasm, got mbrola/,
    );
  });
});
