import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './client.ts';
import { type PrivateRedis, startRedis } from './redis.ts';
import {
  type ApiOptions,
  type ApiProcess,
  startApi,
  startWorker,
  type WorkerOptions,
  type WorkerProcess,
} from './services.ts';

export interface ClusterOptions {
  /** Workers started with the cluster (default 1); more with `cluster.startWorker()`. */
  workers?: number;
  /** `KWS_TRAINING_STEPS` of every worker (default: personalize's own). */
  trainingSteps?: number;
  /** Extra worker variables. */
  workerEnv?: Record<string, string>;
  /** Extra api variables (e.g. `KWS_TOKEN_TTL_S`). */
  apiEnv?: Record<string, string>;
  /** Api LOG_LEVEL (default `info`). */
  apiLogLevel?: string;
  /** An existing data dir (e.g. a tiny tmpfs); default a fresh temp dir, removed on teardown. */
  dataDir?: string;
  /** Timeout of the cluster client's requests (default `DEFAULT_REQUEST_TIMEOUT_MS`). */
  clientTimeoutMs?: number;
}

/** A whole deployment on loopback: a private redis-server, one api process, worker processes, one data dir. */
export interface Cluster {
  readonly dataDir: string;
  readonly queuePrefix: string;
  readonly redis: PrivateRedis;
  readonly api: ApiProcess;
  readonly workers: WorkerProcess[];
  readonly client: ApiClient;
  /** Starts one more worker on the same Redis, prefix and data dir. */
  startWorker(extraEnv?: Record<string, string>): Promise<WorkerProcess>;
  /**
   * SIGKILLs every process of the cluster (by pid) and removes the data dir it created. Safe to call twice.
   * With `KWS_FAULTS_LOGS=<dir>` set, each process's logs are written there first (`<prefix>-api.log`…).
   */
  teardown(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'kws-faults-')));
  const queuePrefix = `faults-${randomUUID()}`;
  const workers: WorkerProcess[] = [];
  let redis: PrivateRedis | undefined;
  let api: ApiProcess | undefined;
  let torn: Promise<void> | undefined;
  const teardown = () => {
    torn ??= (async () => {
      await saveLogs(queuePrefix, api, workers);
      await Promise.all([...workers.map((w) => w.kill()), api?.kill(), redis?.teardown()]);
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    })();
    return torn;
  };
  try {
    redis = await startRedis();
    const apiOptions: ApiOptions = {
      redisUrl: redis.url,
      dataDir,
      queuePrefix,
      ...(options.apiLogLevel ? { logLevel: options.apiLogLevel } : {}),
      ...(options.apiEnv ? { env: options.apiEnv } : {}),
    };
    api = await startApi(apiOptions);
    const workerOptions: WorkerOptions = {
      redisUrl: redis.url,
      dataDir,
      queuePrefix,
      ...(options.trainingSteps !== undefined ? { trainingSteps: options.trainingSteps } : {}),
    };
    const addWorker = async (extraEnv: Record<string, string> = {}) => {
      const worker = await startWorker({ ...workerOptions, env: { ...options.workerEnv, ...extraEnv } });
      workers.push(worker);
      return worker;
    };
    for (let i = 0; i < (options.workers ?? 1); i++) await addWorker();
    return {
      dataDir,
      queuePrefix,
      redis,
      api,
      workers,
      client: new ApiClient(
        api.url,
        api.adminKey,
        options.clientTimeoutMs !== undefined ? { timeoutMs: options.clientTimeoutMs } : {},
      ),
      startWorker: addWorker,
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

async function saveLogs(
  prefix: string,
  api: ApiProcess | undefined,
  workers: WorkerProcess[],
): Promise<void> {
  const dir = process.env.KWS_FAULTS_LOGS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  if (api) await writeFile(join(dir, `${prefix}-api.log`), api.logs());
  for (const [i, worker] of workers.entries()) {
    await writeFile(join(dir, `${prefix}-worker-${i + 1}.log`), worker.logs());
  }
}
