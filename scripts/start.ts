/**
 * `npm start`: the whole service on one machine. With REDIS_URL unset it runs a private, non-persistent
 * `redis-server` child on a free port (the store in KWS_DATA_DIR is the durable truth; Redis only holds the
 * queue). Then it starts every service whose entry point exists, and stops everything when one of them exits
 * or on SIGINT/SIGTERM (services first, Redis last).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Services in start order (an entry point that does not exist is skipped with a message). */
const SERVICES = [
  { name: 'api', entry: 'apps/api/src/main.ts' },
  { name: 'worker', entry: 'apps/worker/src/main.ts' },
] as const;

const REDIS_START_TIMEOUT_MS = 5_000;
/**
 * SIGTERM to SIGKILL. Longer than the worker's default job grace (KWS_SHUTDOWN_GRACE_S = 8 s) plus the 2 s
 * its training thread gets to stop, so a running job is handed back rather than left to stalled recovery.
 */
const STOP_GRACE_MS = 12_000;

const NO_REDIS_HELP = `kws: REDIS_URL is not set and there is no redis-server binary on PATH. Any one of these works:
  - install Redis: sudo apt-get install redis-server (Debian/Ubuntu), brew install redis (macOS); then npm start
  - use a running Redis: REDIS_URL=redis://host:6379 npm start
  - run everything in containers: docker compose up`;

function log(message: string): void {
  process.stderr.write(`[start] ${message}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket: true on +PONG. */
function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function startPrivateRedis(): Promise<{ child: ChildProcess; url: string }> {
  if (spawnSync('redis-server', ['--version']).error) {
    process.stderr.write(`${NO_REDIS_HELP}\n`);
    process.exit(1);
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    // Its own process group: a terminal's Ctrl-C reaches the services, and Redis is stopped after them.
    { stdio: ['ignore', 'inherit', 'inherit'], detached: true },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  while (Date.now() < deadline && !exited) {
    if (await pingRedis(port)) return { child, url: `redis://127.0.0.1:${port}` };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer PING within ${REDIS_START_TIMEOUT_MS} ms`);
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function main(): Promise<void> {
  const env = { ...process.env };
  let redis: ChildProcess | undefined;
  if (!env.REDIS_URL) {
    const started = await startPrivateRedis();
    redis = started.child;
    env.REDIS_URL = started.url;
    log(`started a private redis-server at ${started.url} (not persisted; the store keeps clips and models)`);
  }
  // If this process dies without the orderly stop below, don't leave Redis running.
  process.on('exit', () => redis?.kill('SIGTERM'));

  const running: { name: string; child: ChildProcess }[] = [];
  for (const service of SERVICES) {
    const entry = join(ROOT, service.entry);
    if (!existsSync(entry)) {
      log(`${service.name}: ${service.entry} does not exist yet; not started`);
      continue;
    }
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      stdio: 'inherit',
      env,
      cwd: process.cwd(),
    });
    running.push({ name: service.name, child });
  }

  let stopping = false;
  const stopAll = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${reason})`);
    const force = setTimeout(() => {
      for (const { child } of running) child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    for (const { child } of running) child.kill('SIGTERM');
    await Promise.all(running.map(({ child }) => waitForExit(child)));
    clearTimeout(force);
    if (redis) {
      redis.kill('SIGTERM');
      await waitForExit(redis);
    }
    process.exit(code);
  };

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopAll(signal, 0));
  for (const { name, child } of running) {
    child.once('exit', (code, signal) => void stopAll(`${name} exited with ${signal ?? code}`, code ?? 1));
  }
  redis?.once('exit', (code) => void stopAll(`redis-server exited with ${code}`, 1));
  if (running.length === 0) await stopAll('no service to run', 1);
}

main().catch((err: unknown) => {
  log((err as Error).message);
  process.exit(1);
});
