import { describe, expect, it } from 'vitest';
import * as audio from './index.ts';

describe('@kws/audio public API', () => {
  it('exports the names apps/api and packages/detector call', () => {
    for (const name of [
      'decodeWav',
      'toMono16k',
      'resample',
      'mfcc',
      'createMfccStream',
      'analyzeQuality',
      'AudioFormatError',
      'DEFAULT_FEATURE_CONFIG',
      'encodeWav',
      'readWavChunks',
    ]) {
      expect(typeof (audio as Record<string, unknown>)[name], name).not.toBe('undefined');
    }
  });

  it('runs end to end: encode → decode → 16 kHz mono → MFCC and quality', () => {
    const tone = new Float32Array(22050);
    for (let i = 0; i < tone.length; i++) tone[i] = 0.4 * Math.sin((2 * Math.PI * 440 * i) / 22050);
    const decoded = audio.decodeWav(audio.encodeWav(tone, 22050));
    const mono = audio.toMono16k(decoded);
    expect(mono.length).toBe(16000);
    const features = audio.mfcc(mono);
    expect([features.frames, features.coeffs]).toEqual([98, 13]);
    expect(audio.analyzeQuality(mono).peakDb).toBeCloseTo(20 * Math.log10(0.4), 1);
  });
});
