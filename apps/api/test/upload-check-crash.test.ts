// A clip-check thread that dies mid-upload (enrollment/check-pool.ts): that upload is answered with a JSON
// 500 and stores nothing; the pool replaces the thread and the next upload is checked and stored.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { speechWav } from './audio.ts';
import { bearer, createUser, errorOf, startTestApp, type TestApp, upload } from './helpers.ts';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp(
    { checkThreads: 1 },
    { clipChecks: { threadModule: new URL('./fixtures/check-thread-faults.ts', import.meta.url) } },
  );
});
afterEach(async () => {
  await t.cleanup();
});

describe('upload when the clip-check thread crashes', () => {
  it('answers a JSON 500, keeps nothing of the batch, and checks the next upload on a new thread', async () => {
    const { userId, token } = await createUser(t);
    const clip = speechWav(1.2);
    const crashed = await upload(t, userId, token, [
      { name: 'first.wav', bytes: clip },
      { name: 'crash.wav', bytes: clip },
    ]);
    expect(crashed.statusCode).toBe(500);
    expect(errorOf(crashed)).toEqual({ code: 'KWS_ERR_INTERNAL', message: 'internal error' });
    const listed = await t.app.inject({ url: `/v1/users/${userId}/enrollments`, headers: bearer(token) });
    expect(listed.json().clips).toEqual([]);

    const next = await upload(t, userId, token, [{ name: 'next.wav', bytes: clip }]);
    expect(next.statusCode).toBe(201);
    expect(next.json().clips).toHaveLength(1);
  });
});
