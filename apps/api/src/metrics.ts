import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TrainingQueue } from './queue/training-queue.ts';

const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
/** Metrics collected within this long of each other share one Redis read. */
const SCRAPE_REUSE_MS = 250;

/**
 * The api's Prometheus metrics, in a registry of its own (several apps can live in one test process).
 * Queue depth and job durations are read from Redis at scrape time: job durations are observed for the
 * jobs that finished since the previous scrape (the 100 newest; the api started counting at its start).
 * Every api replica observes every job, so sum job histograms over one replica, not across them.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly #jobRun: Histogram<'outcome'>;
  readonly #jobWait: Histogram<'outcome'>;
  #queue: TrainingQueue | undefined;
  #scrape: Promise<Record<string, number> | undefined> | undefined;
  #scrapeAt = 0;
  /** Jobs that finished at or before this (epoch ms) are already observed. */
  #jobsSeenUntil = Date.now();
  readonly #seenAtWatermark = new Set<string>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#requestDuration = new Histogram({
      name: 'kws_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    const metrics = this;
    this.#jobRun = new Histogram({
      name: 'kws_job_duration_seconds',
      help: 'Training job run time (worker start to end) of jobs finished since this api started',
      labelNames: ['outcome'],
      buckets: JOB_BUCKETS,
      registers,
      async collect() {
        await metrics.#scrapeQueue();
      },
    });
    this.#jobWait = new Histogram({
      name: 'kws_job_wait_seconds',
      help: 'Training job time in the queue before a worker took it',
      labelNames: ['outcome'],
      buckets: JOB_BUCKETS,
      registers,
      async collect() {
        await metrics.#scrapeQueue();
      },
    });
    new Gauge({
      name: 'kws_queue_jobs',
      help: 'Training jobs per state',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const counts = await metrics.#scrapeQueue();
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'kws_queue_up',
      help: '1 when Redis answered this scrape',
      registers,
      async collect() {
        this.set((await metrics.#scrapeQueue()) ? 1 : 0);
      },
    });
  }

  watchQueue(queue: TrainingQueue): void {
    this.#queue = queue;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.#requestDuration.observe({ method, route, status: String(status) }, seconds);
  }

  /** One Redis read per scrape, shared by the metrics that prom-client collects concurrently. */
  #scrapeQueue(): Promise<Record<string, number> | undefined> {
    const now = Date.now();
    if (!this.#scrape || now - this.#scrapeAt > SCRAPE_REUSE_MS) {
      this.#scrapeAt = now;
      this.#scrape = this.#readQueue();
    }
    return this.#scrape;
  }

  async #readQueue(): Promise<Record<string, number> | undefined> {
    const queue = this.#queue;
    if (!queue) return undefined;
    try {
      const [counts, finished] = await Promise.all([
        queue.counts(),
        queue.finishedSince(this.#jobsSeenUntil - 1),
      ]);
      let newest = this.#jobsSeenUntil;
      for (const job of finished) {
        // Several jobs can share the watermark's millisecond: remember which of those were counted.
        if (job.finishedOn < this.#jobsSeenUntil) continue;
        if (job.finishedOn === this.#jobsSeenUntil && this.#seenAtWatermark.has(job.jobId)) continue;
        this.#jobRun.observe({ outcome: job.outcome }, job.runS);
        this.#jobWait.observe({ outcome: job.outcome }, job.waitS);
        newest = Math.max(newest, job.finishedOn);
      }
      if (newest !== this.#jobsSeenUntil) this.#seenAtWatermark.clear();
      for (const job of finished) if (job.finishedOn === newest) this.#seenAtWatermark.add(job.jobId);
      this.#jobsSeenUntil = newest;
      return counts;
    } catch {
      return undefined;
    }
  }
}
