import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** The repository root: children run from here so `--import tsx` and the workspaces resolve. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Logs kept per process (the tail wins): enough for a test to grep, bounded for a 10-minute soak. */
const MAX_LOG_CHARS = 8 * 1024 * 1024;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process this harness started, known by its pid. Every one is registered until it exits, so a
 * test's teardown — or, as a last resort, this process's own exit — can SIGKILL whatever is still running.
 */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  readonly #child: ChildProcess;
  #logs = '';
  #exit: ExitStatus | undefined;

  constructor(name: string, command: string, args: string[], env: Record<string, string>) {
    this.name = name;
    this.#child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // A spawn or signal failure goes to the logs (and the constructor's throw), never an uncaught 'error'.
    this.#child.on('error', (err) => {
      this.#logs += `[harness] ${name}: ${err.message}\n`;
    });
    if (this.#child.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
    this.pid = this.#child.pid;
    live.add(this);
    const append = (chunk: Buffer) => {
      this.#logs += chunk.toString('utf8');
      if (this.#logs.length > MAX_LOG_CHARS) this.#logs = this.#logs.slice(-MAX_LOG_CHARS / 2);
    };
    this.#child.stdout?.on('data', append);
    this.#child.stderr?.on('data', append);
    this.exited = new Promise((resolveExit) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        live.delete(this);
        resolveExit(this.#exit);
      });
    });
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Everything the process wrote to stdout and stderr so far (stdout and stderr interleaved). */
  logs(): string {
    return this.#logs;
  }

  /** The last `lines` lines of the logs, for error messages. */
  tail(lines = 30): string {
    return this.#logs.split('\n').slice(-lines).join('\n');
  }

  /** Sends `signal` by pid (no-op once exited). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** SIGKILL, then wait for the exit. */
  async kill(): Promise<ExitStatus> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM; SIGKILL if still running after `graceMs`. */
  async stop(graceMs = 15_000): Promise<ExitStatus> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once `pattern` appears in the logs; rejects if the process exits first or after `timeoutMs`. */
  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await waitUntil(`${this.name} to log ${pattern}`, async () => pattern.test(this.#logs) || undefined, {
      timeoutMs,
      failIf: () => (this.running ? undefined : this.#exitMessage()),
    });
  }

  #exitMessage(): string {
    return `${this.name} (pid ${this.pid}) exited (${JSON.stringify(this.#exit)}); last logs:\n${this.tail()}`;
  }
}

const live = new Set<ManagedProcess>();

/** SIGKILLs every process this harness started that is still running, and waits for their exits. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

// Last resort when a test file dies without its teardown: no child outlives this process.
process.once('exit', () => {
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
});

/** An environment for a child: only what it needs from ours (PATH, HOME, TMPDIR), plus `vars`. */
export function childEnv(vars: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) env[name] = value;
  return env;
}

/** A loopback port that was free a moment ago (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

export interface WaitOptions {
  timeoutMs?: number;
  everyMs?: number;
  /** Checked before each probe: a message ends the wait at once with that error (e.g. the process died). */
  failIf?: () => string | undefined;
}

/** Polls `probe` until it returns something other than undefined. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 60_000, everyMs = 100, failIf } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = failIf?.();
    if (failure !== undefined) throw new Error(`while waiting for ${what}: ${failure}`);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}

/** The JSON lines (pino records) of a process's logs, parsed; other lines are skipped. */
export function logEntries(logs: string): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut by the log buffer's trimming, or not JSON after all.
    }
  }
  return entries;
}
