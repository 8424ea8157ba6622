/**
 * Every coded error of the service: one factory per condition, carrying its HTTP status, in the style of
 * fastify's `createError('FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large', 413)`. The store throws
 * these, the worker fails jobs with their codes, and the api's error handler maps them to
 * `{ error: { code, message } }`.
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

export type KwsErrorFactory = ((message: string, headers?: Record<string, string>) => KwsError) & {
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

  // Training jobs fail with these codes (the worker's Error message starts with `<code>:`; DESIGN §5 job error).
  /** Personalization threw or gave up (the default for an uncoded failure). */
  TRAINING_FAILED: define('KWS_ERR_TRAINING_FAILED', 500),
  /** The job ran past the worker's per-job time limit (`KWS_JOB_TIMEOUT_S`). */
  TRAINING_TIMEOUT: define('KWS_ERR_TRAINING_TIMEOUT', 504),
  /** A clip the job names is no longer stored, or the user is gone: retrying cannot help. */
  TRAINING_INPUT_GONE: define('KWS_ERR_TRAINING_INPUT_GONE', 409),
  /** The trained model did not validate (load, finite outputs, threshold, metrics); `current` did not move. */
  MODEL_INVALID: define('KWS_ERR_MODEL_INVALID', 500),
} as const;

export type KwsErrorName = keyof typeof errors;
