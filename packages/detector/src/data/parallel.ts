/**
 * Bounded concurrency for synthesis. espeak-ng runs as child processes, so on a 2-core machine two of them
 * in flight keep both cores busy while the main thread composes and writes clips.
 */
import { availableParallelism } from 'node:os';

/** Default number of espeak-ng processes in flight: one per core. */
export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/** A counting semaphore: `run(fn)` waits for a free slot, so at most `limit` calls of `fn` overlap. */
export class Limiter {
  readonly limit: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`concurrency limit must be an integer ≥ 1, got ${limit}`);
    this.limit = limit;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Calls `fn(item, index)` for every item with at most `limit` calls pending, and resolves with the results in
 * input order. The first rejection stops new calls and rejects once the pending ones have settled, so no work
 * outlives the call (a caller can safely delete a temp directory afterwards).
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency limit must be an integer ≥ 1, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
