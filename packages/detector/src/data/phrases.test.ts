import { describe, expect, it } from 'vitest';
import { confusablesFor, containsKeyword, DEFAULT_KEYWORD, NEGATIVE_MIX, negativeTexts } from './phrases.ts';

describe('phrases', () => {
  it('matches the keyword as whole words, ignoring case and punctuation', () => {
    expect(containsKeyword('Hey, Nova! what time is it', 'hey nova')).toBe(true);
    expect(containsKeyword('hey novak', 'hey nova')).toBe(false);
    expect(containsKeyword('supernova', 'nova')).toBe(false);
  });

  it('has the confusables the issue names and never the keyword in a negative', () => {
    const confusables = confusablesFor(DEFAULT_KEYWORD);
    for (const c of ['hey nora', 'nova', 'hey over', 'hey no va']) expect(confusables).toContain(c);
    for (const kind of ['confusable', 'word', 'phrase', 'sentence'] as const) {
      const texts = negativeTexts(kind, DEFAULT_KEYWORD);
      expect(texts.length).toBeGreaterThan(10);
      for (const t of texts) expect(containsKeyword(t, DEFAULT_KEYWORD)).toBe(false);
    }
  });

  it('makes generic confusables for another keyword and filters it out of the stock texts', () => {
    const confusables = confusablesFor('okay computer');
    expect(confusables).toEqual(expect.arrayContaining(['okay', 'computer', 'hello computer', 'okay there']));
    expect(confusables).not.toContain('okay computer');
    // "hello there" is a stock phrase: with that keyword it must disappear from the negatives.
    expect(negativeTexts('phrase', DEFAULT_KEYWORD)).toContain('hello there');
    expect(negativeTexts('phrase', 'hello there')).not.toContain('hello there');
    expect(() => confusablesFor('  ,, ')).toThrow(/keyword must contain letters or digits/);
  });

  it('splits negatives into shares that sum to one', () => {
    const total = Object.values(NEGATIVE_MIX).reduce((s, x) => s + x, 0);
    expect(total).toBeCloseTo(1, 12);
  });
});
