/**
 * Worker threads that produce clips in parallel. Each clip's randomness comes from its own seeded stream, so
 * the bytes written do not depend on which worker made a clip or in what order.
 */
import { Worker } from 'node:worker_threads';
import { typeScriptWorkerSource } from '../ts-worker.ts';
import type { ClipRecord, ClipTask } from './produce.ts';
import type { RenderReply, RenderRequest, RenderWorkerData } from './render-worker.ts';

interface Pending {
  resolve(record: ClipRecord): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Why the worker stopped, once it has: a dead worker's queue would never answer. */
  failure: Error | null;
}

export class RenderPool {
  private readonly slots: Slot[];
  private nextId = 0;
  private closed = false;

  constructor(size: number, data: RenderWorkerData) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`render pool size must be an integer ≥ 1, got ${size}`);
    const code = typeScriptWorkerSource(new URL('./render-worker.ts', import.meta.url));
    this.slots = Array.from({ length: size }, () => {
      const slot: Slot = {
        worker: new Worker(code, { eval: true, workerData: data }),
        pending: new Map(),
        failure: null,
      };
      slot.worker.on('message', (reply: RenderReply) => {
        const waiting = slot.pending.get(reply.id);
        if (waiting === undefined) return;
        slot.pending.delete(reply.id);
        if ('record' in reply) waiting.resolve(reply.record);
        else waiting.reject(new Error(reply.error));
      });
      const failAll = (error: Error): void => {
        slot.failure ??= error;
        for (const waiting of slot.pending.values()) waiting.reject(slot.failure);
        slot.pending.clear();
      };
      slot.worker.on('error', failAll);
      slot.worker.on('exit', (code) => {
        if (!this.closed) failAll(new Error(`render worker exited with code ${code}`));
      });
      return slot;
    });
  }

  /** Produces one clip on the least busy worker. */
  run(task: ClipTask): Promise<ClipRecord> {
    if (this.closed) return Promise.reject(new Error('render pool is closed'));
    const live = this.slots.filter((s) => s.failure === null);
    if (live.length === 0) return Promise.reject(this.slots[0].failure as Error);
    const slot = live.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, task } satisfies RenderRequest);
    });
  }

  /** Stops every worker. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
