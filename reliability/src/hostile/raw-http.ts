import { once } from 'node:events';
import { connect } from 'node:net';

export interface RawExchange {
  /** The response status, 0 when none came (the server closed without answering, or the wait timed out). */
  status: number;
  head: string;
  body: string;
  /** From connecting to the socket closing (or to the response, when `keepOpen`). */
  ms: number;
  timedOut: boolean;
}

export interface RawOptions {
  /** Stop waiting after this long (the socket is destroyed): a hang shows as `timedOut`. */
  timeoutMs?: number;
  /** Written one after another with this pause between them (a dribble). */
  pauseMs?: number;
}

/**
 * One HTTP/1.1 exchange on a fresh loopback socket, bytes exactly as given (headers of any size or count,
 * a Content-Length that lies, a body in dribbles). Resolves when the server closes the socket, with whatever
 * response arrived; the request should say `Connection: close`. Write errors after the server answered early
 * (EPIPE, ECONNRESET) are expected and ignored.
 */
export function rawExchange(
  port: number,
  chunks: (string | Buffer)[],
  options: RawOptions = {},
): Promise<RawExchange> {
  const { timeoutMs = 30_000, pauseMs = 0 } = options;
  return new Promise((resolve) => {
    const started = performance.now();
    const received: Buffer[] = [];
    let timedOut = false;
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(received).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body: split < 0 ? '' : text.slice(split + 4),
        ms: Math.round(performance.now() - started),
        timedOut,
      });
    });
    socket.once('connect', async () => {
      try {
        for (const chunk of chunks) {
          if (socket.destroyed) return;
          if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
          if (pauseMs > 0) await new Promise((ok) => setTimeout(ok, pauseMs));
        }
      } catch {
        // `once` rejects on the socket's EPIPE/ECONNRESET: the server answered and closed, as it may.
      }
    });
  });
}

/** A request head: request line, headers (in order, repeats allowed), blank line. */
export function requestHead(method: string, path: string, headers: [string, string | number][]): string {
  return `${method} ${path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}
