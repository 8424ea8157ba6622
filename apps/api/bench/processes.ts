/**
 * The bench's service processes: the api and worker entry points as their own processes (as in
 * production), started, awaited and stopped by pid with the repository's process harness
 * (`reliability/src`), on a private data dir and BullMQ prefix that are removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApiProcess,
  startApi,
  startWorker,
  type WorkerProcess,
} from '../../../reliability/src/services.ts';
import { deleteRedisKeys, REDIS_URL } from '../test/helpers.ts';

export type { ApiProcess, WorkerProcess };

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture we run on. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) process `pid` has used so far, all its threads or only thread `thread` (the
 * main thread, which runs the event loop, has the process's id), from /proc; undefined where there is no
 * /proc or the process is gone.
 */
export function cpuSeconds(pid: number, thread?: number): number | undefined {
  try {
    const stat = readFileSync(
      thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
      'utf8',
    );
    // Fields after the parenthesized command name (which may contain spaces): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** What the api and worker processes of one bench run share: Redis, a data dir, a queue prefix, keys. */
export interface BenchEnv {
  redisUrl: string;
  dataDir: string;
  queuePrefix: string;
  /** Deletes this run's Redis keys (its own prefix only) and data dir. */
  cleanup(): Promise<void>;
}

export async function benchEnv(): Promise<BenchEnv> {
  const redisUrl = REDIS_URL;
  const dataDir = await mkdtemp(join(tmpdir(), 'kws-bench-'));
  const queuePrefix = `bench-${randomBytes(6).toString('hex')}`;
  return {
    redisUrl,
    dataDir,
    queuePrefix,
    async cleanup() {
      await rm(dataDir, { recursive: true, force: true });
      await deleteRedisKeys(queuePrefix);
    },
  };
}

/** The api with the rate limit off, logging warnings only (as for the download figures recorded first). */
export function startBenchApi(bench: BenchEnv): Promise<ApiProcess> {
  return startApi({ ...bench, logLevel: 'warn' });
}

/** A worker (concurrency 1) with the default training budget and the committed base model. */
export function startBenchWorker(bench: BenchEnv): Promise<WorkerProcess> {
  return startWorker(bench);
}
