/** Why a WAV file was rejected; stable strings that callers (the API's 422 answers, tests) can match on. */
export type AudioFormatErrorCode =
  | 'TRUNCATED'
  | 'BAD_MAGIC'
  | 'BAD_CHUNK'
  | 'MISSING_CHUNK'
  | 'CHUNK_ORDER'
  | 'UNSUPPORTED_CODEC'
  | 'UNSUPPORTED_BIT_DEPTH'
  | 'BAD_SAMPLE_RATE'
  | 'BAD_CHANNELS'
  | 'BAD_BLOCK_ALIGN'
  | 'NO_FRAMES'
  | 'NON_FINITE_SAMPLE';

/** A malformed or unsupported audio file. The message names what was found and what was expected. */
export class AudioFormatError extends Error {
  readonly code: AudioFormatErrorCode;

  constructor(code: AudioFormatErrorCode, message: string) {
    super(message);
    this.name = 'AudioFormatError';
    this.code = code;
  }
}
