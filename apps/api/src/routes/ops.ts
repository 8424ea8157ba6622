import type { FastifyPluginAsync } from 'fastify';
import type { Deps } from '../deps.ts';
import { errors } from '../errors.ts';
import { errorReplies } from './schemas.ts';

/** Probes and metrics: no credentials, no rate limit (orchestrators and Prometheus call them). */
export const opsRoutes: FastifyPluginAsync<Deps> = async (app, { store, queue, metrics }) => {
  const unlimited = { rateLimit: false } as const;

  app.get(
    '/healthz',
    {
      config: unlimited,
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['ops'],
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: unlimited,
      schema: {
        summary: 'Readiness: Redis answers and the store is writable',
        tags: ['ops'],
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              checks: {
                type: 'object',
                properties: { redis: { type: 'boolean' }, storage: { type: 'boolean' } },
              },
            },
          },
          ...errorReplies,
        },
      },
    },
    async () => {
      const [redis, storage] = await Promise.all([queue.ping(), store.isWritable()]);
      if (!redis || !storage) {
        throw errors.NOT_READY(
          `not ready: redis ${redis ? 'ok' : 'unreachable'}, storage ${storage ? 'ok' : 'not writable'}`,
        );
      }
      return { status: 'ready', checks: { redis, storage } };
    },
  );

  app.get(
    '/metrics',
    {
      config: unlimited,
      schema: { summary: 'Prometheus metrics', tags: ['ops'], produces: ['text/plain'] },
    },
    async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
