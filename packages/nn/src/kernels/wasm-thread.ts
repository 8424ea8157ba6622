/**
 * A second thread for the wasm kernels: a worker that instantiates the same module over the same shared
 * memory and runs lists of kernel calls (export index + numeric arguments) posted through shared memory,
 * so the two directions of a Bidirectional layer can run at once on a 2-core machine.
 *
 * Hand-off is through a shared control block, not postMessage: the calls are written into a shared
 * Float64Array and the main thread blocks until the worker is done — kernels stay synchronous. Waking a
 * thread parked in Atomics.wait costs tens of µs, as much as a whole LSTM direction saves at batch 1, so
 * both sides first spin on the control word for a short while (the worker for SPIN_MS after each list, in
 * case the next one follows at once, as it does layer after layer; the main thread while the worker
 * finishes) and only then park. The worker is unref'd (it never keeps the process alive) and only used once it
 * has reported ready; until then, and whenever it cannot be used, callers run everything on their thread.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** Control block slots. */
const REQUEST = 0; // sequence number of the last posted call list (−1: exit)
const DONE = 1; // sequence number of the last finished one
const FAILED = 2; // 1 when the last list threw (the message arrives on the port)
const READY = 3; // 1 once the worker has instantiated the module

/** How long either side polls the control block before parking in Atomics.wait. */
const SPIN_MS = 2;

/** Room for the call list: [count, (export index, argument count, arguments…)…]. */
export const MAX_CALL_WORDS = 4096;

// Plain JS (no TypeScript loader inside the worker). Runs the posted lists until asked to exit.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, calls, names, port } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const args = [];
Atomics.store(control, ${READY}, 1);
let seen = 0;
for (;;) {
  const until = performance.now() + ${SPIN_MS};
  while (Atomics.load(control, ${REQUEST}) === seen && performance.now() < until);
  Atomics.wait(control, ${REQUEST}, seen);
  seen = Atomics.load(control, ${REQUEST});
  if (seen < 0) break;
  try {
    const count = calls[0];
    let i = 1;
    for (let c = 0; c < count; c++) {
      const fn = fns[calls[i++]];
      const argc = calls[i++];
      args.length = argc;
      for (let a = 0; a < argc; a++) args[a] = calls[i++];
      fn(...args);
    }
    Atomics.store(control, ${FAILED}, 0);
  } catch (e) {
    port.postMessage(String(e && e.stack ? e.stack : e));
    Atomics.store(control, ${FAILED}, 1);
  }
  Atomics.store(control, ${DONE}, seen);
  Atomics.notify(control, ${DONE});
}
`;

export class KernelThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(16));
  /** The call list the worker reads; the main thread writes it only while the worker is idle. */
  readonly calls = new Float64Array(new SharedArrayBuffer(8 * MAX_CALL_WORDS));
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private sequence = 0;

  /** `names[i]` is the export a call with index i runs. */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[]) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, memory, control: this.control, calls: this.calls, names, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
  }

  /** Whether the worker has instantiated the module and waits for work. */
  get ready(): boolean {
    return Atomics.load(this.control, READY) === 1;
  }

  /** Starts the call list already written to `calls`. */
  start(): void {
    this.sequence++;
    Atomics.store(this.control, REQUEST, this.sequence);
    Atomics.notify(this.control, REQUEST);
  }

  /** Blocks until the started list is done; throws what the worker threw. */
  wait(): void {
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(this.control, DONE) !== this.sequence && performance.now() < until);
    // Park on the value just compared: re-reading DONE for Atomics.wait's expected value lost the wake-up
    // when the worker finished between the two reads (the wait then slept on the final value, which never
    // changes again) — the hang of personalize runs with the kernel thread (scripts/stress-kernel-thread.ts).
    for (;;) {
      const done = Atomics.load(this.control, DONE);
      if (done === this.sequence) break;
      Atomics.wait(this.control, DONE, done);
    }
    if (Atomics.load(this.control, FAILED) === 1) {
      const message = receiveMessageOnPort(this.port)?.message ?? 'no message';
      throw new Error(`wasm kernel thread failed: ${message}`);
    }
  }

  /** Asks the worker to exit; it must be idle. */
  terminate(): void {
    Atomics.store(this.control, REQUEST, -1);
    Atomics.notify(this.control, REQUEST);
  }
}
