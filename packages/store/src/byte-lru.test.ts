import { describe, expect, it } from 'vitest';
import { ByteLru } from './byte-lru.ts';

const buf = (n: number) => Buffer.alloc(n);

describe('ByteLru', () => {
  it('evicts the least recently used entries to stay within its byte budget', () => {
    const lru = new ByteLru(10);
    lru.set('a', buf(4));
    lru.set('b', buf(4));
    expect(lru.get('a')).toBeDefined(); // a is now the most recent
    lru.set('c', buf(4));
    expect([lru.get('a') !== undefined, lru.get('b') !== undefined, lru.get('c') !== undefined]).toEqual([
      true,
      false,
      true,
    ]);
    expect(lru.bytes).toBe(8);
  });

  it('replaces a key without double counting, skips values over the budget, drops by prefix', () => {
    const lru = new ByteLru(10);
    lru.set('u1/a', buf(3));
    lru.set('u1/a', buf(5));
    lru.set('u2/a', buf(2));
    lru.set('big', buf(11));
    expect([lru.bytes, lru.size]).toEqual([7, 2]);
    lru.deletePrefix('u1/');
    expect([lru.bytes, lru.size, lru.get('u2/a')?.length]).toEqual([2, 1, 2]);
  });
});
