import { errors } from '@kws/store';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { clipsSeed, JobTimedOut, toJobFailure } from './processor.ts';
import { TrainingThreadError } from './training/run-in-thread.ts';

const idle = new AbortController().signal;

describe('toJobFailure', () => {
  it('codes every failure, and retries only what a retry can fix', () => {
    const cases: [unknown, AbortSignal, string, boolean][] = [
      [
        new TrainingThreadError('TrainingError', 'loss became NaN', false),
        idle,
        'KWS_ERR_TRAINING_FAILED: TrainingError: loss became NaN',
        true,
      ],
      [
        new TrainingThreadError('PersonalizeInputError', 'clip 2: too short', true),
        idle,
        'KWS_ERR_BAD_AUDIO: personalization rejected the clips: clip 2: too short',
        false,
      ],
      [errors.STORAGE_FULL('disk full'), idle, 'KWS_ERR_STORAGE_FULL: disk full', true],
      [
        errors.USER_NOT_FOUND('user u does not exist'),
        idle,
        'KWS_ERR_TRAINING_INPUT_GONE: user u does not exist',
        false,
      ],
      [errors.MODEL_INVALID('threshold 1'), idle, 'KWS_ERR_MODEL_INVALID: threshold 1', false],
      [new RangeError('boom'), idle, 'KWS_ERR_TRAINING_FAILED: RangeError: boom', true],
      ['a string', idle, 'KWS_ERR_TRAINING_FAILED: a string', true],
    ];
    for (const [err, signal, message, retried] of cases) {
      const failure = toJobFailure(err, signal);
      expect(failure.message).toBe(message);
      expect(failure instanceof UnrecoverableError).toBe(!retried);
    }
  });

  it('a timed-out job is a timeout, whatever the aborted training threw', () => {
    const controller = new AbortController();
    controller.abort(new JobTimedOut('training ran past the 5 s limit'));
    const failure = toJobFailure(new Error('aborted'), controller.signal);
    expect(failure.message).toBe('KWS_ERR_TRAINING_TIMEOUT: training ran past the 5 s limit');
    expect(failure).toBeInstanceOf(UnrecoverableError);
  });
});

describe('clipsSeed', () => {
  it('depends on the audio and its order only', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4, 5]);
    expect(clipsSeed([a, b])).toBe(clipsSeed([a.slice(), b.slice()]));
    expect(clipsSeed([a, b])).toMatch(/^[0-9a-f]{16}$/);
    expect(clipsSeed([b, a])).not.toBe(clipsSeed([a, b]));
    expect(clipsSeed([a, new Uint8Array([4, 6])])).not.toBe(clipsSeed([a, b]));
  });
});
