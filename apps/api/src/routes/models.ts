import type { TrainingJobData } from '@kws/store';
import { type ModelFileName, type Store, sha256Hex } from '@kws/store';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { errors } from '../errors.ts';
import { bearer, errorReplies, userParams } from './schemas.ts';

/** Training needs at least this many stored clips. */
export const MIN_CLIPS_TO_TRAIN = 3;
/**
 * A job trains on at most this many clips, the user's newest: personalize takes 3–10 recordings (detector's
 * MAX_CLIPS) while a user may store 20, and a job over 11–20 clips would fail with KWS_ERR_BAD_AUDIO.
 */
export const MAX_CLIPS_TO_TRAIN = 10;

const CONTENT_TYPES: Record<ModelFileName, string> = {
  'model.kws': 'application/octet-stream',
  'model.json': 'application/json',
  'weights.bin': 'application/octet-stream',
};

const binaryReply = {
  200: { description: 'The file (ETag: its SHA-256)', type: 'string', format: 'binary' },
  304: { description: 'Not modified (If-None-Match matched the ETag)', type: 'null' },
  ...errorReplies,
} as const;

/** Training requests and model downloads (the `.kws` file, and its tfjs form once one exists). */
export const modelsRoutes: FastifyPluginAsync<Deps> = async (app, { store, auth, queue }) => {
  app.post<{ Params: { userId: string } }>(
    '/users/:userId/models',
    {
      preParsing: auth.requireOwnerOrAdmin,
      schema: {
        summary: `Train a personal model on the newest ${MAX_CLIPS_TO_TRAIN} stored clips (needs ≥ ${MIN_CLIPS_TO_TRAIN})`,
        description:
          'Enqueues a training job. While a job for the same clip set is queued or active, answers that job; ' +
          'after it ended, a new one. 503 when the queue (Redis) is unreachable.',
        tags: ['models'],
        security: bearer,
        params: userParams,
        response: {
          202: { type: 'object', properties: { jobId: { type: 'string' } }, required: ['jobId'] },
          ...errorReplies,
        },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const stored = await store.listClips(userId);
      if (stored.length < MIN_CLIPS_TO_TRAIN) {
        throw errors.NOT_ENOUGH_CLIPS(
          `user ${userId} has ${stored.length} clip(s); training needs at least ${MIN_CLIPS_TO_TRAIN}`,
        );
      }
      // Clips are listed in upload order.
      const clips = stored.slice(-MAX_CLIPS_TO_TRAIN);
      const data: TrainingJobData = {
        userId,
        clipIds: clips.map((c) => c.clipId),
        clipSetSha256: sha256Hex(
          clips
            .map((c) => `${c.clipId}:${c.sha256}`)
            .sort()
            .join('\n'),
        ),
        requestedAt: new Date().toISOString(),
      };
      const jobId = await queue.enqueue(data);
      reply.code(202);
      return { jobId };
    },
  );

  app.get<{ Params: { userId: string }; Querystring: { format?: 'kws' | 'tfjs' } }>(
    '/users/:userId/model',
    {
      preParsing: auth.requireOwnerOrAdmin,
      schema: {
        summary: 'Download the current model (.kws); ?format=tfjs redirects to the tfjs model.json',
        tags: ['models'],
        security: bearer,
        params: userParams,
        querystring: {
          type: 'object',
          properties: { format: { type: 'string', enum: ['kws', 'tfjs'] } },
          additionalProperties: false,
        },
        response: { ...binaryReply, 308: { description: 'Redirect to the tfjs model.json', type: 'null' } },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      if (request.query.format === 'tfjs') {
        return reply.redirect(`/v1/users/${userId}/model/tfjs/model.json`, 308);
      }
      return serveModelFile(store, request, reply, userId, 'model.kws');
    },
  );

  for (const file of ['model.json', 'weights.bin'] as const) {
    app.get<{ Params: { userId: string } }>(
      `/users/:userId/model/tfjs/${file}`,
      {
        preParsing: auth.requireOwnerOrAdmin,
        schema: {
          summary: `The current model's TensorFlow.js ${file}`,
          description:
            'For `tf.loadLayersModel(url, { requestInit })`. 404 KWS_ERR_MODEL_FORMAT_UNAVAILABLE while the ' +
            'current model has no tfjs export.',
          tags: ['models'],
          security: bearer,
          params: userParams,
          response: binaryReply,
        },
      },
      async (request, reply) => serveModelFile(store, request, reply, request.params.userId, file),
    );
  }
};

async function serveModelFile(
  store: Store,
  request: FastifyRequest,
  reply: FastifyReply,
  userId: string,
  file: ModelFileName,
) {
  const current = await store.getCurrentModel(userId);
  if (!current) {
    if (!(await store.getUser(userId))) throw errors.USER_NOT_FOUND(`user ${userId} does not exist`);
    throw errors.MODEL_NOT_FOUND(
      `user ${userId} has no model yet; POST /v1/users/${userId}/models trains one`,
    );
  }
  const info = current.files[file];
  if (!info) {
    throw errors.MODEL_FORMAT_UNAVAILABLE(
      `model version ${current.version} of user ${userId} has no ${file}: no tfjs export was stored with it`,
    );
  }
  const etag = `"${info.sha256}"`;
  reply.header('etag', etag);
  reply.header('cache-control', 'no-cache');
  reply.header('x-kws-model-version', current.version);
  if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  const bytes = await store.readModelFile(userId, current.version, file);
  // The user was deleted between reading `current` and reading the file.
  if (!bytes) throw errors.MODEL_NOT_FOUND(`model version ${current.version} of user ${userId} is gone`);
  reply.header('content-type', CONTENT_TYPES[file]);
  return reply.send(bytes);
}

/** RFC 9110 If-None-Match: `*`, or a list of (possibly weak) entity tags compared weakly. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
