import { Worker } from 'node:worker_threads';
import { typeScriptWorkerSource } from '@kws/detector';
import type { TrainingProgress } from '@kws/store';
import type { ThreadReply, ThreadRequest, TrainingInput, TrainingOutput } from './messages.ts';

/** After an abort, the thread gets this long to stop between training steps before it is terminated. */
export const ABORT_GRACE_MS = 2_000;

/** personalize failed inside the thread; `badInput` when it rejected the clips (retrying cannot help). */
export class TrainingThreadError extends Error {
  constructor(
    readonly causeName: string,
    message: string,
    readonly badInput: boolean,
  ) {
    super(message);
    this.name = 'TrainingThreadError';
  }
}

export interface RunOptions {
  /** Aborting stops training (the thread is terminated if it does not stop within ABORT_GRACE_MS); the
   * promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
  onProgress?: (progress: TrainingProgress) => void;
}

/**
 * Runs one personalization on a fresh worker thread (its wasm memory is freed with it when the run ends).
 * Resolves with the model bytes and report; rejects with a TrainingThreadError, or `signal.reason`.
 */
export function runTrainingInThread(input: TrainingInput, options: RunOptions = {}): Promise<TrainingOutput> {
  const { signal, onProgress } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const thread = new Worker(typeScriptWorkerSource(new URL('./thread.ts', import.meta.url)), {
    eval: true,
    workerData: input,
    // packages/nn runs its kernels on this thread alone (it starts no kernel thread from a worker thread).
  });
  return new Promise<TrainingOutput>((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      // A finished run has posted everything; terminating frees its memory at once.
      void thread.terminate();
      outcome();
    };
    const onAbort = () => {
      thread.postMessage({ type: 'abort', reason: String(signal?.reason) } satisfies ThreadRequest);
      killTimer = setTimeout(() => settle(() => reject(signal?.reason)), ABORT_GRACE_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    thread.on('message', (reply: ThreadReply) => {
      if (reply.type === 'progress') onProgress?.(reply.progress);
      else if (reply.type === 'done') settle(() => resolve({ model: reply.model, report: reply.report }));
      else if (reply.aborted && signal?.aborted) settle(() => reject(signal.reason));
      else settle(() => reject(new TrainingThreadError(reply.name, reply.message, reply.badInput)));
    });
    thread.on('error', (err) =>
      settle(() =>
        reject(new TrainingThreadError(err.name, `training thread crashed: ${err.message}`, false)),
      ),
    );
    thread.on('exit', (code) =>
      settle(() =>
        reject(
          signal?.aborted
            ? signal.reason
            : new TrainingThreadError(
                'Exit',
                `training thread exited with code ${code} before a result`,
                false,
              ),
        ),
      ),
    );
  });
}
