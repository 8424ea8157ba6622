/**
 * The queue's time bound under a busy event loop (found by the soak on a CPU-starved machine: training
 * requests answered 503 "Redis … did not answer in 800 ms" while Redis was up and had answered). A reply that
 * arrived while the loop was blocked past the bound is used, and a call of several round trips goes on while
 * Redis keeps answering; a Redis that is really silent still fails within the bound (redis-down.test.ts).
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingQueue } from '../src/queue/training-queue.ts';
import { deleteRedisKeys, REDIS_URL } from './helpers.ts';

const BOUND_MS = 150;
const prefix = `test-${randomUUID()}`;
let queue: TrainingQueue;

/** Keeps the event loop busy, as a burst of other requests' work on a starved CPU does. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

/** Lets the call reach the socket before the loop is blocked. */
const onTheWire = () => new Promise((resolve) => setImmediate(resolve));

beforeAll(async () => {
  queue = new TrainingQueue({ redisUrl: REDIS_URL, prefix, logger: Fastify().log, timeoutMs: BOUND_MS });
  expect(await queue.ping()).toBe(true);
  await queue.counts();
});
afterAll(async () => {
  await queue.close();
  await deleteRedisKeys(prefix);
});

describe('the queue bound with a busy event loop', () => {
  it('a reply that came while the loop was blocked past the bound wins over the expired timer', async () => {
    for (let i = 0; i < 3; i++) {
      const ping = queue.ping();
      await onTheWire();
      blockEventLoop(3 * BOUND_MS);
      expect(await ping).toBe(true);

      const counts = queue.counts();
      await onTheWire();
      blockEventLoop(3 * BOUND_MS);
      expect(await counts).toMatchObject({ active: 0 });
    }
  });

  it('a call of several round trips (enqueue) goes on after the loop was blocked: Redis kept answering', async () => {
    for (let i = 0; i < 3; i++) {
      const jobId = queue.enqueue({
        userId: 'busy',
        clipIds: ['a', 'b', 'c'],
        clipSetSha256: `${i}`.repeat(64),
        requestedAt: new Date().toISOString(),
      });
      await onTheWire();
      blockEventLoop(3 * BOUND_MS);
      expect(await jobId).toMatch(/^busy-/);
    }
  });
});
