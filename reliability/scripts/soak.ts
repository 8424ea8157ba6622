/**
 * The soak: a steady mix of uploads (with deletes, so clip counts stay under the limit), model downloads and
 * revalidations, training requests and job-status polls, on loopback against a real api and real workers
 * (default 2) over a private redis-server, for a bounded time and request count. Reports throughput,
 * p50/p99 per request kind, the error rate (any 5xx, any unexpected 4xx, a network error, a failed job or a
 * model whose bytes don't match its job's sha256), RSS of every process over time, and jobs completed against
 * jobs requested once the queue has drained.
 *
 *   node --import tsx reliability/scripts/soak.ts [--duration 600] [--max-requests 200000] [--json out.json]
 *
 * `reliability/test/soak.test.ts` runs the same `runSoak` for ≤ 60 s.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { sha256Hex } from '@kws/store';
import {
  type ApiClient,
  type HttpReply,
  type JobStatus,
  sleep,
  speechWav,
  startCluster,
  waitUntil,
} from '../src/harness.ts';
import { type KindSummary, RequestBook, type RssSample, RssSampler, type RssTrend } from './soak-stats.ts';

export interface SoakOptions {
  /** Seconds of load (default 600). */
  durationS: number;
  /** The steady generator stops after issuing this many requests, even before `durationS`. */
  maxRequests: number;
  /** Worker processes (default 2). */
  workers: number;
  /** `KWS_TRAINING_STEPS` of the workers (default 20: a job takes seconds, so jobs keep completing). */
  trainingSteps: number;
  /** Users that, one job at a time, change a clip, request training, poll the job and download the model. */
  trainers: number;
  /** Pause of a trainer between two jobs (ms). */
  trainerPauseMs: number;
  /** Job status polls of a trainer while its job runs (ms between polls). */
  pollEveryMs: number;
  /** Steady requests per second, per kind. */
  rates: { upload: number; download: number; revalidate: number };
  /** Users uploading (each one upload at a time; past 10 clips the oldest is deleted). */
  uploaders: number;
  /** Users with a model that the download mix fetches. */
  devices: number;
  /** RSS is sampled from the start of the load; its trend leaves out these first seconds (JIT, caches, pools). */
  warmupS: number;
  /** RSS sampling period (ms). */
  rssEveryMs: number;
  /** Longest wait for the queue to drain after the load (s). */
  drainTimeoutS: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export const SOAK_DEFAULTS: Readonly<Omit<SoakOptions, 'log'>> = Object.freeze({
  durationS: 600,
  maxRequests: 500_000,
  workers: 2,
  trainingSteps: 20,
  trainers: 2,
  trainerPauseMs: 2_000,
  pollEveryMs: 500,
  rates: { upload: 4, download: 10, revalidate: 40 },
  uploaders: 6,
  devices: 3,
  warmupS: 60,
  rssEveryMs: 1_000,
  drainTimeoutS: 180,
});

export interface SoakReport {
  options: Omit<SoakOptions, 'log'>;
  /** Seconds the load ran. */
  loadS: number;
  requests: number;
  /** Steady requests not sent: every uploader still waited for its previous upload, or MAX_IN_FLIGHT were waiting. */
  skipped: number;
  errors: number;
  errorRate: number;
  throughputPerS: number;
  kinds: KindSummary[];
  errorSamples: string[];
  /** Errors per 10 s of the run (seconds since the load started → count). */
  errorsOverTime: Record<number, number>;
  /**
   * Event-loop delay (ms) of the load generator itself and the api's worst `nodejs_eventloop_lag_max_seconds`
   * per 10 s: a stalled client or a starved api shows here, not as a service fault.
   */
  eventLoopDelayMs: { client: { p99: number; max: number }; apiMax: number };
  jobs: { requested: number; completed: number; failed: number };
  rss: Record<string, RssTrend>;
  rssSeries: Record<string, RssSample[]>;
  /** 1-minute load average before and after (other processes share the machine). */
  loadAverage: { before: number; after: number };
}

