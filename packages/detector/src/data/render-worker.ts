/**
 * A render worker: produces dataset clips (synthesis in espeak-ng child processes, rendering and writing
 * here) so that clip rendering, which otherwise saturates the main thread, uses every core.
 * Started by render-pool.ts; messages are `{ id, task }` in, `{ id, record }` or `{ id, error }` out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSynthesizer, type EspeakEngine } from './espeak.ts';
import { type ClipRecord, type ClipTask, produceClip } from './produce.ts';

export interface RenderWorkerData {
  engine: EspeakEngine;
  /** espeak-ng processes this worker keeps in flight. */
  jobs: number;
  babble: Float32Array[];
  seed: string;
  dir: string;
}

export type RenderRequest = { id: number; task: ClipTask };
export type RenderReply = { id: number; record: ClipRecord } | { id: number; error: string };

const port = parentPort;
if (port === null) throw new Error('render-worker.ts must run in a worker thread');
const data = workerData as RenderWorkerData;
const context = {
  synth: createSynthesizer(data.engine, data.jobs),
  babble: data.babble,
  seed: data.seed,
  dir: data.dir,
};

port.on('message', ({ id, task }: RenderRequest) => {
  produceClip(task, context).then(
    (record) => port.postMessage({ id, record } satisfies RenderReply),
    (error: unknown) =>
      port.postMessage({ id, error: (error as Error).message ?? String(error) } satisfies RenderReply),
  );
});
