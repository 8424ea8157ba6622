import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobTiming, TrainingQueue } from './queue/training-queue.ts';

const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

/** The api's Prometheus metrics, in a registry of its own (several apps can live in one test process). */
export class Metrics {
  readonly registry = new Registry();
  readonly #requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly #jobRun: Histogram<'outcome'>;
  readonly #jobWait: Histogram<'outcome'>;
  #queue: TrainingQueue | undefined;

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
    this.#jobRun = new Histogram({
      name: 'kws_job_duration_seconds',
      help: 'Training job run time (worker start to end) of jobs seen finishing',
      labelNames: ['outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    this.#jobWait = new Histogram({
      name: 'kws_job_wait_seconds',
      help: 'Training job time in the queue before a worker took it',
      labelNames: ['outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    const metrics = this;
    // Registered after kws_queue_jobs, whose collect() sets it, so a scrape shows this scrape's value.
    const up = new Gauge({ name: 'kws_queue_up', help: '1 when Redis answered this scrape', registers: [] });
    new Gauge({
      name: 'kws_queue_jobs',
      help: 'Training jobs per state (read from Redis at scrape time)',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        if (!metrics.#queue) return;
        try {
          const counts = await metrics.#queue.counts();
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
          up.set(1);
        } catch {
          up.set(0);
        }
      },
    });
    this.registry.registerMetric(up);
  }

  /** Queue depth is read from this queue at scrape time. */
  watchQueue(queue: TrainingQueue): void {
    this.#queue = queue;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.#requestDuration.observe({ method, route, status: String(status) }, seconds);
  }

  readonly observeJob = (timing: JobTiming): void => {
    this.#jobRun.observe({ outcome: timing.outcome }, timing.runS);
    this.#jobWait.observe({ outcome: timing.outcome }, timing.waitS);
  };
}
