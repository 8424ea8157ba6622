import { describe, expect, it } from 'vitest';
import {
  ACCENTS,
  BASE_VARIANTS,
  BASE_VOICES,
  checkVoice,
  HELDOUT_VOICES,
  variantOf,
  voicesOf,
} from './voices.ts';

describe('voice split', () => {
  it('keeps held-out voices and their speakers (variants) out of the base set', () => {
    const base = new Set(BASE_VOICES);
    const baseVariants = new Set<string>(BASE_VARIANTS);
    for (const voice of HELDOUT_VOICES) {
      expect(base.has(voice)).toBe(false);
      expect(baseVariants.has(variantOf(voice))).toBe(false);
    }
    const heldVariants = HELDOUT_VOICES.map(variantOf);
    expect(new Set(heldVariants).size).toBe(heldVariants.length);
  });

  it('uses every accent with every base variant, and names no voice twice', () => {
    expect(BASE_VOICES.length).toBe(ACCENTS.length * BASE_VARIANTS.length);
    expect(new Set(BASE_VOICES).size).toBe(BASE_VOICES.length);
    expect(voicesOf('all').length).toBe(BASE_VOICES.length + HELDOUT_VOICES.length);
    expect(voicesOf('heldout')).toEqual(HELDOUT_VOICES);
  });

  it('accepts every listed voice and rejects ones espeak-ng would silently replace', () => {
    for (const voice of voicesOf('all')) expect(() => checkVoice(voice)).not.toThrow();
    expect(() => checkVoice('en-us+nosuchvariant')).toThrow(/unknown espeak-ng voice "en-us\+nosuchvariant"/);
    expect(() => checkVoice('en-xx')).toThrow(/unknown espeak-ng voice/);
    expect(() => checkVoice('en-us+klatt')).toThrow(/unknown espeak-ng voice/);
  });
});
