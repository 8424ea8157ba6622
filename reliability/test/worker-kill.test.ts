import { readFile } from 'node:fs/promises';
import { BASE_MODEL_PATH, loadDetectorModel } from '@kws/detector';
import { Store, sha256Hex } from '@kws/store';
import { describe, expect, it } from 'vitest';
import { expectStatus, type StoreScan, scanStore, sleep, voiceClips } from '../src/harness.ts';
import { clusterPerFile } from './cluster-fixture.ts';

/**
 * DESIGN §6: a worker killed mid-job leaves no partial model, the previous `current` keeps being served, and
 * the job is retried through BullMQ's stalled-job recovery (lock 30 s, stalled check every 30 s) by another
 * worker. Enough training steps that the job is still training when the kill lands.
 */
const TRAINING_STEPS = 100;
const USER = 'faults-worker-kill';
/** Worker 1 dies once the job reports this much progress: well inside training, far from storing. */
const KILL_AT_PCT = 20;

const cluster = clusterPerFile({ workers: 1, trainingSteps: TRAINING_STEPS });

interface Download {
  at: number;
  status: number;
  etag: string | null;
  bodySha: string;
}

/** Runs `body` every `everyMs` until `stop()` is called; resolves with what it collected. */
function loop<T>(everyMs: number, body: () => Promise<T>): { stop: () => Promise<T[]> } {
  const results: T[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      results.push(await body());
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return results;
    },
  };
}

describe('a worker killed with SIGKILL mid-training', () => {
  it('keeps serving the old model, never shows a partial one, and another worker finishes the job', async () => {
    const { client, dataDir } = cluster();
    const { token } = await client.createUser(USER);
    // v1: the base model, stored the way the worker stores a version, and made current.
    const v1 = new Uint8Array(await readFile(BASE_MODEL_PATH));
    const store = await Store.open(dataDir);
    await store.putModelVersion(USER, 'v1', { 'model.kws': v1 }, { note: 'fault test v1' });
    await store.setCurrentModel(USER, 'v1');
    const v1Etag = `"${sha256Hex(v1)}"`;
    expect(
      expectStatus(await client.downloadModel(USER, token), 200, 'v1 download').headers.get('etag'),
    ).toBe(v1Etag);

    const { enrollment } = await voiceClips();
    expectStatus(await client.uploadClips(USER, token, enrollment), 201, 'uploading 5 clips');
    const { jobId } = expectStatus(
      await client.requestTraining(USER, token),
      202,
      'requesting training',
    ).json<{
      jobId: string;
    }>();

    const t0 = performance.now();
    const downloads = loop(50, async (): Promise<Download> => {
      const res = await client.downloadModel(USER, token);
      return {
        at: performance.now(),
        status: res.status,
        etag: res.headers.get('etag'),
        bodySha: sha256Hex(res.body),
      };
    });
    const scans = loop(100, async () => ({ at: performance.now(), scan: await scanStore(dataDir) }));

    const training = await client.waitForJob(
      jobId,
      token,
      (s) => s.state === 'active' && s.progress.pct >= KILL_AT_PCT,
      60_000,
    );
    const [worker1] = cluster().workers;
    await worker1.kill();
    const killedAt = performance.now();
    const pctAtKill = training.progress.pct;
    // The dead worker's lock holds the job as active; the model is still v1.
    await sleep(2_000);
    const worker2 = await cluster().startWorker();
    const worker2At = performance.now();

    const done = await client.waitForJob(jobId, token, undefined, 150_000);
    const doneAt = performance.now();
    const afterDone = await client.downloadModel(USER, token);
    const downloadLog = await downloads.stop();
    const scanLog = await scans.stop();

    expect(done.state, JSON.stringify(done)).toBe('completed');
    const result = done.result!;
    expect(result.modelVersion).not.toBe('v1');

    // Every download answered 200 with whole bytes: v1 until the job completed, then only the new model.
    const newEtag = `"${result.sha256}"`;
    for (const d of downloadLog) {
      expect(d.status).toBe(200);
      expect([v1Etag, newEtag]).toContain(d.etag);
      expect(`"${d.bodySha}"`).toBe(d.etag);
    }
    const firstNew = downloadLog.findIndex((d) => d.etag === newEtag);
    const beforeSwitch = firstNew === -1 ? downloadLog : downloadLog.slice(0, firstNew);
    if (firstNew !== -1) expect(downloadLog.slice(firstNew).every((d) => d.etag === newEtag)).toBe(true);
    expect(beforeSwitch.filter((d) => d.at >= killedAt && d.at <= worker2At).length).toBeGreaterThan(10);
    expect(beforeSwitch.every((d) => d.etag === v1Etag)).toBe(true);
    expect(downloadLog.filter((d) => d.at < killedAt && d.etag !== v1Etag)).toEqual([]);

    // No scan ever saw a partial version or a current pointing at one; no temp file before worker 2 started.
    const bad = (s: StoreScan) => [...s.partialVersions, ...s.danglingCurrent];
    expect(scanLog.flatMap((s) => bad(s.scan))).toEqual([]);
    expect(scanLog.filter((s) => s.at < worker2At).flatMap((s) => s.scan.tempFiles)).toEqual([]);
    const final = await scanStore(dataDir);
    expect([final.tempFiles, final.staging, bad(final)]).toEqual([[], [], []]);

    // The new version is current, downloadable, and loads.
    expect(afterDone.status).toBe(200);
    expect(afterDone.headers.get('etag')).toBe(newEtag);
    expect((await store.getCurrentModel(USER))?.version).toBe(result.modelVersion);
    const model = loadDetectorModel(new Uint8Array(afterDone.body));
    expect(model.header.threshold).toBeCloseTo(result.metrics.threshold, 6);
    expect(worker2.logs()).toMatch(/a job stalled and went back to the queue/);
    expect(worker1.logs()).not.toMatch(/job completed/);

    const s = (ms: number) => (ms / 1000).toFixed(1);
    const trainedS = /"trainedS":([\d.]+)/.exec(worker2.logs())?.[1];
    process.stdout.write(
      `worker-kill: killed at ${pctAtKill.toFixed(1)} % after ${s(killedAt - t0)} s; job completed ` +
        `${s(doneAt - killedAt)} s after the kill (${s(doneAt - worker2At)} s after worker 2 started, ${trainedS} s of it training); ` +
        `${downloadLog.length} downloads all 200, ${scanLog.length} store scans clean, transient temp files ` +
        `seen ${new Set(scanLog.flatMap((x) => x.scan.tempFiles)).size}\n`,
    );
  });
});
