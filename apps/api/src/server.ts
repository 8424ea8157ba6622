import { createHash, randomUUID } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { FastifyAdapter } from '@bull-board/fastify';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Store } from '@kws/store';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Auth } from './auth/guard.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { ClipCheckPool, type ClipCheckPoolOptions } from './enrollment/check-pool.ts';
import { errorBody, errors, KwsError, toKwsError } from './errors.ts';
import { ID_PATTERN } from './ids.ts';
import { Metrics } from './metrics.ts';
import { TrainingQueue } from './queue/training-queue.ts';
import { enrollmentsRoutes } from './routes/enrollments.ts';
import { jobsRoutes } from './routes/jobs.ts';
import { modelsRoutes } from './routes/models.ts';
import { opsRoutes } from './routes/ops.ts';
import { errorSchema } from './routes/schemas.ts';
import { usersRoutes } from './routes/users.ts';

/** JSON bodies are tiny (`{ userId }`); uploads are multipart and capped separately. */
const JSON_BODY_LIMIT = 16 * 1024;
/**
 * Longest a request may take to arrive, headers and body (10 clips of ≤ 5 s are ~10 MB: over a minute only
 * on a very slow link). Node checks it every 30 s, so a stalled request is cut after 120–150 s.
 */
export const REQUEST_TIMEOUT_MS = 120_000;
/** fastify's default; every id (≤ 64) and every job id the queue makes (`<userId>-<24 chars>-<n>`) fits. */
const MAX_PARAM_LENGTH = 100;
const RATE_WINDOW_MS = 60_000;
/** Log paths that must never reach a log line. */
const REDACT = [
  'headers.authorization',
  'headers.cookie',
  // Any object's headers: the request's, and e.g. @fastify/multipart's busboy options at trace level.
  '*.headers.authorization',
  '*.headers.cookie',
  'token',
  '*.token',
  '*.adminKey',
  '*.tokenSecret',
];

export interface BuildOptions {
  /** `false`: no logs. Default: JSON lines at `config.logLevel` to stdout; tests may give their own stream. */
  logger?: false | { stream: NodeJS.WritableStream; level?: string };
  /** Seconds since the epoch, for token expiry tests. */
  now?: () => number;
  /** Bound on every queue call (default QUEUE_TIMEOUT_MS). */
  queueTimeoutMs?: number;
  /** The clip-check pool's options beyond `config.checkThreads` (tests give a thread module that crashes). */
  clipChecks?: Partial<ClipCheckPoolOptions>;
}

