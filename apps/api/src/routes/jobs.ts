import type { FastifyPluginAsync } from 'fastify';
import type { Deps } from '../deps.ts';
import { errors } from '../errors.ts';
import { JOB_ID_PATTERN } from '../queue/training-queue.ts';
import { bearer, errorReplies } from './schemas.ts';

const jobStatusReply = {
  type: 'object',
  properties: {
    jobId: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'active', 'completed', 'failed'] },
    progress: {
      type: 'object',
      properties: {
        epoch: { type: 'number' },
        loss: { type: ['number', 'null'] },
        pct: { type: 'number', minimum: 0, maximum: 100 },
      },
      required: ['epoch', 'loss', 'pct'],
    },
    result: {
      type: 'object',
      properties: {
        modelVersion: { type: 'string' },
        sha256: { type: 'string' },
        metrics: {
          type: 'object',
          properties: {
            frrBefore: { type: 'number' },
            frrAfter: { type: 'number' },
            faPerHour: { type: 'number' },
            threshold: { type: 'number' },
          },
        },
      },
    },
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['jobId', 'state', 'progress'],
} as const;

/** Training job status: the owner's token or the admin key; anyone else sees 404 (existence isn't leaked). */
export const jobsRoutes: FastifyPluginAsync<Deps> = async (app, { auth, queue }) => {
  app.get<{ Params: { jobId: string } }>(
    '/jobs/:jobId',
    {
      preParsing: auth.requirePrincipal,
      schema: {
        summary: 'Status of a training job',
        tags: ['jobs'],
        security: bearer,
        params: {
          type: 'object',
          properties: { jobId: { type: 'string', pattern: JOB_ID_PATTERN } },
          required: ['jobId'],
          additionalProperties: false,
        },
        response: { 200: jobStatusReply, ...errorReplies },
      },
    },
    async (request) => {
      const { jobId } = request.params;
      const status = await queue.getStatus(jobId);
      const principal = request.principal;
      if (!status || (principal?.kind === 'user' && principal.userId !== status.userId)) {
        throw errors.JOB_NOT_FOUND(`no job ${jobId}`);
      }
      const { userId: _owner, ...reply } = status;
      return reply;
    },
  );
};
