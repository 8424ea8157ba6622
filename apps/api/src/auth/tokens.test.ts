import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { secretsEqual, signToken, verifyToken } from './tokens.ts';

const SECRET = 'x'.repeat(40);
const NOW = 1_800_000_000;

describe('user tokens', () => {
  const claims = { userId: 'alice_1', tokenVersion: 7, expiresAt: NOW + 60 };

  it('is v1.<userId>.<version>.<expiresAt>.<HMAC-SHA256> and verifies', () => {
    const token = signToken(SECRET, claims);
    const payload = `v1.alice_1.7.${NOW + 60}`;
    // Independent HMAC: the token's last field is HMAC-SHA256(secret, the first four fields).
    expect(token).toBe(`${payload}.${createHmac('sha256', SECRET).update(payload).digest('base64url')}`);
    expect(verifyToken(SECRET, token, NOW)).toEqual({ ok: true, claims });
  });

  it('rejects a token signed with another secret, and any changed field', () => {
    const token = signToken(SECRET, claims);
    expect(verifyToken('y'.repeat(40), token, NOW).ok).toBe(false);
    const parts = token.split('.');
    for (const [i, value] of [
      [1, 'bob'],
      [2, '8'],
      [3, String(NOW + 10_000)],
    ] as const) {
      const forged = [...parts];
      forged[i] = value;
      const check = verifyToken(SECRET, forged.join('.'), NOW);
      expect(check).toEqual({ ok: false, reason: 'token signature does not verify' });
    }
  });

  it('rejects an expired token, naming when it expired', () => {
    const token = signToken(SECRET, claims);
    expect(verifyToken(SECRET, token, NOW + 60)).toEqual({
      ok: false,
      reason: `token expired at ${NOW + 60}`,
    });
  });

  it('rejects malformed tokens without throwing', () => {
    for (const bad of [
      '',
      'v1',
      'v2.a.1.2.x',
      'v1.a.1.2',
      'v1.a.1.2.x.y',
      'v1.../...1.2.x',
      'v1.a.-1.2.x',
      'v1.a.1.2.',
    ]) {
      expect(verifyToken(SECRET, bad, NOW).ok).toBe(false);
    }
  });

  it('compares secrets of any length', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'a')).toBe(false);
  });
});
