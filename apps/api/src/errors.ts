/**
 * Every error the API answers with: one coded class per condition, carrying its HTTP status, in the style of
 * fastify's `createError('FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large', 413)`. The error handler
 * in `server.ts` maps these (and fastify's / plugins' own errors) to `{ error: { code, message } }`.
 */

export class KwsError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: string, statusCode: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'KwsError';
    this.code = code;
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

type KwsErrorFactory = ((message: string, headers?: Record<string, string>) => KwsError) & {
  readonly code: string;
  readonly statusCode: number;
};

function define(code: string, statusCode: number): KwsErrorFactory {
  const factory = (message: string, headers?: Record<string, string>) =>
    new KwsError(code, statusCode, message, headers);
  return Object.assign(factory, { code, statusCode });
}

/** The full list; tests assert on `errors.X.code` and `errors.X.statusCode`. */
export const errors = {
  /** Body, params or query failed their JSON schema, or a multipart form is malformed. */
  VALIDATION: define('KWS_ERR_VALIDATION', 400),
  /** A multipart form has no `clips` file, or a part with another field name. */
  BAD_FORM: define('KWS_ERR_BAD_FORM', 400),
  /** No credentials, unparseable, expired, wrongly signed or revoked token. */
  UNAUTHORIZED: define('KWS_ERR_UNAUTHORIZED', 401),
  /** Valid credentials that do not reach this resource (user A on user B, user on an admin route). */
  FORBIDDEN: define('KWS_ERR_FORBIDDEN', 403),
  NOT_FOUND: define('KWS_ERR_NOT_FOUND', 404),
  USER_NOT_FOUND: define('KWS_ERR_USER_NOT_FOUND', 404),
  CLIP_NOT_FOUND: define('KWS_ERR_CLIP_NOT_FOUND', 404),
  MODEL_NOT_FOUND: define('KWS_ERR_MODEL_NOT_FOUND', 404),
  JOB_NOT_FOUND: define('KWS_ERR_JOB_NOT_FOUND', 404),
  /** The model exists but has no exported form that was asked for (tfjs before the detector can export). */
  MODEL_FORMAT_UNAVAILABLE: define('KWS_ERR_MODEL_FORMAT_UNAVAILABLE', 404),
  METHOD_NOT_ALLOWED: define('KWS_ERR_METHOD_NOT_ALLOWED', 405),
  USER_EXISTS: define('KWS_ERR_USER_EXISTS', 409),
  /** Storing the batch would exceed the per-user clip limit. */
  TOO_MANY_CLIPS: define('KWS_ERR_TOO_MANY_CLIPS', 409),
  /** Training asked for with fewer clips than the minimum. */
  NOT_ENOUGH_CLIPS: define('KWS_ERR_NOT_ENOUGH_CLIPS', 409),
  /** A model version with this id is already stored (versions are immutable). */
  MODEL_VERSION_EXISTS: define('KWS_ERR_MODEL_VERSION_EXISTS', 409),
  /** A request body or a part of it is over its byte cap, or a form has too many parts/files. */
  PAYLOAD_TOO_LARGE: define('KWS_ERR_PAYLOAD_TOO_LARGE', 413),
  UNSUPPORTED_MEDIA_TYPE: define('KWS_ERR_UNSUPPORTED_MEDIA_TYPE', 415),
  /** An uploaded file is not a usable WAV or fails a quality check; the message names the file. */
  BAD_AUDIO: define('KWS_ERR_BAD_AUDIO', 422),
  RATE_LIMITED: define('KWS_ERR_RATE_LIMITED', 429),
  INTERNAL: define('KWS_ERR_INTERNAL', 500),
  /** Redis (the job queue) does not answer in time. */
  QUEUE_UNAVAILABLE: define('KWS_ERR_QUEUE_UNAVAILABLE', 503),
  /** /readyz: Redis or the store is not usable; the message says which. */
  NOT_READY: define('KWS_ERR_NOT_READY', 503),
  /** The store cannot be written (read-only file system, permissions). */
  STORAGE_UNAVAILABLE: define('KWS_ERR_STORAGE_UNAVAILABLE', 503),
  /** The store's disk is full; nothing partial was kept. */
  STORAGE_FULL: define('KWS_ERR_STORAGE_FULL', 507),
} as const;

export type KwsErrorName = keyof typeof errors;

/** The JSON every error response carries. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Statuses a foreign (fastify, plugin) client error keeps, and the code it is answered with. */
const CLIENT_STATUS_CODES: Record<number, KwsErrorFactory> = {
  400: errors.VALIDATION,
  401: errors.UNAUTHORIZED,
  403: errors.FORBIDDEN,
  404: errors.NOT_FOUND,
  405: errors.METHOD_NOT_ALLOWED,
  // @fastify/multipart answers 406 for "the request is not multipart": for us that is a wrong media type.
  406: errors.UNSUPPORTED_MEDIA_TYPE,
  413: errors.PAYLOAD_TOO_LARGE,
  415: errors.UNSUPPORTED_MEDIA_TYPE,
  429: errors.RATE_LIMITED,
};

/** Messages of @fastify/multipart's limit errors say little; say what the cap is about. */
const FOREIGN_MESSAGES: Record<string, string> = {
  FST_REQ_FILE_TOO_LARGE: 'an uploaded file is over its byte cap',
  FST_FILES_LIMIT: 'the form has more files than allowed',
  FST_PARTS_LIMIT: 'the form has more parts than allowed',
  FST_FIELDS_LIMIT: 'the form has more fields than allowed',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'expected a multipart/form-data request',
};

/**
 * Maps anything thrown while handling a request to a `KwsError`. Client errors from fastify and its plugins
 * (validation, body limits, media types, multipart limits) keep their 4xx status under a `KWS_ERR_*` code;
 * anything without a 4xx status is an internal error (the caller logs it, the client sees no details).
 */
export function toKwsError(err: unknown): KwsError {
  if (err instanceof KwsError) return err;
  const e = err as { statusCode?: unknown; status?: unknown; code?: unknown; message?: unknown };
  const status =
    typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.status === 'number' ? e.status : 0;
  if (status >= 400 && status < 500) {
    const factory = CLIENT_STATUS_CODES[status];
    const foreignCode = typeof e.code === 'string' ? e.code : '';
    const message =
      FOREIGN_MESSAGES[foreignCode] ??
      (typeof e.message === 'string' && e.message ? e.message : 'bad request');
    return factory ? factory(message) : new KwsError('KWS_ERR_BAD_REQUEST', status, message);
  }
  return errors.INTERNAL('internal error');
}

export function errorBody(err: KwsError): ErrorBody {
  return { error: { code: err.code, message: err.message } };
}
