/**
 * Clip checks (`checkClip`: decode, resample, quality, re-encode) off the event loop, on a small pool of
 * worker threads, so one upload's CPU work does not hold up every other request. Measured reason and
 * figures: BENCHMARKS.md, "Enrollment upload of a 2 s clip".
 *
 * - Threads start on the first check (an api that never sees an upload starts none) and a crashed one is
 *   replaced on the next check: the check it was running fails with an internal error (a JSON 500), the
 *   others go on.
 * - The queue is bounded: beyond `maxQueued` waiting checks, a check runs on the event loop instead, which
 *   slows the api down as a whole (backpressure) rather than buffering uploads without limit.
 * - A rejected clip keeps its `KWS_ERR_BAD_AUDIO` code, status and message: the thread sends them back and
 *   the error is rebuilt here.
 * - `close()` (the api's onClose hook, after in-flight requests finished) terminates the threads; checks
 *   still running or waiting are rejected.
 */
import { Worker } from 'node:worker_threads';
import { typeScriptWorkerSource } from '@kws/detector/ts-worker';
import { KwsError } from '../errors.ts';
import { type CheckedClip, checkClip } from './quality.ts';

/** Checks waiting for a thread, per thread, before further checks run on the event loop. */
export const DEFAULT_QUEUED_PER_THREAD = 16;

export interface ClipCheckPoolOptions {
  /** Worker threads; 0 checks on the event loop (no pool). The api's default: `KWS_CHECK_THREADS` in config.ts. */
  threads: number;
  /** Checks waiting for a thread beyond which a check runs on the event loop. Default 16 per thread. */
  maxQueued?: number;
  /** The module the threads run (tests give one that crashes). Default ./check-thread.ts. */
  threadModule?: URL;
}

/** Main thread → check thread. */
export interface CheckRequest {
  id: number;
  fileName: string;
  bytes: Uint8Array;
}

/** Check thread → main thread: the checked clip, or the error `checkClip` threw. */
export type CheckReply =
  | { id: number; ok: true; clip: CheckedClip }
  | { id: number; ok: false; code?: string; statusCode?: number; message: string };

interface Task {
  request: CheckRequest;
  resolve(clip: CheckedClip): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  task?: Task;
}

export class ClipCheckPool {
  readonly threads: number;
  readonly maxQueued: number;
  readonly #threadModule: URL;
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  #nextId = 0;
  #closing: Promise<void> | undefined;

  constructor(options: ClipCheckPoolOptions) {
    const { threads } = options;
    if (!Number.isInteger(threads) || threads < 0) {
      throw new RangeError(`ClipCheckPool threads must be an integer ≥ 0, got ${threads}`);
    }
    const maxQueued = options.maxQueued ?? DEFAULT_QUEUED_PER_THREAD * threads;
    if (!Number.isInteger(maxQueued) || maxQueued < 0) {
      throw new RangeError(`ClipCheckPool maxQueued must be an integer ≥ 0, got ${maxQueued}`);
    }
    this.threads = threads;
    this.maxQueued = maxQueued;
    this.#threadModule = options.threadModule ?? new URL('./check-thread.ts', import.meta.url);
  }

  /** `checkClip(fileName, bytes)` on a pool thread; `bytes` may be handed over (do not use it afterwards). */
  check(fileName: string, bytes: Uint8Array): Promise<CheckedClip> {
    if (this.#closing) return Promise.reject(new Error('clip check pool is closed'));
    const busy = this.#slots.filter((slot) => slot.task).length;
    if (this.threads === 0 || (busy >= this.threads && this.#queue.length >= this.maxQueued)) {
      try {
        return Promise.resolve(checkClip(fileName, bytes));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<CheckedClip>((resolve, reject) => {
      this.#queue.push({ request: { id: this.#nextId++, fileName, bytes }, resolve, reject });
      this.#dispatch();
    });
  }

  /** Terminates the threads; checks still running or waiting are rejected. Safe to call twice (same promise). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const slots = this.#slots.splice(0);
      const unfinished = [...this.#queue.splice(0), ...slots.flatMap((slot) => slot.task ?? [])];
      for (const task of unfinished) task.reject(new Error('clip check pool closed'));
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    })();
    return this.#closing;
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => !s.task);
      if (!slot && this.#slots.length < this.threads) slot = this.#spawn();
      if (!slot) return;
      const task = this.#queue.shift() as Task;
      slot.task = task;
      const { bytes } = task.request;
      // A Buffer from Node's pool shares its ArrayBuffer with others: hand over only a buffer of its own.
      const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      slot.worker.postMessage(task.request, owned ? [bytes.buffer as ArrayBuffer] : []);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(typeScriptWorkerSource(this.#threadModule), { eval: true });
    const slot: Slot = { worker };
    this.#slots.push(slot);
    worker.on('message', (reply: CheckReply) => {
      const task = slot.task;
      if (!task || task.request.id !== reply.id) return;
      slot.task = undefined;
      if (reply.ok) task.resolve(reply.clip);
      else if (reply.code !== undefined && reply.statusCode !== undefined) {
        task.reject(new KwsError(reply.code, reply.statusCode, reply.message));
      } else task.reject(new Error(`checking "${task.request.fileName}" failed: ${reply.message}`));
      this.#dispatch();
    });
    // 'error' (an uncaught exception in the thread) is followed by 'exit'; the exit settles the check.
    let crash: Error | undefined;
    worker.on('error', (err) => {
      crash = err;
    });
    worker.on('exit', (code) => {
      const index = this.#slots.indexOf(slot);
      if (index < 0) return; // terminated by close()
      this.#slots.splice(index, 1);
      const task = slot.task;
      slot.task = undefined;
      task?.reject(
        new Error(
          `clip check thread exited (code ${code}${crash ? `: ${crash.message}` : ''}) while checking ` +
            `"${task.request.fileName}"`,
        ),
      );
      // A replacement starts when a check needs it, so a thread that cannot start never spins.
      this.#dispatch();
    });
    return slot;
  }
}