/** Statuses each kind of request must answer with; anything else is an error. */
const EXPECTED: Record<string, readonly number[]> = {
  upload: [201],
  delete: [204],
  train: [202],
  poll: [200],
  download: [200],
  revalidate: [304],
};

/** Steady requests waiting for an answer at most; past it, new ones are counted as not sent. */
const MAX_IN_FLIGHT = 256;
/** Clips a user holds before an uploader deletes its oldest (well under the 20-clip limit). */
const KEEP_CLIPS = 10;
const CLIP_POOL = 24;

interface User {
  userId: string;
  token: string;
  /** Clip ids in upload order, as the api answered them. */
  clips: string[];
  busy: boolean;
  /** Current model's ETag (devices). */
  etag?: string;
}

export async function runSoak(partial: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const options: SoakOptions = {
    ...SOAK_DEFAULTS,
    ...partial,
    rates: { ...SOAK_DEFAULTS.rates, ...partial.rates },
  };
  const log = options.log ?? (() => {});
  const pool = Array.from({ length: CLIP_POOL }, (_, i) =>
    speechWav(1.2, { seed: 500 + i, f0: 100 + 5 * i }),
  );
  let nextClip = 0;
  const aClip = () => pool[nextClip++ % pool.length];
  const loadBefore = loadavg()[0];

  log(
    `starting redis-server, the api and ${options.workers} workers (KWS_TRAINING_STEPS=${options.trainingSteps})`,
  );
  const cluster = await startCluster({
    workers: options.workers,
    trainingSteps: options.trainingSteps,
    apiLogLevel: 'warn',
  });
  let sampler: RssSampler | undefined;
  let stopProbes = () => {};
  try {
    const { client } = cluster;
    const timed = async (kind: string, call: () => Promise<HttpReply>): Promise<HttpReply | undefined> => {
      const started = performance.now();
      try {
        const res = await call();
        const ms = performance.now() - started;
        const ok = EXPECTED[kind].includes(res.status);
        book.record(
          kind,
          ms,
          String(res.status),
          ok ? undefined : `${res.status} ${res.body.toString().slice(0, 300)}`,
        );
        return ok ? res : undefined;
      } catch (err) {
        book.record(kind, performance.now() - started, 'network', (err as Error).message);
        return undefined;
      }
    };

    // ── setup (not measured): devices with a model, uploaders, trainers with clips ─────────────────────────
    const newUser = async (clips: number): Promise<User> => {
      const { userId, token } = await client.createUser();
      const user: User = { userId, token, clips: [], busy: false };
      if (clips > 0) {
        const res = await client.uploadClips(userId, token, Array.from({ length: clips }, aClip));
        if (res.status !== 201) throw new Error(`setup upload answered ${res.status}: ${res.body}`);
        user.clips.push(...res.json<{ clips: { clipId: string }[] }>().clips.map((c) => c.clipId));
      }
      return user;
    };
    const devices = await Promise.all(Array.from({ length: options.devices }, () => newUser(3)));
    const uploaders = await Promise.all(Array.from({ length: options.uploaders }, () => newUser(0)));
    const trainers = await Promise.all(Array.from({ length: options.trainers }, () => newUser(4)));
    log(`setup: training a first model for ${devices.length} devices`);
    await Promise.all(
      devices.map(async (device) => {
        const post = await client.requestTraining(device.userId, device.token);
        const { jobId } = post.json<{ jobId: string }>();
        const done = await client.waitForJob(jobId, device.token, undefined, options.drainTimeoutS * 1000);
        if (done.state !== 'completed') throw new Error(`setup job ${jobId} ended ${JSON.stringify(done)}`);
        device.etag = `"${done.result!.sha256}"`;
      }),
    );

    // ── load ──────────────────────────────────────────────────────────────────────────────────────────
    sampler = new RssSampler(
      new Map([
        ['api', cluster.api.process.pid],
        ...cluster.workers.map((w, i) => [`worker ${i + 1}`, w.pid] as [string, number]),
      ]),
      options.rssEveryMs,
    );
    const book = new RequestBook();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    let apiLagMaxMs = 0;
    const lagScrape = setInterval(() => {
      apiLagMax(client).then(
        (ms) => {
          apiLagMaxMs = Math.max(apiLagMaxMs, ms ?? 0);
        },
        () => {},
      );
    }, 10_000);
    stopProbes = () => {
      clearInterval(lagScrape);
      loopDelay.disable();
    };
    const requested = new Set<string>();
    const completed = new Set<string>();
    const failed = new Set<string>();
    const started = performance.now();
    const deadline = started + options.durationS * 1000;
    let issued = 0;
    let skipped = 0;
    const loadRunning = () => performance.now() < deadline && issued < options.maxRequests;
    const inFlight = new Set<Promise<unknown>>();
    const launch = (work: () => Promise<unknown>) => {
      issued++;
      const p = work().finally(() => inFlight.delete(p));
      inFlight.add(p);
    };

    const upload = async (user: User) => {
      user.busy = true;
      try {
        const res = await timed('upload', () => client.uploadClips(user.userId, user.token, [aClip()]));
        if (res) user.clips.push(...res.json<{ clips: { clipId: string }[] }>().clips.map((c) => c.clipId));
        while (user.clips.length > KEEP_CLIPS) {
          const oldest = user.clips.shift()!;
          await timed('delete', () =>
            client.request('DELETE', `/v1/users/${user.userId}/enrollments/${oldest}`, { token: user.token }),
          );
        }
      } finally {
        user.busy = false;
      }
    };
    const download = async (device: User) => {
      const res = await timed('download', () => client.downloadModel(device.userId, device.token));
      if (res && `"${sha256Hex(res.body)}"` !== res.headers.get('etag')) {
        book.error(
          'download',
          `${device.userId}: body sha256 does not match ETag ${res.headers.get('etag')}`,
        );
      }
    };
    const revalidate = (device: User) =>
      timed('revalidate', () => client.downloadModel(device.userId, device.token, device.etag));

    const trainerLoop = async (user: User) => {
      while (loadRunning()) {
        // A new clip replaces the oldest, so every job trains on a new clip set.
        const oldest = user.clips.shift()!;
        await timed('delete', () =>
          client.request('DELETE', `/v1/users/${user.userId}/enrollments/${oldest}`, { token: user.token }),
        );
        const up = await timed('upload', () => client.uploadClips(user.userId, user.token, [aClip()]));
        if (up) user.clips.push(...up.json<{ clips: { clipId: string }[] }>().clips.map((c) => c.clipId));
        const post = await timed('train', () => client.requestTraining(user.userId, user.token));
        if (!post) {
          await sleep(options.trainerPauseMs);
          continue;
        }
        const { jobId } = post.json<{ jobId: string }>();
        requested.add(jobId);
        const status = await pollUntilEnded(client, jobId, user.token, options, timed);
        if (status?.state === 'completed') {
          completed.add(jobId);
          const model = await timed('download', () => client.downloadModel(user.userId, user.token));
          if (model && sha256Hex(model.body) !== status.result?.sha256) {
            book.error('job', `${jobId}: the downloaded model is not the job's (${status.result?.sha256})`);
          }
        } else {
          failed.add(jobId);
          book.error('job', `${jobId} ended ${JSON.stringify(status)}`);
        }
        await sleep(options.trainerPauseMs);
      }
    };

    log(
      `load: ${options.durationS} s, ${options.rates.upload} uploads/s, ${options.rates.download} downloads/s, ` +
        `${options.rates.revalidate} revalidations/s, ${options.trainers} trainers`,
    );
    const trainerRuns = trainers.map((t) => trainerLoop(t));
    const due = { upload: 0, download: 0, revalidate: 0 };
    let lastReport = started;
    while (loadRunning()) {
      const elapsedS = (performance.now() - started) / 1000;
      for (const kind of ['upload', 'download', 'revalidate'] as const) {
        const target = Math.floor(elapsedS * options.rates[kind]);
        while (due[kind] < target && loadRunning()) {
          due[kind]++;
          // Past the in-flight cap, or every uploader still busy, the api is slower than the offered load:
          // the request is counted as not sent instead of piling up.
          const idle = kind === 'upload' ? uploaders.find((u) => !u.busy) : undefined;
          if (inFlight.size >= MAX_IN_FLIGHT || (kind === 'upload' && !idle)) skipped++;
          else if (idle) launch(() => upload(idle));
          else {
            const device = devices[due[kind] % devices.length];
            launch(() => (kind === 'download' ? download(device) : revalidate(device)));
          }
        }
      }
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now();
        log(
          `${elapsedS.toFixed(0)} s: ${book.requests} requests, ${book.errors} errors, ${completed.size}/${requested.size} jobs`,
        );
      }
      await sleep(10);
    }
    const loadS = (performance.now() - started) / 1000;

    // ── drain: in-flight requests, the trainers' last jobs, then the queue ─────────────────────────────────
    log('draining: waiting for in-flight requests, the last jobs and an empty queue');
    await Promise.all(inFlight);
    await Promise.all(trainerRuns);
    await waitUntil(
      'the queue to drain',
      async () => {
        const counts = await queueCounts(client);
        const pending = ['waiting', 'active', 'delayed', 'prioritized'].reduce(
          (n, s) => n + (counts[s] ?? 0),
          0,
        );
        return pending === 0 ? true : undefined;
      },
      { timeoutMs: options.drainTimeoutS * 1000, everyMs: 500 },
    );
    const trends = sampler.stop(Math.min(options.warmupS, loadS / 3));
    stopProbes();
    const requests = book.requests;
    const errors = book.errors;
    const { log: _log, ...plain } = options;
    return {
      options: plain,
      loadS,
      requests,
      skipped,
      errors,
      errorRate: requests > 0 ? errors / requests : 0,
      throughputPerS: requests / loadS,
      kinds: book.summary(),
      errorSamples: book.errorSamples,
      errorsOverTime: book.errorsOverTime,
      eventLoopDelayMs: {
        client: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
        apiMax: apiLagMaxMs,
      },
      jobs: { requested: requested.size, completed: completed.size, failed: failed.size },
      rss: Object.fromEntries(trends),
      rssSeries: Object.fromEntries(sampler.series),
      loadAverage: { before: loadBefore, after: loadavg()[0] },
    };
  } finally {
    sampler?.stop();
    stopProbes();
    await cluster.teardown();
  }
}

