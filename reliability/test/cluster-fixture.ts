import { afterAll, beforeAll } from 'vitest';
import { type Cluster, type ClusterOptions, killAll, startCluster } from '../src/harness.ts';

/**
 * One cluster for the whole test file: started in `beforeAll`, SIGKILLed by pid in `afterAll` (also when a
 * test failed), with `killAll()` as a backstop for any other process the file started. Returns a getter,
 * since the cluster exists only once `beforeAll` has run.
 */
export function clusterPerFile(options: ClusterOptions): () => Cluster {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(options);
  });
  afterAll(async () => {
    await cluster?.teardown();
    await killAll();
  });
  return () => {
    if (!cluster) throw new Error('the cluster is not started (use it inside a test, after beforeAll)');
    return cluster;
  };
}
