import { resolve } from 'node:path';
import { BASE_MODEL_PATH } from '@kws/detector';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadWorkerConfig } from './config.ts';

describe('loadWorkerConfig', () => {
  it('has the documented defaults', () => {
    expect(loadWorkerConfig({})).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      dataDir: resolve('./data'),
      queuePrefix: 'kws',
      concurrency: 1,
      jobTimeoutS: 600,
      shutdownGraceS: 8,
      baseModelPath: BASE_MODEL_PATH,
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    const config = loadWorkerConfig({
      REDIS_URL: 'redis://redis:6379',
      KWS_DATA_DIR: '/data',
      KWS_QUEUE_PREFIX: 'p1',
      KWS_WORKER_CONCURRENCY: '3',
      KWS_JOB_TIMEOUT_S: '30',
      KWS_SHUTDOWN_GRACE_S: '0',
      KWS_TRAINING_STEPS: '40',
      KWS_BASE_MODEL: '/models/b.kws',
      LOG_LEVEL: 'warn',
    });
    expect(config).toEqual({
      redisUrl: 'redis://redis:6379',
      dataDir: '/data',
      queuePrefix: 'p1',
      concurrency: 3,
      jobTimeoutS: 30,
      shutdownGraceS: 0,
      trainingSteps: 40,
      baseModelPath: '/models/b.kws',
      logLevel: 'warn',
    });
  });

  it('lists every bad variable at once, naming what it received', () => {
    let error: unknown;
    try {
      loadWorkerConfig({
        REDIS_URL: 'http://x',
        KWS_WORKER_CONCURRENCY: '0',
        KWS_JOB_TIMEOUT_S: '1.5',
        KWS_TRAINING_STEPS: '-3',
        KWS_QUEUE_PREFIX: 'a b',
        LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/REDIS_URL .*"http:\/\/x"/);
    expect(problems.join('\n')).toMatch(
      /KWS_WORKER_CONCURRENCY must be an integer from 1 to 64, received "0"/,
    );
    expect(problems.join('\n')).toMatch(/KWS_JOB_TIMEOUT_S .*"1.5"/);
    expect(problems.join('\n')).toMatch(/KWS_TRAINING_STEPS .*"-3"/);
    expect(problems.join('\n')).toMatch(/KWS_QUEUE_PREFIX .*"a b"/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL .*"loud"/);
  });
});
