import { describe, expect, it } from 'vitest';
import { scanStore, voiceClips } from '../src/harness.ts';
import { clusterPerFile } from './cluster-fixture.ts';

/** The harness itself: a whole cluster comes up, serves a user end to end, and goes away by pid. */
const cluster = clusterPerFile({ workers: 1, trainingSteps: 40 });

describe('harness', () => {
  it('runs a user from upload to a downloadable model over real HTTP', async () => {
    const { client } = cluster();
    const { userId, token } = await client.createUser();
    const { enrollment } = await voiceClips();
    const up = await client.uploadClips(userId, token, enrollment.slice(0, 3));
    expect(up.status, up.body.toString()).toBe(201);
    const post = await client.requestTraining(userId, token);
    expect(post.status, post.body.toString()).toBe(202);
    const done = await client.waitForJob(post.json<{ jobId: string }>().jobId, token);
    expect(done.state, JSON.stringify(done)).toBe('completed');
    const model = await client.downloadModel(userId, token);
    expect(model.status).toBe(200);
    const scan = await scanStore(cluster().dataDir);
    expect([scan.tempFiles, scan.partialVersions, scan.danglingCurrent]).toEqual([[], [], []]);
  });

  it('teardown kills every process by pid', async () => {
    const pids = [
      cluster().redis.process.pid,
      cluster().api.process.pid,
      ...cluster().workers.map((w) => w.pid),
    ];
    await cluster().teardown();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });
});
