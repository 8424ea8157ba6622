import type { Store, UserRecord } from '@kws/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';
import { secretsEqual, signToken, verifyToken } from './tokens.ts';

/** Who is calling: the admin (admin key) or one user (that user's current token). */
export type Principal = { kind: 'admin' } | { kind: 'user'; userId: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hooks of routes that need credentials. */
    principal: Principal | null;
  }
}

export interface AuthOptions {
  adminKey: string;
  tokenSecret: string;
  tokenTtlS: number;
  store: Store;
  /** Seconds since the epoch; injectable for expiry tests. */
  now?: () => number;
}

/** Issues and checks credentials, and provides the `onRequest` hooks routes use. */
export class Auth {
  readonly #options: AuthOptions;
  readonly #now: () => number;

  constructor(options: AuthOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** A token for the user's current token version. */
  issueToken(user: UserRecord): { token: string; expiresAt: number } {
    const expiresAt = this.#now() + this.#options.tokenTtlS;
    const token = signToken(this.#options.tokenSecret, {
      userId: user.userId,
      tokenVersion: user.tokenVersion,
      expiresAt,
    });
    return { token, expiresAt };
  }

  /**
   * Resolves an `Authorization` header: `Bearer <admin key>`, `Bearer <user token>`, or (when `allowBasic`)
   * HTTP Basic with user `admin` and the admin key as password. Throws `KWS_ERR_UNAUTHORIZED` otherwise.
   */
  async authenticate(header: string | undefined, allowBasic = false): Promise<Principal> {
    if (!header) throw errors.UNAUTHORIZED('missing Authorization header (expected "Bearer <token>")');
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    const credential = space < 0 ? '' : header.slice(space + 1).trim();
    if (allowBasic && scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(credential, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      if (colon >= 0 && user === 'admin' && secretsEqual(decoded.slice(colon + 1), this.#options.adminKey)) {
        return { kind: 'admin' };
      }
      throw errors.UNAUTHORIZED('Basic credentials must be user "admin" with the admin key as password');
    }
    if (scheme.toLowerCase() !== 'bearer' || !credential) {
      // Without a space the whole header is the "scheme": most likely a bare token or key, never echoed.
      const received =
        space < 0 ? 'a header without a scheme' : `a ${JSON.stringify(scheme.slice(0, 20))} header`;
      throw errors.UNAUTHORIZED(`expected "Bearer <token>", received ${received}`);
    }
    if (!credential.startsWith('v1.')) {
      if (secretsEqual(credential, this.#options.adminKey)) return { kind: 'admin' };
      throw errors.UNAUTHORIZED('bearer credential is neither the admin key nor a user token');
    }
    const check = verifyToken(this.#options.tokenSecret, credential, this.#now());
    if (!check.ok) throw errors.UNAUTHORIZED(check.reason);
    const user = await this.#options.store.getUser(check.claims.userId);
    if (!user || user.tokenVersion !== check.claims.tokenVersion) {
      throw errors.UNAUTHORIZED('token was revoked (rotated, or its user was deleted)');
    }
    return { kind: 'user', userId: user.userId };
  }

  /** onRequest hook: only the admin key passes. */
  readonly requireAdmin = async (request: FastifyRequest): Promise<void> => {
    const principal = await this.authenticate(request.headers.authorization);
    if (principal.kind !== 'admin') throw errors.FORBIDDEN('this route needs the admin key');
    request.principal = principal;
  };

  /** onRequest hook for the admin dashboard: the admin key as Bearer or as Basic password of `admin`. */
  readonly requireAdminOrBasic = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      const principal = await this.authenticate(request.headers.authorization, true);
      if (principal.kind !== 'admin') throw errors.FORBIDDEN('this route needs the admin key');
      request.principal = principal;
    } catch (err) {
      // Lets a browser ask for the password.
      reply.header('www-authenticate', 'Basic realm="kws admin", charset="UTF-8"');
      throw err;
    }
  };

  /**
   * onRequest hook for `/v1/users/:userId/...`: the admin, or the user whose id is in the path. Runs before
   * the body is read, so an unauthorized upload is refused before any byte of it is parsed. The raw path
   * parameter is compared (ids are validated later by the route schema; a token's id always is one).
   */
  readonly requireOwnerOrAdmin = async (request: FastifyRequest): Promise<void> => {
    const principal = await this.authenticate(request.headers.authorization);
    const target = (request.params as { userId?: unknown }).userId;
    if (principal.kind === 'user' && principal.userId !== target) {
      throw errors.FORBIDDEN(`token of user ${principal.userId} cannot act on another user`);
    }
    request.principal = principal;
  };

  /** onRequest hook: any valid principal (the route itself decides what it may see). */
  readonly requirePrincipal = async (request: FastifyRequest): Promise<void> => {
    request.principal = await this.authenticate(request.headers.authorization);
  };
}