/** Polls a job every `pollEveryMs` until it is completed or failed; undefined if the load's drain bound passes. */
async function pollUntilEnded(
  client: ApiClient,
  jobId: string,
  token: string,
  options: SoakOptions,
  timed: (kind: string, call: () => Promise<HttpReply>) => Promise<HttpReply | undefined>,
): Promise<JobStatus | undefined> {
  const giveUp = performance.now() + (options.durationS + options.drainTimeoutS) * 1000;
  while (performance.now() < giveUp) {
    const res = await timed('poll', () => client.job(jobId, token));
    const status = res?.json<JobStatus>();
    if (status?.state === 'completed' || status?.state === 'failed') return status;
    await sleep(options.pollEveryMs);
  }
  return undefined;
}

/** The api's `nodejs_eventloop_lag_max_seconds` (since its previous scrape) in ms. */
async function apiLagMax(client: ApiClient): Promise<number | undefined> {
  const res = await client.request('GET', '/metrics', { timeoutMs: 5_000 });
  const m = /^nodejs_eventloop_lag_max_seconds ([\d.e+-]+)$/m.exec(res.body.toString('utf8'));
  return m ? Number(m[1]) * 1000 : undefined;
}

/** `kws_queue_jobs{state}` from the api's /metrics. */
export async function queueCounts(client: ApiClient): Promise<Record<string, number>> {
  const res = await client.request('GET', '/metrics');
  const counts: Record<string, number> = {};
  for (const m of res.body.toString('utf8').matchAll(/^kws_queue_jobs\{state="(\w+)"\} (\d+)$/gm)) {
    counts[m[1]] = Number(m[2]);
  }
  return counts;
}

