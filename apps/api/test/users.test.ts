import type { InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errors } from '../src/errors.ts';
import { bearer, createUser, errorOf, startTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.cleanup();
});

/** Every route that acts on one user (DESIGN §5), for user `id`. */
function userRoutes(id: string): InjectOptions[] {
  return [
    { method: 'POST', url: `/v1/users/${id}/token` },
    { method: 'DELETE', url: `/v1/users/${id}` },
    { method: 'POST', url: `/v1/users/${id}/enrollments` },
    { method: 'GET', url: `/v1/users/${id}/enrollments` },
    { method: 'DELETE', url: `/v1/users/${id}/enrollments/c1` },
    { method: 'POST', url: `/v1/users/${id}/models` },
    { method: 'GET', url: `/v1/users/${id}/model` },
    { method: 'GET', url: `/v1/users/${id}/model/tfjs/model.json` },
    { method: 'GET', url: `/v1/users/${id}/model/tfjs/weights.bin` },
  ];
}

describe('users and tokens', () => {
  it("admin creates a user with a given or generated id; the token is the user's credential", async () => {
    const alice = await createUser(t, 'alice');
    expect(alice.userId).toBe('alice');
    expect(alice.token).toMatch(/^v1\.alice\.\d+\.\d+\.[A-Za-z0-9_-]{43}$/);
    const generated = await createUser(t);
    expect(generated.userId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/users/alice/enrollments',
      headers: bearer(alice.token),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ clips: [], maxClips: 20 });
  });

  it('a taken id is 409, a bad id or extra field 400, with JSON errors', async () => {
    await createUser(t, 'bob');
    const cases: [unknown, number, string][] = [
      [{ userId: 'bob' }, 409, errors.USER_EXISTS.code],
      [{ userId: '../bob' }, 400, errors.VALIDATION.code],
      [{ userId: 'x'.repeat(65) }, 400, errors.VALIDATION.code],
      [{ userId: 'bøb' }, 400, errors.VALIDATION.code],
      [{ userId: 7 }, 400, errors.VALIDATION.code],
      [{ name: 'bob' }, 400, errors.VALIDATION.code],
      [[], 400, errors.VALIDATION.code],
    ];
    for (const [payload, status, code] of cases) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: t.admin,
        payload: payload as object,
      });
      expect([res.statusCode, errorOf(res).code], JSON.stringify(payload)).toEqual([status, code]);
    }
    const broken = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { ...t.admin, 'content-type': 'application/json' },
      payload: '{"userId":',
    });
    expect([broken.statusCode, errorOf(broken).code]).toEqual([400, errors.VALIDATION.code]);
  });

  it('rotation revokes every earlier token; the user or the admin may rotate', async () => {
    const { token: first } = await createUser(t, 'carol');
    const rotated = await t.app.inject({
      method: 'POST',
      url: '/v1/users/carol/token',
      headers: bearer(first),
    });
    expect(rotated.statusCode).toBe(200);
    const second = rotated.json().token as string;
    expect(second).not.toBe(first);
    const old = await t.app.inject({
      method: 'GET',
      url: '/v1/users/carol/enrollments',
      headers: bearer(first),
    });
    expect([old.statusCode, errorOf(old).code]).toEqual([401, errors.UNAUTHORIZED.code]);
    expect(errorOf(old).message).toMatch(/revoked/);
    const byAdmin = await t.app.inject({ method: 'POST', url: '/v1/users/carol/token', headers: t.admin });
    const third = byAdmin.json().token as string;
    for (const [token, status] of [
      [second, 401],
      [third, 200],
    ] as const) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/users/carol/enrollments',
        headers: bearer(token),
      });
      expect(res.statusCode).toBe(status);
    }
  });

  it('deleting a user revokes its tokens, also after the id is created again', async () => {
    const { token } = await createUser(t, 'dan');
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/users/dan', headers: bearer(token) });
    expect(del.statusCode).toBe(204);
    const after = await t.app.inject({
      method: 'GET',
      url: '/v1/users/dan/enrollments',
      headers: bearer(token),
    });
    expect(after.statusCode).toBe(401);
    await createUser(t, 'dan');
    const again = await t.app.inject({
      method: 'GET',
      url: '/v1/users/dan/enrollments',
      headers: bearer(token),
    });
    expect(again.statusCode).toBe(401);
    const missing = await t.app.inject({ method: 'DELETE', url: '/v1/users/nobody', headers: t.admin });
    expect([missing.statusCode, errorOf(missing).code]).toEqual([404, errors.USER_NOT_FOUND.code]);
  });

  it('an expired token is 401 naming the expiry', async () => {
    let now = 1_900_000_000;
    await t.cleanup();
    t = await startTestApp({ tokenTtlS: 60 }, { now: () => now });
    const { token } = await createUser(t, 'eve');
    now += 59;
    const fresh = await t.app.inject({
      method: 'GET',
      url: '/v1/users/eve/enrollments',
      headers: bearer(token),
    });
    expect(fresh.statusCode).toBe(200);
    now += 1;
    const stale = await t.app.inject({
      method: 'GET',
      url: '/v1/users/eve/enrollments',
      headers: bearer(token),
    });
    expect(stale.statusCode).toBe(401);
    expect(errorOf(stale).message).toBe(`token expired at ${1_900_000_060}`);
  });
});

