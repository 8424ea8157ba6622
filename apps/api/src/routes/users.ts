import type { FastifyPluginAsync } from 'fastify';
import type { Deps } from '../deps.ts';
import { errors } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { bearer, errorReplies, userParams } from './schemas.ts';

const credentialsReply = {
  type: 'object',
  properties: {
    userId: { type: 'string' },
    token: { type: 'string', description: "The user's bearer credential for /v1/users/:userId/..." },
    expiresAt: { type: 'integer', description: 'Unix seconds' },
  },
  required: ['userId', 'token', 'expiresAt'],
} as const;

/** Users and their credentials: create (admin), rotate the token, delete with everything the user owns. */
export const usersRoutes: FastifyPluginAsync<Deps> = async (app, { store, auth, queue }) => {
  app.post<{ Body: { userId?: string } }>(
    '/users',
    {
      preParsing: auth.requireAdmin,
      schema: {
        summary: 'Create a user (admin key)',
        tags: ['users'],
        security: bearer,
        body: {
          type: 'object',
          properties: { userId: idSchema },
          additionalProperties: false,
        },
        response: { 201: credentialsReply, ...errorReplies },
      },
    },
    async (request, reply) => {
      const user = await store.createUser(request.body.userId);
      reply.code(201);
      return { userId: user.userId, ...auth.issueToken(user) };
    },
  );

  app.post<{ Params: { userId: string } }>(
    '/users/:userId/token',
    {
      preParsing: auth.requireOwnerOrAdmin,
      schema: {
        summary: "Rotate the user's token: every earlier token stops working",
        tags: ['users'],
        security: bearer,
        params: userParams,
        response: { 200: credentialsReply, ...errorReplies },
      },
    },
    async (request) => {
      const user = await store.rotateTokenVersion(request.params.userId);
      return { userId: user.userId, ...auth.issueToken(user) };
    },
  );

  app.delete<{ Params: { userId: string } }>(
    '/users/:userId',
    {
      preParsing: auth.requireOwnerOrAdmin,
      schema: {
        summary: 'Delete the user: clips, models, jobs and tokens',
        tags: ['users'],
        security: bearer,
        params: userParams,
        response: { 204: { type: 'null' }, ...errorReplies },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      // The store is the truth and goes first: once it is gone, tokens stop verifying and no job can write.
      if (!(await store.deleteUser(userId))) throw errors.USER_NOT_FOUND(`user ${userId} does not exist`);
      try {
        const kept = await queue.removeUserJobs(userId);
        if (kept.length > 0) {
          request.log.warn(
            { userId, jobs: kept },
            'jobs held by a worker were not removed; they fail on their own',
          );
        }
      } catch (err) {
        request.log.warn(
          { userId, err: (err as Error).message },
          'queued jobs of the deleted user stay in Redis',
        );
      }
      return reply.code(204).send();
    },
  );
};
