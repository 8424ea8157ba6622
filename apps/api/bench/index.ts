/**
 * `npm run bench:api` (= `npm run bench -w @kws/api`): the service's figures, with the api (and, for
 * personalization, the worker) running as their own processes on loopback, as in production — the rate limit
 * off, a real Redis (`REDIS_URL`), a private data dir and BullMQ prefix that are removed afterwards.
 *
 * - downloads: a user's current model, revalidated (`If-None-Match` → 304) and downloaded in full;
 * - uploads: one 2 s clip per enrollment request, at 16 kHz and at 48 kHz, at concurrency 1 and 8;
 * - personalization: upload 5 clips → train → model downloadable, one job at a time on an idle worker,
 *   then 10 users at once with 1 worker.
 *
 * `-- --json` prints one JSON line at the end; `-- downloads uploads personalization` picks cases.
 * Sizes come from BENCH_* variables (see `settings`).
 */
import { cpus, loadavg } from 'node:os';
import { benchDownloads } from './downloads.ts';
import { keepAlive } from './http.ts';
import { benchBurst, benchIdle, type PersonalizationResult, type UserTiming } from './personalization.ts';
import {
  type ApiProcess,
  benchEnv,
  cpuSeconds,
  startBenchApi,
  startBenchWorker,
  type WorkerProcess,
} from './processes.ts';
import { benchUploads } from './uploads.ts';

const CASES = ['downloads', 'uploads', 'personalization'] as const;
type Case = (typeof CASES)[number];

