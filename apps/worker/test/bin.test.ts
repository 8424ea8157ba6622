/** The `kws-worker` bin as a process: config errors exit 2 naming the variable; SIGTERM stops it cleanly. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REDIS_URL, type TestEnv, testEnv } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/kws-worker.js', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN], { env: { ...process.env, ...env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

let env: TestEnv;
beforeEach(async () => {
  env = await testEnv();
});
afterEach(async () => {
  await env.cleanup();
});

describe('kws-worker', () => {
  it('exits 2 on a bad variable, naming it and what it received', async () => {
    const p = run({ KWS_WORKER_CONCURRENCY: 'many', KWS_DATA_DIR: env.dataDir });
    expect(await p.exit).toBe(2);
    expect(p.err()).toMatch(
      /^kws-worker: invalid configuration:\n {2}- KWS_WORKER_CONCURRENCY must be an integer from 1 to 64, received "many"/,
    );
  });

  it('waits for jobs, and exits 0 on SIGTERM', async () => {
    const p = run({ REDIS_URL, KWS_DATA_DIR: env.dataDir, KWS_QUEUE_PREFIX: env.prefix, LOG_LEVEL: 'info' });
    const deadline = Date.now() + 30_000;
    while (!p.out().includes('waiting for personalization jobs') && Date.now() < deadline) {
      if (p.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(p.out(), p.err()).toContain('waiting for personalization jobs');
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(p.out()).toContain('"signal":"SIGTERM"');
  });
});
