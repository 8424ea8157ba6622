/**
 * Reproducer for the kernel-thread hang (KWS_NN_THREADS=2): trains and runs a Bidirectional(LSTM) layer
 * with its backward direction on the kernel thread for every call (minConcurrentWork 0), over changing
 * batch and time sizes, for S seconds. A watchdog thread fails the run when no iteration finishes for 10 s.
 *
 *   node --import tsx packages/nn/scripts/stress-kernel-thread.ts [SECONDS=10]
 *
 * Exit 0: no hang. A hang leaves the main thread blocked, where no JS (no signal handler) runs, so the
 * watchdog prints where it stopped and SIGKILLs the process (exit status 137).
 */
import { isMainThread, Worker } from 'node:worker_threads';
import { setKernels } from '../src/kernels/backend.ts';
import { createWasmKernels } from '../src/kernels/wasm.ts';
import '../src/layers/index.ts';
import { layerFromSpec } from '../src/layers/registry.ts';
import type { Bidirectional } from '../src/layers/rnn/bidirectional.ts';

if (!isMainThread) throw new Error('run from the main thread');
const seconds = Number(process.argv[2] ?? 10);
const progress = new Int32Array(new SharedArrayBuffer(8)); // [iterations, phase]
const PHASES = ['forwardTrain', 'backward', 'forward'];
const watchdog = new Worker(
  `const { workerData: { progress, phases } } = require('node:worker_threads');
   let last = -1, since = Date.now();
   setInterval(() => {
     const it = Atomics.load(progress, 0);
     if (it !== last) { last = it; since = Date.now(); return; }
     if (Date.now() - since > 10000) {
       process.stderr.write('HUNG at iteration ' + it + ' in ' + phases[Atomics.load(progress, 1)] + '\\n');
       process.kill(process.pid, 'SIGKILL');
     }
   }, 500);`,
  { eval: true, workerData: { progress, phases: PHASES } },
);
watchdog.unref();

const k = createWasmKernels({ threads: 2, minConcurrentWork: 0 });
if (!k?.waitForThread()) throw new Error('no kernel thread here (needs 2 cores and shared wasm memory)');
setKernels(k);
const spec = { class_name: 'LSTM', config: { units: 32, return_sequences: true } };
const layer = layerFromSpec({ class_name: 'Bidirectional', config: { layer: spec } }, { dtype: 'float32' });
layer.build([74, 32]);
const until = Date.now() + seconds * 1000;
let it = 0;
const churn: Float32Array[] = [];
while (Date.now() < until) {
  const [B, T] = [1 + (it % 17), 20 + ((it * 7) % 60)];
  const x = k.allocateFloat32(B * T * 32);
  for (let i = 0; i < x.length; i += 7) x[i] = Math.sin(i + it);
  Atomics.store(progress, 1, 0);
  const y = layer.forwardTrain({ shape: [B, T, 32], data: x });
  const dy = k.allocateFloat32(y.data.length).fill(0.01);
  Atomics.store(progress, 1, 1);
  (layer as Bidirectional).backward({ shape: y.shape, data: dy });
  Atomics.store(progress, 1, 2);
  if (it % 3 === 0) layer.forward({ shape: [B, T, 32], data: x });
  churn.push(k.allocateFloat32(((it * 9973) % 200_000) + 1000)); // grows the shared memory now and then
  if (churn.length > 50) for (const a of churn.splice(0, 25)) k.release(a);
  k.release(x);
  k.release(dy);
  Atomics.store(progress, 0, ++it);
}
console.log(`no hang: ${it} iterations, ${k.threadTasks} tasks on the kernel thread in ${seconds} s`);
process.exit(0);