const numbers = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${name} must be positive integers, got ${v}`);
    return n;
  });

const settings = {
  downloadConnections: numbers('BENCH_CONNECTIONS', '32')[0],
  downloadMs: numbers('BENCH_DURATION_MS', '5000')[0],
  uploadRates: numbers('BENCH_UPLOAD_RATES', '16000,44100,48000'),
  uploadConcurrency: numbers('BENCH_UPLOAD_CONCURRENCY', '1,8'),
  uploadsPerCase: numbers('BENCH_UPLOADS', '400')[0],
  idleRepeats: numbers('BENCH_REPEATS', '3')[0],
  burstUsers: numbers('BENCH_BURST_USERS', '10')[0],
  burstWorkers: numbers('BENCH_WORKERS', '1')[0],
};

const json = process.argv.includes('--json');
const picked = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const name of picked) {
  if (!(CASES as readonly string[]).includes(name)) {
    throw new RangeError(`unknown case ${JSON.stringify(name)}, expected some of ${CASES.join(', ')}`);
  }
}
const wanted = (name: Case) => picked.length === 0 || picked.includes(name);

const say = (line: string) => process.stdout.write(`${line}\n`);
const ms = (v: number) => `${v.toFixed(v < 100 ? 1 : 0)} ms`;
const s = (v: number) => `${(v / 1000).toFixed(1)} s`;
const load = () => Number(loadavg()[0].toFixed(2));
const cpu = (v: number | undefined, unit: string) =>
  v === undefined ? '' : `, api CPU ${v.toFixed(v < 10 ? 2 : 0)} ${unit}/request`;

function sayTiming(label: string, t: UserTiming): void {
  say(
    `  ${label}: ${s(t.totalMs)} (upload ${ms(t.uploadMs)}, queued ${s(t.queuedMs)}, training ${s(t.trainingMs)}, ` +
      `download ${ms(t.downloadMs)}) ${t.voice}`,
  );
}

function sayPersonalization(title: string, r: PersonalizationResult): void {
  const cpuPerJob =
    r.workerCpuSPerJob === undefined ? '' : `, worker CPU ${r.workerCpuSPerJob.toFixed(1)} s/job`;
  say(
    `${title}: p50 ${s(r.p50)}, p95 ${s(r.p95)}, max ${s(r.max)}, ${r.jobsPerMin.toFixed(1)} jobs/min${cpuPerJob} ` +
      `(${r.users} users, ${r.workers} worker)`,
  );
}

async function main(): Promise<void> {
  const bench = await benchEnv();
  let api: ApiProcess | undefined;
  const workers: WorkerProcess[] = [];
  let stopping: Promise<void> | undefined;
  // Workers first (a running job finishes or is handed back), the api last; then this run's keys and files.
  const stopAll = () => {
    stopping ??= (async () => {
      for (const worker of workers) await worker.stop();
      await api?.stop();
      await bench.cleanup();
    })();
    return stopping;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stopAll().finally(() => process.exit(130)));
  }
  const results: object[] = [];
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
  if (!json) say(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load ${load()}`);
  try {
    api = await startBenchApi(bench);

    if (wanted('downloads')) {
      const before = load();
      for (const r of await benchDownloads(bench, api, settings.downloadConnections, settings.downloadMs)) {
        results.push({ ...r, load: before });
        if (!json) {
          say(
            `${r.case === 'revalidation' ? 'revalidation (If-None-Match → 304)' : 'full download (→ 200)'}: ` +
              `${r.reqPerS.toFixed(0)} req/s, ${r.mbPerS.toFixed(1)} MB/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}${cpu(r.apiCpuUs, 'µs')} ` +
              `(${r.connections} connections, ${r.seconds.toFixed(1)} s, statuses ${JSON.stringify(r.statuses)})`,
          );
        }
      }
    }

    if (wanted('uploads')) {
      const before = load();
      const rs = await benchUploads(
        api,
        settings.uploadRates,
        settings.uploadConcurrency,
        settings.uploadsPerCase,
      );
      for (const r of rs) {
        results.push({ ...r, load: before });
        if (!json) {
          say(
            `upload 2 s @ ${r.sampleRate / 1000} kHz (${(r.fileBytes / 1024).toFixed(0)} KiB), concurrency ` +
              `${r.concurrency}: p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, max ${ms(r.max)}, ${r.reqPerS.toFixed(0)} req/s${cpu(r.apiCpuMs, 'ms')}` +
              `${r.apiMainThreadCpuMs === undefined ? '' : ` (main thread ${r.apiMainThreadCpuMs.toFixed(2)} ms)`} (${r.n} uploads)`,
          );
        }
      }
    }

    if (wanted('personalization')) {
      const agent = keepAlive(settings.burstUsers * 2);
      try {
        workers.push(await startBenchWorker(bench));
        const before = load();
        const workerCpu = () => {
          let total = 0;
          for (const worker of workers) {
            const used = cpuSeconds(worker.pid);
            if (used === undefined) return undefined;
            total += used;
          }
          return total;
        };
        const idle = await benchIdle(agent, api.port, api.adminKey, settings.idleRepeats, workerCpu);
        results.push({ ...idle.result, warmUp: idle.warmUp, load: before });
        if (!json) {
          sayPersonalization('personalization, one job on an idle worker', idle.result);
          sayTiming('first job after worker start (not counted)', idle.warmUp);
          for (const [i, t] of idle.result.timings.entries()) sayTiming(`job ${i + 1}`, t);
        }
        while (workers.length < settings.burstWorkers) workers.push(await startBenchWorker(bench));
        const burstLoad = load();
        const burst = await benchBurst(
          agent,
          api.port,
          api.adminKey,
          settings.burstUsers,
          settings.burstWorkers,
          workerCpu,
        );
        results.push({ ...burst, load: burstLoad });
        if (!json) {
          sayPersonalization(`personalization, ${settings.burstUsers} users at once`, burst);
          const q = burst.timings.map((t) => t.queuedMs).sort((a, b) => a - b);
          const t = burst.timings.map((x) => x.trainingMs).sort((a, b) => a - b);
          say(
            `  queued ${s(q[0])}–${s(q.at(-1) ?? 0)}, training ${s(t[0])}–${s(t.at(-1) ?? 0)} per job (load before ${burstLoad})`,
          );
        }
      } finally {
        agent.destroy();
      }
    }
  } catch (err) {
    for (const service of [api, ...workers]) {
      if (service)
        process.stderr.write(`--- last logs of ${service.process.name}:\n${service.process.tail()}\n`);
    }
    throw err;
  } finally {
    await stopAll();
  }
  if (json) say(JSON.stringify({ machine, loadAfter: load(), settings, results }));
  else say(`load after ${load()}`);
}

await main();
