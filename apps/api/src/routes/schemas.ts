import { idSchema } from '../ids.ts';

/** `$id` of the shared error schema (registered in `buildApp`). */
export const ERROR_SCHEMA_ID = 'KwsError';

export const errorSchema = {
  $id: ERROR_SCHEMA_ID,
  type: 'object',
  description: 'Every error: a stable `KWS_ERR_*` code and a message naming what was received and expected.',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

const errorRef = { $ref: `${ERROR_SCHEMA_ID}#` } as const;

/** Error replies every authenticated route may give. */
export const errorReplies = { '4xx': errorRef, '5xx': errorRef } as const;

export const userParams = {
  type: 'object',
  properties: { userId: idSchema },
  required: ['userId'],
  additionalProperties: false,
} as const;

export const bearer = [{ bearer: [] }];

export const clipQualitySchema = {
  type: 'object',
  properties: {
    peakDb: { type: ['number', 'null'] },
    snrDb: { type: ['number', 'null'], description: 'null when no noise floor could be measured' },
    speechS: { type: 'number' },
  },
  required: ['peakDb', 'snrDb', 'speechS'],
} as const;

export const clipSchema = {
  type: 'object',
  properties: {
    clipId: { type: 'string' },
    durationS: { type: 'number' },
    quality: clipQualitySchema,
    fileName: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['clipId', 'durationS', 'quality'],
} as const;
