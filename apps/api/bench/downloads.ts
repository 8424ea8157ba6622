/**
 * Model downloads (DESIGN §8: ≥ 5,000 req/s revalidation, full downloads reported, goal ≥ 1,500 req/s):
 * one user's current model, over keep-alive connections for a fixed time.
 */
import { randomBytes } from 'node:crypto';
import { Store } from '@kws/store';
import { closedLoop, createUser, keepAlive, type LatencySummary, send, summarize } from './http.ts';
import { type ApiProcess, type BenchEnv, cpuSeconds } from './processes.ts';

/** The reference model's 51,201 float32 parameters plus a header: the size a device downloads. */
export const MODEL_BYTES = 51_201 * 4 + 2_048;

export interface DownloadResult extends LatencySummary {
  case: 'revalidation' | 'download';
  connections: number;
  seconds: number;
  reqPerS: number;
  mbPerS: number;
  /** CPU time of the api process per request, when /proc tells. */
  apiCpuUs?: number;
  statuses: Record<number, number>;
}

export async function benchDownloads(
  bench: BenchEnv,
  api: ApiProcess,
  connections: number,
  durationMs: number,
): Promise<DownloadResult[]> {
  const { port } = api;
  const agent = keepAlive(connections);
  try {
    const auth = await createUser(agent, port, api.adminKey, 'bench-download');
    const store = await Store.open(bench.dataDir);
    const model = await store.putModelVersion('bench-download', 'v1', {
      'model.kws': randomBytes(MODEL_BYTES),
    });
    await store.setCurrentModel('bench-download', 'v1');
    const etag = `"${model.files['model.kws'].sha256}"`;
    const path = '/v1/users/bench-download/model';
    const run = async (name: DownloadResult['case'], headers: Record<string, string>) => {
      const cpuBefore = cpuSeconds(api.process.pid);
      const r = await closedLoop(connections, { durationMs }, () => send(agent, port, path, { headers }));
      const cpuAfter = cpuSeconds(api.process.pid);
      return {
        case: name,
        connections,
        seconds: r.seconds,
        reqPerS: r.requests / r.seconds,
        mbPerS: r.bytes / r.seconds / 1e6,
        ...(cpuBefore !== undefined && cpuAfter !== undefined
          ? { apiCpuUs: ((cpuAfter - cpuBefore) * 1e6) / r.requests }
          : {}),
        statuses: r.statuses,
        ...summarize(r.latenciesMs),
      };
    };
    const revalidate = { ...auth, 'if-none-match': etag };
    await run('revalidation', revalidate); // warm-up
    return [await run('revalidation', revalidate), await run('download', auth)];
  } finally {
    agent.destroy();
  }
}
