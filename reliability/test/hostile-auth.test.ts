/**
 * Hostile input, part 3 (issue #7): the authorization matrix over every route of the api.
 *
 * The routes are recorded by an `onRoute` hook on the app `buildApp` makes (each checked with `hasRoute`), so
 * a route added later is in the matrix automatically, and one that no class below claims fails the test. Each route ×
 * credential — none, malformed headers, a forged token (right shape, wrong HMAC), an expired and a revoked
 * token (both correctly signed), another user's token, the owner's token, the admin key, admin Basic — must
 * get the answer its class allows. Ids: traversal and unicode ids are rejected the same way (400
 * KWS_ERR_VALIDATION) in every id position of every route.
 *
 * In-process (`inject`): the matrix is about the routing and hooks of the app, not the socket.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import type { FastifyInstance, FastifyServerOptions, HTTPMethods, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signToken } from '../../apps/api/src/auth/tokens.ts';
import { speechWav } from '../../apps/api/test/audio.ts';
import { bearer, createUser, type TestApp, upload } from '../../apps/api/test/helpers.ts';
import { killAll } from '../src/harness.ts';
import { inProcessApi } from '../src/hostile/in-process.ts';

interface Route {
  method: HTTPMethods;
  url: string;
}

/** Who may call a route, and what everyone else gets. */
type RouteClass = 'public' | 'admin' | 'owner' | 'job' | 'dashboard';

/** Every route must match exactly one of these; first match wins, and an unmatched route fails the test. */
const CLASSES: { class: RouteClass; method?: string; path: RegExp }[] = [
  { class: 'public', path: /^\/(healthz|readyz|metrics)$/ },
  { class: 'public', path: /^\/docs(\/.*)?$/ },
  { class: 'admin', method: 'POST', path: /^\/v1\/users$/ },
  { class: 'owner', path: /^\/v1\/users\/:userId(\/.*)?$/ },
  { class: 'job', path: /^\/v1\/jobs\/:jobId$/ },
  { class: 'dashboard', path: /^\/admin\/queues(\/.*)?$/ },
];

function classify(route: Route): RouteClass | undefined {
  return CLASSES.find((c) => (!c.method || c.method === route.method) && c.path.test(route.url))?.class;
}

/**
 * Every route the api registers, as its `onRoute` hook sees it: `fastify` is wrapped so each instance made
 * (the one `buildApp` makes) records its routes from the first one on — nothing can be registered unseen.
 */
const registered: Route[] = [];
vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fastify')>();
  const wrapped = ((options?: FastifyServerOptions) => {
    const app = actual.default(options);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat())
        registered.push({ method: method as HTTPMethods, url: route.url });
    });
    return app;
  }) as unknown as typeof actual.default;
  return { ...actual, default: wrapped };
});

/**
 * The recorded routes, each confirmed with `hasRoute` (the recording is of real routes, none lost), plus the
 * trailing-slash twins fastify adds for a plugin's `/` route (`prefixTrailingSlash: 'both'`) without an
 * `onRoute` call of their own (GET /docs/, GET /admin/queues/).
 */
function routesOf(app: FastifyInstance): Route[] {
  const twins = registered
    .filter((r) => !r.url.endsWith('/') && !r.url.endsWith('*'))
    .map((r) => ({ method: r.method, url: `${r.url}/` }))
    .filter((r) => app.hasRoute(r));
  const unique = new Map([...registered, ...twins].map((r) => [`${r.method} ${r.url}`, r]));
  for (const r of unique.values()) {
    if (!app.hasRoute(r)) throw new Error(`onRoute saw ${r.method} ${r.url}, but the app has no such route`);
  }
  return [...unique.values()];
}

interface Principals {
  /** The user the route's :userId names. */
  a: { userId: string; token: string; revoked: string };
  b: { userId: string; token: string };
  clipId: string;
}

type Credential =
  | 'none'
  | 'empty bearer'
  | 'unknown scheme'
  | 'admin key prefix'
  | 'garbage token'
  | 'forged'
  | 'expired'
  | 'revoked'
  | 'wrong user'
  | 'own'
  | 'admin basic'
  | 'admin';

/** Credentials that identify no one: every non-public route answers them 401. */
const NOT_AUTHENTICATED: Credential[] = [
  'none',
  'empty bearer',
  'unknown scheme',
  'admin key prefix',
  'garbage token',
  'forged',
  'expired',
  'revoked',
];

/** Order matters: the owner's and the admin's calls may delete or rotate, so they come last. */
const CREDENTIALS: Credential[] = [...NOT_AUTHENTICATED, 'wrong user', 'admin basic', 'own', 'admin'];

function tokenClaims(token: string): { userId: string; tokenVersion: number } {
  const [, userId, version] = token.split('.');
  return { userId, tokenVersion: Number(version) };
}

