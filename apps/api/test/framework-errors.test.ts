import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors } from '../src/errors.ts';
import { bearer, createUser, errorOf, startTestApp, type TestApp } from './helpers.ts';

// Found by the authorization matrix of issue #7 (reliability/test/hostile-auth.test.ts): answers that did not
// go through the error handler, so they were not `{ error: { code, message } }`.
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.cleanup();
});

describe('errors the router and the dashboard plugin answer', () => {
  it('a path parameter over 100 characters is 400 KWS_ERR_VALIDATION, like any malformed id (was 414 FST_ERR_…)', async () => {
    for (const url of [`/v1/users/${'x'.repeat(101)}/enrollments`, `/v1/jobs/${'j'.repeat(129)}`]) {
      const res = await t.app.inject({ method: 'GET', url, headers: t.admin });
      expect(res.statusCode, url).toBe(400);
      expect(errorOf(res)).toEqual({
        code: errors.VALIDATION.code,
        message: 'a path parameter is over 100 characters; ids match ^[A-Za-z0-9_-]{1,64}$',
      });
    }
  });

  it('bad percent-encoding in a path is 400 KWS_ERR_VALIDATION (was FST_ERR_BAD_URL)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/users/%E0%A4%A/model', headers: t.admin });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe(errors.VALIDATION.code);
  });

  it("the dashboard's 401 and 403 are coded errors (bull-board's handler made them ERRORS.INTERNAL_SERVER_ERROR)", async () => {
    const { token } = await createUser(t);
    const anonymous = await t.app.inject({ method: 'GET', url: '/admin/queues/api/queues' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm="kws admin"/);
    expect(errorOf(anonymous).code).toBe(errors.UNAUTHORIZED.code);
    const user = await t.app.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/pause',
      headers: bearer(token),
    });
    expect(user.statusCode).toBe(403);
    expect(errorOf(user).code).toBe(errors.FORBIDDEN.code);
  });
});
