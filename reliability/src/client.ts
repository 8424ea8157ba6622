import type { JobStatus } from '../../apps/api/src/queue/training-queue.ts';
import { type FormFile, multipart } from '../../apps/api/test/helpers.ts';
import { waitUntil } from './process.ts';

export type { FormFile, JobStatus };

/** One HTTP answer, read whole. */
export interface HttpReply {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body parsed as JSON (throws with the body in the message when it isn't). */
  json<T = unknown>(): T;
  /** `error.code` of a `{ error: { code, message } }` body, or undefined. */
  errorCode(): string | undefined;
}

export interface RequestOptions {
  /** A user token or the admin key, sent as `Authorization: Bearer`. */
  token?: string;
  /** JSON-encoded unless it is a Buffer (then sent as is with the given headers). */
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** A request still unanswered after this long is aborted (a `fetch` error), unless a timeout is given. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A client of the api over real HTTP on loopback (Node's fetch), as a device or an admin would call it. */
export class ApiClient {
  readonly baseUrl: string;
  readonly adminKey: string;
  /** Timeout of every request that does not set its own (a starved machine may want more). */
  readonly timeoutMs: number;

  constructor(baseUrl: string, adminKey: string, options: { timeoutMs?: number } = {}) {
    this.baseUrl = baseUrl;
    this.adminKey = adminKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpReply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: Buffer | string | undefined;
    if (Buffer.isBuffer(options.body)) body = options.body;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
    });
    return toReply(res.status, res.headers, Buffer.from(await res.arrayBuffer()), `${method} ${path}`);
  }

  /** `POST /v1/users` with the admin key; throws unless 201. */
  async createUser(userId?: string): Promise<{ userId: string; token: string }> {
    const res = await this.request('POST', '/v1/users', {
      token: this.adminKey,
      body: userId ? { userId } : {},
    });
    return expectStatus(res, 201, 'creating a user').json();
  }

  /** `POST /v1/users/:userId/enrollments` with the WAVs as `clips` parts (c0.wav, c1.wav… unless named). */
  async uploadClips(userId: string, token: string, clips: (Uint8Array | FormFile)[]): Promise<HttpReply> {
    const files = clips.map((c, i) => (c instanceof Uint8Array ? { name: `c${i}.wav`, bytes: c } : c));
    const form = await multipart(files);
    return this.request('POST', `/v1/users/${userId}/enrollments`, {
      token,
      body: form.payload,
      headers: form.headers,
    });
  }

  listClips(userId: string, token: string): Promise<HttpReply> {
    return this.request('GET', `/v1/users/${userId}/enrollments`, { token });
  }

  /** `POST /v1/users/:userId/models` → 202 `{ jobId }` (or the error). */
  requestTraining(userId: string, token: string): Promise<HttpReply> {
    return this.request('POST', `/v1/users/${userId}/models`, { token });
  }

  job(jobId: string, token: string): Promise<HttpReply> {
    return this.request('GET', `/v1/jobs/${jobId}`, { token });
  }

  /** Polls `GET /v1/jobs/:jobId` until `until(status)` holds (default: completed or failed). */
  async waitForJob(
    jobId: string,
    token: string,
    until: (status: JobStatus) => boolean = (s) => s.state === 'completed' || s.state === 'failed',
    timeoutMs = 120_000,
  ): Promise<JobStatus> {
    return waitUntil(
      `job ${jobId}`,
      async () => {
        const res = await this.job(jobId, token);
        if (res.status !== 200) return undefined;
        const status = res.json<JobStatus>();
        return until(status) ? status : undefined;
      },
      { timeoutMs, everyMs: 200 },
    );
  }

  /** `GET /v1/users/:userId/model`, with `If-None-Match` when an ETag is given. */
  downloadModel(userId: string, token: string, etag?: string): Promise<HttpReply> {
    return this.request('GET', `/v1/users/${userId}/model`, {
      token,
      ...(etag ? { headers: { 'if-none-match': etag } } : {}),
    });
  }
}

function toReply(status: number, headers: Headers, body: Buffer, what: string): HttpReply {
  return {
    status,
    headers,
    body,
    json<T>() {
      try {
        return JSON.parse(body.toString('utf8')) as T;
      } catch {
        throw new Error(`${what} answered ${status} with a body that is not JSON: ${body.toString('utf8')}`);
      }
    },
    errorCode() {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } };
        return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** Returns `res` when its status is `status`; otherwise throws naming what was attempted and the body. */
export function expectStatus(res: HttpReply, status: number, doing: string): HttpReply {
  if (res.status !== status) {
    throw new Error(`${doing} answered ${res.status} (expected ${status}): ${res.body.toString('utf8')}`);
  }
  return res;
}
