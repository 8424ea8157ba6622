import type { MultipartFile } from '@fastify/multipart';
import { type ClipRecord, MAX_CLIPS_PER_USER } from '@kws/store';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Deps } from '../deps.ts';
import type { CheckedClip } from '../enrollment/quality.ts';
import { errors, KwsError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { bearer, clipSchema, errorReplies, userParams } from './schemas.ts';

/** Field the WAV files come in. */
export const CLIPS_FIELD = 'clips';
/** Files per upload request. */
export const MAX_FILES_PER_REQUEST = 10;
/** Byte cap of one uploaded file, enforced while it streams. */
export const MAX_CLIP_BYTES = 5 * 1024 * 1024;
/** Byte cap of a whole upload request (checked against Content-Length before reading): files + form overhead. */
export const MAX_UPLOAD_BYTES = MAX_FILES_PER_REQUEST * MAX_CLIP_BYTES + 1024 * 1024;

const MB = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(0)} MB`;

/** Enrollment clips: multipart upload (checked, all-or-nothing), list, delete. */
export const enrollmentsRoutes: FastifyPluginAsync<Deps> = async (app, { store, auth, clipChecks }) => {
  app.post<{ Params: { userId: string } }>(
    '/users/:userId/enrollments',
    {
      preParsing: [auth.requireOwnerOrAdmin, rejectOversizedBody],
      schema: {
        summary: `Upload 1–${MAX_FILES_PER_REQUEST} WAV clips (multipart, field "${CLIPS_FIELD}")`,
        description:
          `multipart/form-data with 1–${MAX_FILES_PER_REQUEST} WAV files in fields named "${CLIPS_FIELD}", each ≤ ` +
          `${MB(MAX_CLIP_BYTES)} and 0.3–5 s long, not silent, not clipped, with speech. 413 when a file or the ` +
          'body is over its cap (cut off while streaming), 422 naming the first file that fails, 409 beyond ' +
          `${MAX_CLIPS_PER_USER} stored clips. All-or-nothing: if any file is rejected, none is stored.`,
        tags: ['enrollments'],
        security: bearer,
        consumes: ['multipart/form-data'],
        params: userParams,
        response: {
          201: {
            type: 'object',
            properties: { clips: { type: 'array', items: clipSchema } },
            required: ['clips'],
          },
          ...errorReplies,
        },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      if (!request.isMultipart()) {
        throw errors.UNSUPPORTED_MEDIA_TYPE(
          `expected multipart/form-data with WAV files in field "${CLIPS_FIELD}", received ` +
            (request.headers['content-type'] ? `"${request.headers['content-type']}"` : 'no Content-Type'),
        );
      }
      // Fail before reading a byte of audio when the user is gone. A user's token was checked against the
      // stored user a moment ago; the admin key names no user, so only then is the user read here.
      if (request.principal?.kind !== 'user' && !(await store.getUser(userId))) {
        throw errors.USER_NOT_FOUND(`user ${userId} does not exist`);
      }
      const checked: (CheckedClip & { fileName: string })[] = [];
      // Errors while parsing the form are the client's; an unexpected error while checking audio is a bug.
      let checking = false;
      try {
        const parts = request.parts({
          limits: {
            fileSize: MAX_CLIP_BYTES,
            files: MAX_FILES_PER_REQUEST,
            fields: 4,
            fieldSize: 1024,
            parts: MAX_FILES_PER_REQUEST + 4,
            headerPairs: 32,
          },
        });
        for await (const part of parts) {
          const n = checked.length + 1;
          if (part.type !== 'file') {
            throw errors.BAD_FORM(
              `unexpected form field "${part.fieldname}"; send only WAV files in field "${CLIPS_FIELD}"`,
            );
          }
          if (part.fieldname !== CLIPS_FIELD) {
            throw errors.BAD_FORM(
              `file in field "${part.fieldname}"; WAV files go in field "${CLIPS_FIELD}"`,
            );
          }
          const fileName = part.filename || `${CLIPS_FIELD}[${n}]`;
          const bytes = await readCapped(part, fileName);
          checking = true;
          checked.push({ ...(await clipChecks.check(fileName, bytes)), fileName });
          checking = false;
        }
      } catch (err) {
        reply.header('connection', 'close');
        throw checking ? err : asFormError(err);
      }
      if (checked.length === 0) {
        throw errors.BAD_FORM(
          `no files in field "${CLIPS_FIELD}"; expected 1–${MAX_FILES_PER_REQUEST} WAV files`,
        );
      }
      const records = await store.addClips(userId, checked);
      reply.code(201);
      return { clips: records.map(publicClip) };
    },
  );

  app.get<{ Params: { userId: string } }>(
    '/users/:userId/enrollments',
    {
      preParsing: auth.requireOwnerOrAdmin,
      schema: {
        summary: "List the user's stored clips",
        tags: ['enrollments'],
        security: bearer,
        params: userParams,
        response: {
          200: {
            type: 'object',
            properties: {
              clips: { type: 'array', items: clipSchema },
              maxClips: { type: 'integer' },
            },
            required: ['clips', 'maxClips'],
          },
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const clips = await store.listClips(request.params.userId);
      return { clips: clips.map(publicClip), maxClips: MAX_CLIPS_PER_USER };
    },
  );

  app.delete<{ Params: { userId: string; clipId: string } }>(
    '/users/:userId/enrollments/:clipId',
    {
      preParsing: auth.requireOwnerOrAdmin,
      schema: {
        summary: 'Delete one clip',
        tags: ['enrollments'],
        security: bearer,
        params: {
          type: 'object',
          properties: { userId: idSchema, clipId: idSchema },
          required: ['userId', 'clipId'],
          additionalProperties: false,
        },
        response: { 204: { type: 'null' }, ...errorReplies },
      },
    },
    async (request, reply) => {
      const { userId, clipId } = request.params;
      if (!(await store.deleteClip(userId, clipId))) {
        throw errors.CLIP_NOT_FOUND(`user ${userId} has no clip ${clipId}`);
      }
      return reply.code(204).send();
    },
  );
};

/** preParsing hook: refuses a body whose declared length is over the cap before reading any of it. */
async function rejectOversizedBody(request: { headers: Record<string, unknown> }, reply: FastifyReply) {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) {
    reply.header('connection', 'close');
    throw errors.PAYLOAD_TOO_LARGE(
      `upload body is ${declared} bytes, expected at most ${MAX_UPLOAD_BYTES} (${MAX_FILES_PER_REQUEST} files of ≤ ${MB(MAX_CLIP_BYTES)})`,
    );
  }
}

/** Reads one file part, failing as soon as it passes the per-file cap (the rest is never read). */
async function readCapped(part: MultipartFile, fileName: string): Promise<Uint8Array> {
  // Made only when needed: an error captures a stack trace, which showed up in the upload profile.
  const tooLarge = () =>
    errors.PAYLOAD_TOO_LARGE(`file "${fileName}" is over the ${MB(MAX_CLIP_BYTES)} per-file cap`);
  part.file.once('limit', () => part.file.destroy(tooLarge()));
  const chunks: Buffer[] = [];
  for await (const chunk of part.file) chunks.push(chunk as Buffer);
  if (part.file.truncated) throw tooLarge();
  return Buffer.concat(chunks);
}

/**
 * A rejected upload is answered at once, usually with the rest of the body unread, so the connection is
 * closed after the answer instead of draining megabytes nobody will use. Errors without a client status
 * from the multipart parser (a malformed form) are the client's: 400.
 */
function asFormError(err: unknown): unknown {
  if (err instanceof KwsError) return err;
  const status = (err as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return err;
  return errors.BAD_FORM(`malformed multipart form: ${(err as Error).message}`);
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function publicClip(clip: ClipRecord) {
  return {
    clipId: clip.clipId,
    durationS: clip.durationS,
    quality: {
      peakDb: finiteOrNull(clip.quality.peakDb),
      snrDb: finiteOrNull(clip.quality.snrDb),
      speechS: clip.quality.speechS,
    },
    fileName: clip.fileName,
    createdAt: clip.createdAt,
  };
}
