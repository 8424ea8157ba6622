import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { childEnv, freePort, ManagedProcess, REPO_ROOT, waitUntil } from './process.ts';

const API_MAIN = join(REPO_ROOT, 'apps/api/src/main.ts');
const WORKER_MAIN = join(REPO_ROOT, 'apps/worker/src/main.ts');

/** Runs a TypeScript entry point the way `npm start` does: node with tsx, no build step. */
function nodeTs(name: string, entry: string, env: Record<string, string>): ManagedProcess {
  return new ManagedProcess(name, process.execPath, ['--import', 'tsx', entry], env);
}

export interface ApiOptions {
  redisUrl: string;
  dataDir: string;
  queuePrefix: string;
  /** Default: random (≥ 16 characters, as config requires). */
  adminKey?: string;
  /** Default: random (≥ 32 characters). */
  tokenSecret?: string;
  /** Default: a free port. */
  port?: number;
  /** Default `info`, so tests can read what the api logs. */
  logLevel?: string;
  /** Any further variables (KWS_TOKEN_TTL_S, KWS_RATE_LIMIT…); they win over the above. */
  env?: Record<string, string>;
}

/** `apps/api/src/main.ts` as its own process on a loopback port; `restart()` reuses port and env. */
export interface ApiProcess {
  readonly url: string;
  readonly port: number;
  readonly adminKey: string;
  readonly tokenSecret: string;
  readonly env: Readonly<Record<string, string>>;
  /** The running (or last) process; a new one after `restart()`. */
  readonly process: ManagedProcess;
  /** Everything every incarnation of this api logged. */
  logs(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

export async function startApi(options: ApiOptions): Promise<ApiProcess> {
  const port = options.port ?? (await freePort());
  const adminKey = options.adminKey ?? `admin-${randomBytes(16).toString('hex')}`;
  const tokenSecret = options.tokenSecret ?? randomBytes(32).toString('hex');
  const env = childEnv({
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: options.redisUrl,
    KWS_DATA_DIR: options.dataDir,
    KWS_ADMIN_KEY: adminKey,
    KWS_TOKEN_SECRET: tokenSecret,
    KWS_QUEUE_PREFIX: options.queuePrefix,
    KWS_RATE_LIMIT: '0',
    LOG_LEVEL: options.logLevel ?? 'info',
    ...options.env,
  });
  const url = `http://127.0.0.1:${port}`;
  const previousLogs: string[] = [];
  const launch = async () => {
    const proc = nodeTs(`api :${port}`, API_MAIN, env);
    await waitUntil(`the api on port ${port} to answer /healthz`, () => healthy(url), {
      timeoutMs: 60_000,
      failIf: () => (proc.running ? undefined : `the api exited:\n${proc.tail()}`),
    });
    return proc;
  };
  let current = await launch();
  return {
    url,
    port,
    adminKey,
    tokenSecret,
    env,
    get process() {
      return current;
    },
    logs: () => [...previousLogs, current.logs()].join(''),
    async stop() {
      await current.stop();
    },
    async kill() {
      await current.kill();
    },
    async restart() {
      await current.stop();
      previousLogs.push(current.logs());
      current = await launch();
    },
  };
}

async function healthy(url: string): Promise<true | undefined> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200 || undefined;
  } catch {
    return undefined;
  }
}

export interface WorkerOptions {
  redisUrl: string;
  dataDir: string;
  queuePrefix: string;
  /** `KWS_TRAINING_STEPS`; default personalize's own. */
  trainingSteps?: number;
  /** `KWS_WORKER_CONCURRENCY`, default 1. */
  concurrency?: number;
  /** Further variables; LOG_LEVEL stays `info` or lower, readiness is read from the log. */
  env?: Record<string, string>;
}

/** `apps/worker/src/main.ts` as its own process, resolved once it waits for jobs. */
export interface WorkerProcess {
  readonly process: ManagedProcess;
  readonly pid: number;
  logs(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<WorkerProcess> {
  const env = childEnv({
    REDIS_URL: options.redisUrl,
    KWS_DATA_DIR: options.dataDir,
    KWS_QUEUE_PREFIX: options.queuePrefix,
    KWS_WORKER_CONCURRENCY: String(options.concurrency ?? 1),
    KWS_TRAINING_STEPS: options.trainingSteps === undefined ? undefined : String(options.trainingSteps),
    KWS_SHUTDOWN_GRACE_S: '2',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const proc = nodeTs('worker', WORKER_MAIN, env);
  await proc.waitForLog(/waiting for personalization jobs/, 60_000);
  return {
    process: proc,
    pid: proc.pid,
    logs: () => proc.logs(),
    async stop() {
      await proc.stop();
    },
    async kill() {
      await proc.kill();
    },
  };
}
