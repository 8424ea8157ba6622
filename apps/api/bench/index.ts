/**
 * `npm run bench -w @kws/api`: model-download throughput (DESIGN §8: ≥ 5,000 req/s revalidation, full
 * downloads reported, goal ≥ 1,500 req/s). The api runs as its own process (as in production) with the rate
 * limit off; the load comes from this process over keep-alive connections. Personalization latency needs
 * the worker and is not measured here yet.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '@kws/store';
import { Redis } from 'ioredis';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
/** The reference model's 51,201 float32 parameters plus a header: the size a device downloads. */
const MODEL_BYTES = 51_201 * 4 + 2_048;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Result {
  requests: number;
  bytes: number;
  statuses: Record<number, number>;
  latenciesMs: number[];
}

function get(agent: Agent, port: number, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; bytes: number }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function load(port: number, path: string, headers: Record<string, string>): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const result: Result = { requests: 0, bytes: 0, statuses: {}, latenciesMs: [] };
  const end = performance.now() + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        const { status, bytes } = await get(agent, port, path, headers);
        result.latenciesMs.push(performance.now() - start);
        result.requests++;
        result.bytes += bytes;
        result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  return result;
}

function report(name: string, r: Result): void {
  const sorted = r.latenciesMs.sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2);
  const seconds = DURATION_MS / 1000;
  process.stdout.write(
    `${name}: ${(r.requests / seconds).toFixed(0)} req/s, ${(r.bytes / seconds / 1e6).toFixed(1)} MB/s, ` +
      `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, statuses ${JSON.stringify(r.statuses)} ` +
      `(${CONNECTIONS} connections, ${seconds} s)\n`,
  );
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kws-bench-'));
  const port = await freePort();
  const adminKey = randomBytes(16).toString('hex');
  const queuePrefix = `bench-${randomBytes(6).toString('hex')}`;
  let api: ChildProcess | undefined;
  try {
    api = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../src/main.ts')], {
      env: {
        ...process.env,
        PORT: String(port),
        KWS_DATA_DIR: dataDir,
        KWS_ADMIN_KEY: adminKey,
        KWS_TOKEN_SECRET: randomBytes(32).toString('hex'),
        KWS_RATE_LIMIT: '0',
        KWS_QUEUE_PREFIX: queuePrefix,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const created = await fetch(`${base}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'bench' }),
    });
    const { token } = (await created.json()) as { token: string };
    const store = await Store.open(dataDir);
    const model = await store.putModelVersion('bench', 'v1', { 'model.kws': randomBytes(MODEL_BYTES) });
    await store.setCurrentModel('bench', 'v1');
    const etag = `"${model.files['model.kws'].sha256}"`;
    const auth = { authorization: `Bearer ${token}` };
    const path = '/v1/users/bench/model';
    await load(port, path, { ...auth, 'if-none-match': etag }); // warm-up
    report('revalidation (If-None-Match → 304)', await load(port, path, { ...auth, 'if-none-match': etag }));
    report(`full download (${MODEL_BYTES} B → 200)`, await load(port, path, auth));
  } finally {
    if (api) {
      const exited = new Promise((resolve) => api?.once('exit', resolve));
      api.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`${queuePrefix}:*`);
    if (keys.length > 0) await redis.unlink(...keys);
    await redis.quit();
  }
}

await main();