/**
 * Builds the api: store, queue, auth, metrics, and every route. Nothing listens yet: tests `inject` or
 * `listen({ port: 0 })`; `main.ts` listens on the configured port. `app.close()` closes the queue too.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const store = await Store.open(config.dataDir);
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: options.logger?.level ?? config.logLevel,
            redact: REDACT,
            ...(options.logger ? { stream: options.logger.stream } : {}),
          },
    bodyLimit: JSON_BODY_LIMIT,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Strict bodies: no type coercion (7 is not "7"), unknown properties are errors, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // The router's own rejections (bad %-encoding, a path parameter over maxParamLength) bypass the error
    // handler: without this they answered fastify's `{ error: "Bad Request", code: "FST_ERR_…" }` (and 414).
    // A path parameter is an id, so both are the same 400 KWS_ERR_VALIDATION a malformed id gets.
    frameworkErrors: (err, _request, reply) => {
      const kws =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? errors.VALIDATION(
              `a path parameter is over ${MAX_PARAM_LENGTH} characters; ids match ${ID_PATTERN}`,
            )
          : err.code === 'FST_ERR_BAD_URL'
            ? errors.VALIDATION(`the path is not valid percent-encoding; ids match ${ID_PATTERN}`)
            : toKwsError(err);
      // The reply's generics are the raw route's; this one is an ordinary JSON reply.
      (reply as FastifyReply).code(kws.statusCode).send(errorBody(kws));
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Node's own default is 5 minutes, fastify's is none: a body that stops arriving (a declared 50 MB that
    // never comes, a dribble) held its socket and parser forever. Node answers 408 and closes the socket.
    requestTimeout: REQUEST_TIMEOUT_MS,
  });

  const metrics = new Metrics();
  const queue = new TrainingQueue({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    logger: app.log,
    ...(options.queueTimeoutMs ? { timeoutMs: options.queueTimeoutMs } : {}),
  });
  metrics.watchQueue(queue);
  const auth = new Auth({
    adminKey: config.adminKey,
    tokenSecret: config.tokenSecret,
    tokenTtlS: config.tokenTtlS,
    store,
    ...(options.now ? { now: options.now } : {}),
  });
  const clipChecks = new ClipCheckPool({ threads: config.checkThreads, ...options.clipChecks });
  const deps: Deps = { config, store, auth, queue, metrics, clipChecks };

  app.decorateRequest('principal', null);
  app.addSchema(errorSchema);

  app.setErrorHandler((err, request, reply) => {
    const kws = toKwsError(err);
    if (kws.statusCode >= 500 && !(err instanceof KwsError)) {
      request.log.error({ err }, 'unhandled error');
    } else if (kws.statusCode >= 500) {
      request.log.warn({ code: kws.code }, kws.message);
    }
    for (const [name, value] of Object.entries(kws.headers)) reply.header(name, value);
    reply.code(kws.statusCode).send(errorBody(kws));
  });
  app.setNotFoundHandler((request, reply) => {
    const err = errors.NOT_FOUND(`no route ${request.method} ${request.url.split('?')[0]}`);
    reply.code(err.statusCode).send(errorBody(err));
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('onClose', async () => {
    await Promise.all([queue.close(), clipChecks.close()]);
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'kws api',
        version: '0.1.0',
        description: 'Keyword-spotting personalization: users, enrollment clips, training jobs, models.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  if (config.rateLimit > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimit,
      timeWindow: RATE_WINDOW_MS,
      // Per credential; the header is hashed so the limiter's keys hold no secrets. Without one, per IP.
      keyGenerator: (request) => {
        const header = request.headers.authorization;
        return header ? `c:${createHash('sha256').update(header).digest('base64url')}` : `ip:${request.ip}`;
      },
      errorResponseBuilder: (_request, context) =>
        errors.RATE_LIMITED(`more than ${context.max} requests per minute; retry in ${context.after}`, {
          'retry-after': String(Math.ceil(context.ttl / 1000)),
        }),
    });
  }

  await app.register(multipart, { throwFileSizeLimit: true });

  await app.register(opsRoutes, deps);
  await app.register(usersRoutes, { ...deps, prefix: '/v1' });
  await app.register(enrollmentsRoutes, { ...deps, prefix: '/v1' });
  await app.register(modelsRoutes, { ...deps, prefix: '/v1' });
  await app.register(jobsRoutes, { ...deps, prefix: '/v1' });
  await app.register(async (scope) => {
    // Answered here, not thrown: bull-board's plugin has its own error handler, which turned our 401/403 into
    // `{ error: { key: "ERRORS.INTERNAL_SERVER_ERROR" }, message }`.
    scope.addHook('onRequest', async (request, reply) => {
      try {
        await auth.requireAdminOrBasic(request, reply);
      } catch (err) {
        const kws = toKwsError(err);
        return reply.code(kws.statusCode).send(errorBody(kws));
      }
    });
    const board = new FastifyAdapter();
    // @bull-board/fastify 9.10.1 pins its own @bull-board/api 9.10.1 while we have 9.10.2: the classes are the
    // same shape but TypeScript sees two declarations. Aligning the versions in package.json removes this cast.
    createBullBoard({
      queues: [new BullMQAdapter(queue.queue)],
      serverAdapter: board as unknown as IServerAdapter,
    });
    board.setBasePath('/admin/queues');
    await scope.register(board.registerPlugin(), { prefix: '/admin/queues' });
  });

  return app;
}
