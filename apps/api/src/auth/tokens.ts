import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isId } from '../ids.ts';

/** What a user token asserts; the signature covers all of it. */
export interface TokenClaims {
  userId: string;
  tokenVersion: number;
  /** Unix seconds. */
  expiresAt: number;
}

const TOKEN_PREFIX = 'v1';
const DIGEST_BYTES = 32;

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/** `v1.<userId>.<tokenVersion>.<expiresAt>.<hmac>`, the HMAC-SHA256 (base64url) of everything before it. */
export function signToken(secret: string, claims: TokenClaims): string {
  const payload = `${TOKEN_PREFIX}.${claims.userId}.${claims.tokenVersion}.${claims.expiresAt}`;
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

/**
 * Checks shape, signature (constant-time) and expiry. Whether the token version is still the user's current
 * one is for the caller, which holds the store.
 */
export function verifyToken(secret: string, token: string, nowS: number): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 5 || parts[0] !== TOKEN_PREFIX) {
    return {
      ok: false,
      reason: `token must look like ${TOKEN_PREFIX}.<userId>.<version>.<expiresAt>.<hmac>`,
    };
  }
  const [, userId, versionText, expiresText, macText] = parts;
  if (!isId(userId) || !/^\d{1,15}$/.test(versionText) || !/^\d{1,15}$/.test(expiresText)) {
    return { ok: false, reason: 'token fields are malformed' };
  }
  const given = Buffer.from(macText, 'base64url');
  const expected = mac(secret, parts.slice(0, 4).join('.'));
  // Length is not secret (always 32 bytes for a well-formed token); the bytes are compared in constant time.
  if (given.length !== DIGEST_BYTES || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'token signature does not verify' };
  }
  const claims = { userId, tokenVersion: Number(versionText), expiresAt: Number(expiresText) };
  if (claims.expiresAt <= nowS) return { ok: false, reason: `token expired at ${claims.expiresAt}` };
  return { ok: true, claims };
}

/** Constant-time comparison of two secrets of any length (both are hashed to equal-length digests first). */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
