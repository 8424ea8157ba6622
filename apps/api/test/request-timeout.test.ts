import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_TIMEOUT_MS } from '../src/server.ts';
import { createUser, startTestApp, type TestApp } from './helpers.ts';

// Found by the hostile-input bombs of issue #7 (reliability/test/hostile-bombs.test.ts): with fastify's
// requestTimeout of 0, an upload declaring 50 MB that never arrives held its socket and parser forever.
let t: TestApp;
let port: number;

beforeAll(async () => {
  t = await startTestApp();
  // The product bound is minutes; the behaviour is shown with short ones, checked often. Node only enforces
  // requestTimeout when headersTimeout is not longer (as with the product's 120 s and Node's 60 s default).
  expect(t.app.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
  expect(t.app.server.headersTimeout).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS);
  t.app.server.requestTimeout = 1_000;
  t.app.server.headersTimeout = 500;
  (t.app.server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = 200;
  port = Number(new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).port);
});
afterAll(async () => {
  await t.cleanup();
});

/** Sends `head` and nothing more; resolves with what came back once the server closes the socket. */
function stall(head: string): Promise<{ ms: number; reply: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      reply += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ ms: Date.now() - started, reply }));
    // A safety net for the test itself: without the bound the server would never close.
    setTimeout(
      () => socket.destroy(new Error('the server kept a stalled request open for 20 s')),
      20_000,
    ).unref();
  });
}

describe('a request that stops arriving', () => {
  it('is answered 408 and closed once the request timeout passes; nothing is stored', async () => {
    const { userId, token } = await createUser(t);
    const { reply, ms } = await stall(
      `POST /v1/users/${userId}/enrollments HTTP/1.1\r\nHost: kws\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 50000000\r\n\r\n--b\r\n',
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(1_000);
    expect(await readdir(join(t.config.dataDir, 'users', userId, 'clips'))).toEqual([]);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
  });
});