function authorization(t: TestApp, who: Principals, credential: Credential): Record<string, string> {
  const { adminKey, tokenSecret } = t.config;
  const claims = tokenClaims(who.a.token);
  const future = Math.floor(Date.now() / 1000) + 3600;
  switch (credential) {
    case 'none':
      return {};
    case 'empty bearer':
      return { authorization: 'Bearer ' };
    case 'unknown scheme':
      return { authorization: `Token ${who.a.token}` };
    case 'admin key prefix':
      return bearer(adminKey.slice(0, 12));
    case 'garbage token':
      return bearer(`v1.${claims.userId}.x.y.z`);
    case 'forged':
      return bearer(signToken(`${tokenSecret}-not`, { ...claims, expiresAt: future }));
    case 'expired':
      return bearer(signToken(tokenSecret, { ...claims, expiresAt: Math.floor(Date.now() / 1000) - 1 }));
    case 'revoked':
      return bearer(who.a.revoked);
    case 'wrong user':
      return bearer(who.b.token);
    case 'own':
      return bearer(who.a.token);
    case 'admin basic':
      return { authorization: `Basic ${Buffer.from(`admin:${adminKey}`).toString('base64')}` };
    case 'admin':
      return bearer(adminKey);
  }
}

/** The status a (class, credential) cell must get: a number, or 'allowed' (anything but 401/403/5xx). */
function expected(cls: RouteClass, credential: Credential): number | 'allowed' {
  if (cls === 'public') return 'allowed';
  if (cls === 'dashboard') {
    if (credential === 'admin' || credential === 'admin basic') return 'allowed';
    return credential === 'wrong user' || credential === 'own' ? 403 : 401;
  }
  if (NOT_AUTHENTICATED.includes(credential) || credential === 'admin basic') return 401;
  if (credential === 'admin') return 'allowed';
  if (cls === 'admin') return 403;
  if (cls === 'job') return credential === 'wrong user' ? 404 : 200;
  return credential === 'wrong user' ? 403 : 'allowed';
}

const EXPECTED_CODES: Record<number, string> = {
  401: 'KWS_ERR_UNAUTHORIZED',
  403: 'KWS_ERR_FORBIDDEN',
  404: 'KWS_ERR_JOB_NOT_FOUND',
};

let t: TestApp;
let teardown: (() => Promise<void>) | undefined;
let routes: Route[];
/** A user with 3 clips and a queued job (no worker runs here): the target of the job route. */
let jobOwner: Principals;
let jobId: string;

async function principals(withClips: number): Promise<Principals> {
  const a = await createUser(t);
  const b = await createUser(t);
  // The first token is revoked by rotating: a correctly signed token of an older token version.
  const rotated = await t.app.inject({
    method: 'POST',
    url: `/v1/users/${a.userId}/token`,
    headers: t.admin,
  });
  const current = rotated.json<{ token: string }>().token;
  let clipId = 'no-such-clip';
  if (withClips > 0) {
    const files = Array.from({ length: withClips }, (_, i) => ({
      name: `c${i}.wav`,
      bytes: speechWav(0.6, { seed: i }),
    }));
    const res = await upload(t, a.userId, current, files);
    if (res.statusCode !== 201) throw new Error(`upload answered ${res.statusCode}: ${res.body}`);
    clipId = res.json<{ clips: { clipId: string }[] }>().clips[0].clipId;
  }
  return { a: { userId: a.userId, token: current, revoked: a.token }, b, clipId };
}

function concreteUrl(url: string, who: Principals): string {
  return url
    .replace(':userId', who.a.userId)
    .replace(':clipId', who.clipId)
    .replace(':jobId', jobId)
    .replace(':queueName', 'no-such-queue')
    .replace(/:\w+/g, 'x')
    .replace(/\*$/, 'index.html');
}