describe('authorization on every user route', () => {
  it("A's token on each of B's routes is 403; no or bad credentials are 401", async () => {
    const a = await createUser(t, 'userA');
    await createUser(t, 'userB');
    const forged = a.token.replace('.userA.', '.userB.');
    for (const route of userRoutes('userB')) {
      const label = `${route.method} ${route.url}`;
      const asA = await t.app.inject({ ...route, headers: bearer(a.token) });
      expect([asA.statusCode, errorOf(asA).code], label).toEqual([403, errors.FORBIDDEN.code]);
      const none = await t.app.inject(route);
      expect([none.statusCode, errorOf(none).code], label).toEqual([401, errors.UNAUTHORIZED.code]);
      for (const header of [`Bearer ${forged}`, 'Bearer nonsense', `Basic ${a.token}`, 'Bearer', a.token]) {
        const bad = await t.app.inject({ ...route, headers: { authorization: header } });
        expect([bad.statusCode, errorOf(bad).code], `${label} with ${header.slice(0, 12)}`).toEqual([
          401,
          errors.UNAUTHORIZED.code,
        ]);
      }
    }
    // B is untouched after all that.
    const b = await t.app.inject({ method: 'GET', url: '/v1/users/userB/enrollments', headers: t.admin });
    expect(b.statusCode).toBe(200);
  });

  it('a user token on a non-existent or malformed user id is 403 (existence is not revealed)', async () => {
    const a = await createUser(t, 'userA');
    for (const id of ['ghost', '..%2F..', '%C3%A9']) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/users/${id}/enrollments`,
        headers: bearer(a.token),
      });
      expect(res.statusCode, id).toBe(403);
    }
  });

  it('creating users needs the admin key: a user token is 403', async () => {
    const a = await createUser(t, 'userA');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(a.token),
      payload: {},
    });
    expect([res.statusCode, errorOf(res).code]).toEqual([403, errors.FORBIDDEN.code]);
    const wrongKey = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(`${t.config.adminKey}x`),
      payload: {},
    });
    expect(wrongKey.statusCode).toBe(401);
  });

  it('admin reaching a user id that fails the schema gets 400 naming the pattern', async () => {
    for (const id of ['..%2F..', '%C3%A9', 'a.b', 'x'.repeat(65)]) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/users/${id}/enrollments`, headers: t.admin });
      expect([res.statusCode, errorOf(res).code], id).toEqual([400, errors.VALIDATION.code]);
      expect(errorOf(res).message).toMatch(/pattern/);
    }
  });

  it('unknown routes are a JSON 404', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v2/nothing' });
    expect([res.statusCode, errorOf(res).code]).toEqual([404, errors.NOT_FOUND.code]);
  });
});
