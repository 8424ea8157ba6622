import { describe, expect, it } from 'vitest';
import { KwsError } from '../errors.ts';
import { Auth } from './guard.ts';

const ADMIN_KEY = 'admin-0123456789abcdef0123';

// Found while checking issue #7's "secrets never leak": a header holding a bare key (no "Bearer ") was
// answered with its first 20 characters in the 401 message.
describe('Auth.authenticate error messages', () => {
  const auth = new Auth({
    adminKey: ADMIN_KEY,
    tokenSecret: 's'.repeat(40),
    tokenTtlS: 60,
    store: {} as never,
  });

  async function messageFor(header: string): Promise<string> {
    try {
      await auth.authenticate(header);
    } catch (err) {
      expect(err).toBeInstanceOf(KwsError);
      return (err as KwsError).message;
    }
    throw new Error(`${header} was accepted`);
  }

  it('never echoes a bare credential sent without a scheme', async () => {
    const message = await messageFor(ADMIN_KEY);
    expect(message).toBe('expected "Bearer <token>", received a header without a scheme');
    expect(message).not.toContain(ADMIN_KEY.slice(0, 12));
  });

  it('still names another scheme', async () => {
    expect(await messageFor('Token abc')).toBe('expected "Bearer <token>", received a "Token" header');
  });
});