beforeAll(async () => {
  ({ t, teardown } = await inProcessApi());
  routes = routesOf(t.app);
  jobOwner = await principals(3);
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/users/${jobOwner.a.userId}/models`,
    headers: bearer(jobOwner.a.token),
  });
  if (res.statusCode !== 202) throw new Error(`training request answered ${res.statusCode}: ${res.body}`);
  jobId = res.json<{ jobId: string }>().jobId;
});
afterAll(async () => {
  await teardown?.();
  await killAll();
});

describe('authorization matrix', () => {
  it('every route of the app belongs to a class', () => {
    expect(routes.length).toBeGreaterThan(20);
    // The parse found the api's own routes (a broken parse must not pass as "no routes, nothing to check").
    for (const known of ['POST /v1/users', 'POST /v1/users/:userId/enrollments', 'GET /v1/jobs/:jobId']) {
      expect(routes.map((r) => `${r.method} ${r.url}`)).toContain(known);
    }
    expect(routes.filter((r) => !classify(r)).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it('route × credential: each cell gets what its class allows', async () => {
    const wrong: string[] = [];
    const tally: Record<string, number> = {};
    for (const route of routes) {
      const cls = classify(route)!;
      // Routes that may delete or rotate get fresh users; the job route uses the user that owns the job.
      const who = cls === 'job' ? jobOwner : await principals(/:clipId/.test(route.url) ? 1 : 0);
      for (const credential of CREDENTIALS) {
        const url = concreteUrl(route.url, who);
        const res: LightMyRequestResponse = await t.app.inject({
          method: route.method,
          url,
          headers: authorization(t, who, credential),
        });
        tally[res.statusCode] = (tally[res.statusCode] ?? 0) + 1;
        const want = expected(cls, credential);
        const cell = `${route.method} ${route.url} [${cls}] × ${credential}: ${res.statusCode}`;
        if (want === 'allowed') {
          if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode >= 500) {
            wrong.push(`${cell}, expected allowed (${res.body.slice(0, 120)})`);
          }
          continue;
        }
        if (res.statusCode !== want) {
          wrong.push(`${cell}, expected ${want} (${res.body.slice(0, 120)})`);
          continue;
        }
        if (route.method !== 'HEAD') {
          const code = (res.json() as { error?: { code?: string } }).error?.code;
          if (code !== EXPECTED_CODES[want])
            wrong.push(`${cell} with code ${code}, expected ${EXPECTED_CODES[want]}`);
        }
        if (cls === 'dashboard' && want === 401 && !res.headers['www-authenticate']) {
          wrong.push(`${cell} without WWW-Authenticate`);
        }
      }
    }
    console.log(
      `hostile-auth matrix ${JSON.stringify({ routes: routes.length, credentials: CREDENTIALS.length, cells: routes.length * CREDENTIALS.length, statuses: tally })}`,
    );
    expect(wrong).toEqual([]);
  });
});

/**
 * Ids as a hostile client sends them, byte for byte (no client-side URL normalization): traversal, encoded
 * separators, NUL, control characters, unicode look-alikes, bad %-encoding, too long for an id, a job id and
 * the router.
 */
const HOSTILE_IDS = [
  '..',
  '.',
  '%2E%2E',
  '%2e',
  '..%2F..%2Fetc%2Fpasswd',
  '..%5C..%5Cwindows',
  'a%2Fb',
  '%00',
  'a%00b',
  'a%20b',
  'a%0Ab',
  '%C3%BCser',
  '%EF%BD%81lice',
  '%E2%80%AEevil',
  '%E0%A4%A',
  '%GG',
  'x'.repeat(65),
  'x'.repeat(129),
  'x'.repeat(5000),
];

/** A request with its path sent exactly as given (fetch and inject would resolve `..` and `%2E`). */
function rawRequest(port: number, method: string, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ids: one rule everywhere', () => {
  it('every id position of every route rejects hostile ids with 400 KWS_ERR_VALIDATION (admin key, real socket)', async () => {
    const who = await principals(1);
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(address).port);
    const wrong: string[] = [];
    const tally: Record<string, number> = {};
    let cells = 0;
    const withIds = routes.filter((r) => classify(r) !== 'dashboard' && /:(userId|clipId|jobId)/.test(r.url));
    expect(withIds.length).toBeGreaterThanOrEqual(10);
    for (const route of withIds) {
      for (const param of route.url.match(/:(userId|clipId|jobId)/g) ?? []) {
        // A 65-character job id is a valid job id (job ids embed a user id), so it is only a miss: 404.
        const ids = param === ':jobId' ? HOSTILE_IDS.filter((id) => id.length !== 65) : HOSTILE_IDS;
        for (const bad of ids) {
          const path = concreteUrl(route.url.replace(param, bad), who);
          const res = await rawRequest(port, route.method, path, t.admin);
          cells++;
          const code = route.method === 'HEAD' ? 'KWS_ERR_VALIDATION' : JSON.parse(res.body).error?.code;
          tally[`${res.status} ${code}`] = (tally[`${res.status} ${code}`] ?? 0) + 1;
          if (res.status !== 400 || code !== 'KWS_ERR_VALIDATION') {
            wrong.push(`${route.method} ${path.slice(0, 120)}: ${res.status} ${res.body.slice(0, 100)}`);
          }
        }
      }
    }
    console.log(`hostile-auth ids ${JSON.stringify({ routes: withIds.length, cells, answers: tally })}`);
    expect(wrong).toEqual([]);
  });

  it('a body id (POST /v1/users) follows the same rule, and any string that matches it is accepted', async () => {
    for (const userId of ['..', '../x', 'a/b', 'ünï', '\u0000', 'x'.repeat(65), '', ' ']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: t.admin,
        payload: { userId },
      });
      expect([res.statusCode, res.json().error?.code], JSON.stringify(userId)).toEqual([
        400,
        'KWS_ERR_VALIDATION',
      ]);
    }
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), async (userId) => {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/users',
          headers: t.admin,
          payload: { userId },
        });
        expect([201, 409]).toContain(res.statusCode);
      }),
      { numRuns: 50, seed: 7 },
    );
  });
});
