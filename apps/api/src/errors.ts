/**
 * The api's side of the coded errors (the list itself is `@kws/store`'s `errors`, shared with the worker):
 * mapping anything thrown while handling a request, fastify's and its plugins' own errors included, to
 * `{ error: { code, message } }`.
 */

import { errors, KwsError, type KwsErrorFactory } from '@kws/store';

export { errors, KwsError, type KwsErrorName } from '@kws/store';

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
