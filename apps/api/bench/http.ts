/** The bench's HTTP side: keep-alive requests, a closed-loop load generator, latency percentiles. */
import { Agent, request } from 'node:http';

export interface Reply {
  status: number;
  bytes: number;
  /** The body, when asked for (`keepBody`); otherwise only counted. */
  body?: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  keepBody?: boolean;
}

/** One request to the api on 127.0.0.1 through `agent`. */
export function send(agent: Agent, port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  const { method = 'GET', headers = {}, body, keepBody = false } = options;
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        headers: body ? { ...headers, 'content-length': String(body.byteLength) } : headers,
      },
      (res) => {
        let bytes = 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (keepBody) chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            bytes,
            ...(keepBody ? { body: Buffer.concat(chunks) } : {}),
          }),
        );
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends a request and parses a JSON reply, failing unless the status is `expected`. */
export async function sendJson<T>(
  agent: Agent,
  port: number,
  path: string,
  expected: number,
  options: RequestOptions = {},
): Promise<T> {
  const reply = await send(agent, port, path, { ...options, keepBody: true });
  const text = reply.body?.toString('utf8') ?? '';
  if (reply.status !== expected) {
    throw new Error(`${options.method ?? 'GET'} ${path}: expected ${expected}, got ${reply.status} ${text}`);
  }
  return JSON.parse(text) as T;
}

export interface LoadResult {
  requests: number;
  bytes: number;
  seconds: number;
  statuses: Record<number, number>;
  latenciesMs: number[];
}

/**
 * Closed loop: `connections` clients, each sending its next request when the previous one answered, until
 * `durationMs` passed or `count` requests were sent. `next(i)` sends request i.
 */
export async function closedLoop(
  connections: number,
  limit: { durationMs: number } | { count: number },
  next: (i: number) => Promise<Reply>,
): Promise<LoadResult> {
  const result: LoadResult = { requests: 0, bytes: 0, seconds: 0, statuses: {}, latenciesMs: [] };
  const start = performance.now();
  const end = 'durationMs' in limit ? start + limit.durationMs : Number.POSITIVE_INFINITY;
  const count = 'count' in limit ? limit.count : Number.POSITIVE_INFINITY;
  let issued = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (issued < count && performance.now() < end) {
        const i = issued++;
        const sent = performance.now();
        const { status, bytes } = await next(i);
        result.latenciesMs.push(performance.now() - sent);
        result.requests++;
        result.bytes += bytes;
        result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      }
    }),
  );
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

/** The value below which a fraction `p` of `values` lie (nearest rank); `values` must be sorted. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** A keep-alive agent for `connections` concurrent requests. */
export function keepAlive(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections });
}

/** Creates a user through the api (admin key) and returns its bearer token header. */
export async function createUser(
  agent: Agent,
  port: number,
  adminKey: string,
  userId: string,
): Promise<Record<string, string>> {
  const { token } = await sendJson<{ token: string }>(agent, port, '/v1/users', 201, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ userId })),
  });
  return { authorization: `Bearer ${token}` };
}
