/**
 * The training thread: runs one `personalize` call off the worker's main thread, so that BullMQ's lock
 * renewal and stalled-job checks on the main event loop keep their timing while training saturates a core.
 * Started by run-in-thread.ts; `workerData` is a TrainingInput; it posts `progress` messages, then exactly
 * one `done` or `error`; an `abort` message aborts the personalize call through its AbortSignal.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PersonalizeInputError, personalize } from '@kws/detector';
import type { ThreadReply, ThreadRequest, TrainingInput } from './messages.ts';

const port = parentPort;
if (port === null) throw new Error('training/thread.ts must run in a worker thread');
const input = workerData as TrainingInput;
const controller = new AbortController();
port.on('message', (message: ThreadRequest) => {
  if (message.type === 'abort') controller.abort(new Error(message.reason));
});
const post = (reply: ThreadReply) => port.postMessage(reply);

try {
  const { model, report } = await personalize({
    base: input.baseModelPath,
    clips: input.clips,
    seed: input.seed,
    ...(input.steps !== undefined ? { steps: input.steps } : {}),
    signal: controller.signal,
    onProgress: ({ epoch, loss, pct }) => post({ type: 'progress', progress: { epoch, loss, pct } }),
  });
  post({ type: 'done', model, report });
} catch (error) {
  const err = error instanceof Error ? error : new Error(String(error));
  post({
    type: 'error',
    name: err.name,
    message: err.message,
    badInput: err instanceof PersonalizeInputError,
    aborted: controller.signal.aborted,
  });
} finally {
  port.close();
}
