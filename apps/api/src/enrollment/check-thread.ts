/** A clip-check thread of `ClipCheckPool`: runs `checkClip` for each request and answers with the result. */
import { parentPort } from 'node:worker_threads';
import { KwsError } from '../errors.ts';
import type { CheckReply, CheckRequest } from './check-pool.ts';
import { checkClip } from './quality.ts';

if (!parentPort) throw new Error('check-thread.ts runs as a worker thread of ClipCheckPool');
const port = parentPort;

port.on('message', ({ id, fileName, bytes }: CheckRequest) => {
  let reply: CheckReply;
  try {
    reply = { id, ok: true, clip: checkClip(fileName, bytes) };
  } catch (err) {
    reply =
      err instanceof KwsError
        ? { id, ok: false, code: err.code, statusCode: err.statusCode, message: err.message }
        : { id, ok: false, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply, reply.ok ? [reply.clip.wav.buffer as ArrayBuffer] : []);
});
