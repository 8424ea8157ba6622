/**
 * The soak's bookkeeping: latency and outcome per request kind, RSS of a process read from /proc, and the
 * trend of an RSS series (first third against last third, least-squares slope).
 */
import { readFileSync } from 'node:fs';

export interface KindSummary {
  kind: string;
  count: number;
  errors: number;
  /** Response statuses seen (`"201"`, `"409"`…; `"network"` for a request that got no answer). */
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Latencies and statuses per request kind, the first errors of each kind in full, errors over time. */
export class RequestBook {
  readonly #latencies = new Map<string, number[]>();
  readonly #statuses = new Map<string, Record<string, number>>();
  readonly #errors = new Map<string, number>();
  /** The first `keepPerKind` errors of each kind, described (kind, seconds into the run, status, body). */
  readonly errorSamples: string[] = [];
  /** Errors per `bucketS`-second bucket since the book was made (bucket index → count). */
  readonly errorsOverTime: Record<number, number> = {};
  readonly #keepPerKind: number;
  readonly #bucketS: number;
  readonly #started = performance.now();

  constructor(keepPerKind = 4, bucketS = 10) {
    this.#keepPerKind = keepPerKind;
    this.#bucketS = bucketS;
  }

  /** One finished request; `error` describes why it counts as an error (undefined when it does not). */
  record(kind: string, ms: number, status: string, error?: string): void {
    if (!this.#latencies.has(kind)) {
      this.#latencies.set(kind, []);
      this.#statuses.set(kind, {});
      this.#errors.set(kind, 0);
    }
    this.#latencies.get(kind)!.push(ms);
    const statuses = this.#statuses.get(kind)!;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (error !== undefined) this.error(kind, error);
  }

  /** An error that is not one request's answer (a failed job, a wrong model download). */
  error(kind: string, description: string): void {
    const seen = this.#errors.get(kind) ?? 0;
    this.#errors.set(kind, seen + 1);
    const atS = (performance.now() - this.#started) / 1000;
    const bucket = Math.floor(atS / this.#bucketS) * this.#bucketS;
    this.errorsOverTime[bucket] = (this.errorsOverTime[bucket] ?? 0) + 1;
    if (seen < this.#keepPerKind) this.errorSamples.push(`${kind} at ${atS.toFixed(0)} s: ${description}`);
  }

  get requests(): number {
    let n = 0;
    for (const list of this.#latencies.values()) n += list.length;
    return n;
  }

  get errors(): number {
    let n = 0;
    for (const e of this.#errors.values()) n += e;
    return n;
  }

  summary(): KindSummary[] {
    const kinds = new Set([...this.#latencies.keys(), ...this.#errors.keys()]);
    return [...kinds].sort().map((kind) => {
      const sorted = Float64Array.from(this.#latencies.get(kind) ?? []).sort();
      return {
        kind,
        count: sorted.length,
        errors: this.#errors.get(kind) ?? 0,
        statuses: { ...this.#statuses.get(kind) },
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.length > 0 ? sorted[sorted.length - 1] : 0,
      };
    });
  }
}

/** Nearest-rank percentile of ascending values (0 for none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Resident set size of a live process in MB (`VmRSS` of /proc/<pid>/status), undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return kb ? Number(kb[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSample {
  /** Seconds since sampling started. */
  tS: number;
  mb: number;
}

export interface RssTrend {
  samples: number;
  firstThirdMb: number;
  lastThirdMb: number;
  /** Last third's mean minus the first third's. */
  growthMb: number;
  /** Least-squares slope over all samples. */
  slopeMbPerMin: number;
  maxMb: number;
}

export function rssTrend(samples: readonly RssSample[]): RssTrend {
  const n = samples.length;
  const mean = (part: readonly RssSample[]) =>
    part.length > 0 ? part.reduce((sum, s) => sum + s.mb, 0) / part.length : 0;
  const third = Math.max(1, Math.floor(n / 3));
  const firstThirdMb = mean(samples.slice(0, third));
  const lastThirdMb = mean(samples.slice(n - third));
  const tMean = samples.reduce((sum, s) => sum + s.tS, 0) / Math.max(1, n);
  const mbMean = mean(samples);
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.tS - tMean) * (s.mb - mbMean);
    den += (s.tS - tMean) ** 2;
  }
  return {
    samples: n,
    firstThirdMb,
    lastThirdMb,
    growthMb: lastThirdMb - firstThirdMb,
    slopeMbPerMin: den > 0 ? (num / den) * 60 : 0,
    maxMb: samples.reduce((max, s) => Math.max(max, s.mb), 0),
  };
}

/** Samples the RSS of named processes every `everyMs` until stopped. */
export class RssSampler {
  readonly series = new Map<string, RssSample[]>();
  readonly #started = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor(processes: ReadonlyMap<string, number>, everyMs: number) {
    for (const name of processes.keys()) this.series.set(name, []);
    const sample = () => {
      const tS = (performance.now() - this.#started) / 1000;
      for (const [name, pid] of processes) {
        const mb = rssMb(pid);
        if (mb !== undefined) this.series.get(name)!.push({ tS, mb });
      }
    };
    sample();
    this.#timer = setInterval(sample, everyMs);
  }

  /** Stops sampling; the trend of each series from `fromS` seconds on (start-up growth left out). */
  stop(fromS = 0): Map<string, RssTrend> {
    clearInterval(this.#timer);
    return new Map(
      [...this.series].map(([name, samples]) => [name, rssTrend(samples.filter((s) => s.tS >= fromS))]),
    );
  }
}
