import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ManagedProcess, waitUntil } from './process.ts';

/**
 * A private redis-server on a loopback port, without persistence (`--save "" --appendonly no`): a restart
 * comes back empty, as a crashed Redis without AOF would. Its working directory is a temp dir of its own.
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly process: ManagedProcess;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Starts a new server on the same port (after stop/kill; stops the running one first). */
  restart(): Promise<void>;
  /** Kills the server and removes its directory. */
  teardown(): Promise<void>;
}

export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'kws-redis-'));
  let current = await launch(port, dir);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get process() {
      return current;
    },
    async stop() {
      await current.stop(5_000);
    },
    async kill() {
      await current.kill();
    },
    async restart() {
      await current.stop(5_000);
      current = await launch(port, dir);
    },
    async teardown() {
      await current.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function launch(port: number, dir: string): Promise<ManagedProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const proc = new ManagedProcess(`redis-server :${port}`, 'redis-server', [...args, '--dir', dir], {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  });
  await waitUntil(`redis-server on port ${port} to answer PING`, () => ping(port), {
    timeoutMs: 10_000,
    failIf: () => (proc.running ? undefined : `redis-server exited:\n${proc.tail()}`),
  });
  return proc;
}

/** True when a PING on `port` answers +PONG within a second; undefined otherwise (for waitUntil). */
export function ping(port: number): Promise<true | undefined> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok ? true : undefined);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}