/** The report as a few aligned lines. */
export function formatReport(r: SoakReport): string {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const lines = [
    `load ${r.loadS.toFixed(0)} s on loopback: api + ${r.options.workers} workers, KWS_TRAINING_STEPS=${r.options.trainingSteps}; ` +
      `1-min load average ${r.loadAverage.before.toFixed(2)} before, ${r.loadAverage.after.toFixed(2)} after`,
    `${r.requests} requests, ${r.throughputPerS.toFixed(1)} req/s, ${r.errors} errors (rate ${r.errorRate}), ${r.skipped} not sent (api behind the offered load)`,
    `event-loop delay: load generator p99 ${r.eventLoopDelayMs.client.p99.toFixed(0)} ms, max ${r.eventLoopDelayMs.client.max.toFixed(0)} ms; api max ${r.eventLoopDelayMs.apiMax.toFixed(0)} ms`,
    `jobs: ${r.jobs.requested} requested, ${r.jobs.completed} completed, ${r.jobs.failed} failed`,
    '',
    `${'kind'.padEnd(11)}${pad('count', 8)}${pad('errors', 8)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}  statuses`,
    ...r.kinds.map(
      (k) =>
        `${k.kind.padEnd(11)}${pad(k.count, 8)}${pad(k.errors, 8)}${pad(k.p50Ms.toFixed(1), 9)}${pad(k.p99Ms.toFixed(1), 9)}` +
        `${pad(k.maxMs.toFixed(0), 9)}  ${JSON.stringify(k.statuses)}`,
    ),
    '',
    `RSS from ${Math.min(r.options.warmupS, r.loadS / 3).toFixed(0)} s into the load (before: warm-up)`,
    `${'RSS MB'.padEnd(11)}${pad('first 1/3', 10)}${pad('last 1/3', 10)}${pad('growth', 8)}${pad('MB/min', 8)}${pad('max', 7)}${pad('samples', 9)}`,
    ...Object.entries(r.rss).map(
      ([name, t]) =>
        `${name.padEnd(11)}${pad(t.firstThirdMb.toFixed(1), 10)}${pad(t.lastThirdMb.toFixed(1), 10)}` +
        `${pad(t.growthMb.toFixed(1), 8)}${pad(t.slopeMbPerMin.toFixed(2), 8)}${pad(t.maxMb.toFixed(0), 7)}${pad(t.samples, 9)}`,
    ),
  ];
  if (r.errorSamples.length > 0) {
    const overTime = Object.entries(r.errorsOverTime).map(([s, n]) => `${s} s: ${n}`);
    lines.push('', `errors per 10 s: ${overTime.join(', ')}`, 'first errors of each kind:');
    lines.push(...r.errorSamples.map((e) => `  ${e}`));
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      'max-requests': { type: 'string' },
      workers: { type: 'string' },
      'training-steps': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const num = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`--${name} must be a positive integer, received ${value}`);
    return n;
  };
  const report = await runSoak({
    durationS: num('duration', values.duration, SOAK_DEFAULTS.durationS),
    maxRequests: num('max-requests', values['max-requests'], SOAK_DEFAULTS.maxRequests),
    workers: num('workers', values.workers, SOAK_DEFAULTS.workers),
    trainingSteps: num('training-steps', values['training-steps'], SOAK_DEFAULTS.trainingSteps),
    log: (line) => process.stderr.write(`[soak] ${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  if (values.json) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(values.json, JSON.stringify(report, null, 1));
  }
  const ok = report.errors === 0 && report.jobs.completed === report.jobs.requested;
  return ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
  process.exit();
}
