/**
 * The fault-test harness: real processes on loopback (a private redis-server, the api and workers as
 * `node --import tsx` children), each known by its pid and SIGKILLed on teardown; a client over real HTTP;
 * a scanner that checks the data dir as a concurrent reader sees it. Test files import from here only.
 */

export { speechWav } from '../../apps/api/test/audio.ts';
export { multipart } from '../../apps/api/test/helpers.ts';
export { voiceClips } from '../../apps/worker/test/helpers.ts';
export {
  ApiClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
  expectStatus,
  type FormFile,
  type HttpReply,
  type JobStatus,
} from './client.ts';
export { type Cluster, type ClusterOptions, startCluster } from './cluster.ts';
export {
  childEnv,
  type ExitStatus,
  freePort,
  killAll,
  logEntries,
  ManagedProcess,
  REPO_ROOT,
  sleep,
  waitUntil,
} from './process.ts';
export { type PrivateRedis, ping, startRedis } from './redis.ts';
export {
  type ApiOptions,
  type ApiProcess,
  startApi,
  startWorker,
  type WorkerOptions,
  type WorkerProcess,
} from './services.ts';
export { type StoreScan, scanStore } from './store-scan.ts';
