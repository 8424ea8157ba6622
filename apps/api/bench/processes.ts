/**
 * The bench's own service processes: the api and worker entry points run as children (as in production), on
 * a private data dir and BullMQ prefix, stopped by pid and cleaned up afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const REPO = join(import.meta.dirname, '../../..');
export const API_ENTRY = join(REPO, 'apps/api/src/main.ts');
export const WORKER_ENTRY = join(REPO, 'apps/worker/src/main.ts');

/** SIGTERM to SIGKILL: longer than the worker's shutdown grace (KWS_SHUTDOWN_GRACE_S, 8 s) plus its margin. */
const STOP_GRACE_MS = 15_000;
/** pino's numeric level for `warn`: child log lines at or above it are passed on to our stderr. */
const PINO_WARN = 40;
/** Child output kept for readiness checks and error messages. */
const KEPT_OUTPUT_CHARS = 64 * 1024;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Service {
  name: string;
  child: ChildProcess;
  /** The child's recent stdout (JSON log lines). */
  output(): string;
  /**
   * CPU seconds (user + system, all threads) the child has used so far, from /proc; undefined where there
   * is no /proc. Unlike wall time, this hardly grows when other processes share the cores.
   */
  cpuSeconds(): number | undefined;
  /** SIGTERM by pid, SIGKILL if it has not exited after STOP_GRACE_MS; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx entry` with `env` added to ours; warnings and errors it logs reach our stderr.
 * With BENCH_PROFILE_DIR set, the child writes V8 CPU profiles (one per thread) into its subdirectory
 * `name` there when it exits (`--cpu-prof`).
 */
export function startService(name: string, entry: string, env: Record<string, string>): Service {
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name)] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (data: string) => {
    output = (output + data).slice(-KEPT_OUTPUT_CHARS);
    const lines = (partial + data).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (isWarning(line)) process.stderr.write(`[${name}] ${line}\n`);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    name,
    child,
    output: () => output,
    cpuSeconds: () => (child.pid === undefined ? undefined : processCpuSeconds(child.pid)),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        const pid = child.pid;
        process.kill(pid, 'SIGTERM');
        const force = setTimeout(() => process.kill(pid, 'SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(force);
      })();
      return stopping;
    },
  };
}

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture we run on. */
const TICKS_PER_SECOND = 100;

function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesized command name (which may contain spaces): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

function isWarning(line: string): boolean {
  if (!line.trim()) return false;
  try {
    return ((JSON.parse(line) as { level?: number }).level ?? PINO_WARN) >= PINO_WARN;
  } catch {
    return true; // not a log line: pass it on
  }
}

/** What api and worker processes of one bench run share: a data dir, a queue prefix, keys. */
export interface BenchEnv {
  redisUrl: string;
  dataDir: string;
  queuePrefix: string;
  adminKey: string;
  /** Environment for every service of this run. */
  env: Record<string, string>;
  /** Deletes this run's Redis keys (its own prefix only) and data dir. */
  cleanup(): Promise<void>;
}

export async function benchEnv(): Promise<BenchEnv> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dataDir = await mkdtemp(join(tmpdir(), 'kws-bench-'));
  const queuePrefix = `bench-${randomBytes(6).toString('hex')}`;
  const adminKey = randomBytes(16).toString('hex');
  return {
    redisUrl,
    dataDir,
    queuePrefix,
    adminKey,
    env: {
      REDIS_URL: redisUrl,
      KWS_DATA_DIR: dataDir,
      KWS_ADMIN_KEY: adminKey,
      KWS_TOKEN_SECRET: randomBytes(32).toString('hex'),
      KWS_RATE_LIMIT: '0',
      KWS_QUEUE_PREFIX: queuePrefix,
      LOG_LEVEL: 'warn',
    },
    async cleanup() {
      await rm(dataDir, { recursive: true, force: true });
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 1000);
          if (keys.length > 0) await redis.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        await redis.quit();
      }
    },
  };
}

export type ApiService = Service & { port: number };

/** The api on a free port, resolved once `/healthz` answers. */
export async function startApi(bench: BenchEnv): Promise<ApiService> {
  const port = await freePort();
  const api = startService('api', API_ENTRY, { ...bench.env, PORT: String(port) });
  try {
    await waitUntil(
      'the api to answer /healthz',
      () => {
        if (api.child.exitCode !== null) throw new Error(`api exited with ${api.child.exitCode}`);
        return fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      30_000,
    );
  } catch (err) {
    await api.stop();
    throw err;
  }
  return Object.assign(api, { port });
}

/** A worker with the default training budget and base model, resolved once it waits for jobs. */
export async function startWorker(bench: BenchEnv, concurrency = 1): Promise<Service> {
  const worker = startService('worker', WORKER_ENTRY, {
    ...bench.env,
    // info, to see the "waiting" line; the bench only passes warnings on.
    LOG_LEVEL: 'info',
    KWS_WORKER_CONCURRENCY: String(concurrency),
    // Blank = the defaults (personalize's own step budget, the committed base model), whatever our env says.
    KWS_TRAINING_STEPS: '',
    KWS_BASE_MODEL: '',
  });
  try {
    await waitUntil(
      'the worker to wait for jobs',
      async () => {
        if (worker.child.exitCode !== null) throw new Error(`worker exited with ${worker.child.exitCode}`);
        return worker.output().includes('waiting for personalization jobs');
      },
      60_000,
    );
  } catch (err) {
    await worker.stop();
    throw err;
  }
  return worker;
}
