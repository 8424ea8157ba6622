/**
 * Concurrency against the real api process (and one real worker), over real HTTP on loopback:
 * - 100 single-clip uploads for one user at once: the per-user clip limit holds exactly, every accepted clip
 *   is listed and on disk with the bytes its record names, nothing else is on disk (no lost update, no orphan).
 * - 20 training requests for one user at once, and 20 more while its job is running: one job id, one job in
 *   the queue, trained once (one attempt, one stored version).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_CLIPS_PER_USER, sha256Hex, type UserRecord } from '@kws/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, killAll, logEntries, scanStore, speechWav, startCluster } from '../src/harness.ts';

const UPLOADS = 100;
const TRAINING_REQUESTS = 20;
/** A small training budget (personalize's default is 150 steps): a few seconds, long enough for the second burst. */
const TRAINING_STEPS = 40;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ workers: 1, trainingSteps: TRAINING_STEPS });
});
afterAll(async () => {
  await cluster?.teardown();
  await killAll();
});

async function userRecord(userId: string): Promise<UserRecord> {
  return JSON.parse(await readFile(join(cluster.dataDir, 'users', userId, 'user.json'), 'utf8'));
}

/** `kws_queue_jobs{state="…"} n` lines of the api's /metrics: what the queue holds, per state. */
async function queueJobs(): Promise<Record<string, number>> {
  const res = await cluster.client.request('GET', '/metrics');
  const counts: Record<string, number> = {};
  for (const m of res.body.toString('utf8').matchAll(/^kws_queue_jobs\{state="(\w+)"\} (\d+)$/gm)) {
    counts[m[1]] = Number(m[2]);
  }
  return counts;
}

/** The worker's JSON log lines about `jobId` with message `msg`. */
function workerLines(jobId: string, msg: string): unknown[] {
  return cluster.workers
    .flatMap((w) => logEntries(w.logs()))
    .filter((entry) => entry.jobId === jobId && entry.msg === msg);
}

describe('concurrent requests for one user', () => {
  it(`${UPLOADS} single-clip uploads at once: exactly ${MAX_CLIPS_PER_USER} stored, the rest 409 naming the limit, listing == files == accepted`, async () => {
    const { client, dataDir } = cluster;
    const { userId, token } = await client.createUser();
    const wavs = Array.from({ length: UPLOADS }, (_, i) => speechWav(0.5, { seed: 1000 + i }));
    const started = performance.now();
    const replies = await Promise.all(
      wavs.map((bytes, i) => client.uploadClips(userId, token, [{ name: `n${i}.wav`, bytes }])),
    );

    const wallMs = performance.now() - started;
    const accepted = replies.filter((r) => r.status === 201);
    const rejected = replies.filter((r) => r.status !== 201);
    expect(accepted).toHaveLength(MAX_CLIPS_PER_USER);
    for (const r of rejected) {
      expect([r.status, r.errorCode()]).toEqual([409, 'KWS_ERR_TOO_MANY_CLIPS']);
      expect(r.json<{ error: { message: string } }>().error.message).toMatch(
        new RegExp(
          `has ${MAX_CLIPS_PER_USER} clip\\(s\\); adding 1 would exceed the limit of ${MAX_CLIPS_PER_USER}`,
        ),
      );
    }

    type Clip = { clipId: string; fileName: string };
    const acceptedClips = accepted.flatMap((r) => r.json<{ clips: Clip[] }>().clips);
    const acceptedIds = acceptedClips.map((c) => c.clipId).sort();
    const listed = (await client.listClips(userId, token)).json<{ clips: Clip[] }>().clips;
    const onDisk = (await readdir(join(dataDir, 'users', userId, 'clips'))).sort();
    expect(listed.map((c) => c.clipId).sort()).toEqual(acceptedIds);
    expect(onDisk).toEqual(acceptedIds.map((id) => `${id}.wav`));

    // Each stored file holds the bytes its record names, and the record's file name is the upload's.
    const record = await userRecord(userId);
    for (const clip of record.clips) {
      const bytes = await readFile(join(dataDir, 'users', userId, 'clips', `${clip.clipId}.wav`));
      expect(sha256Hex(bytes)).toBe(clip.sha256);
      const uploaded = wavs[Number(/^n(\d+)\.wav$/.exec(clip.fileName)?.[1])];
      expect(sha256Hex(bytes), clip.fileName).toBe(sha256Hex(uploaded));
    }
    const scan = await scanStore(dataDir);
    expect([scan.tempFiles, scan.staging]).toEqual([[], []]);
    console.log(
      `concurrency uploads ${JSON.stringify({ uploads: UPLOADS, accepted: accepted.length, rejected: rejected.length, wallMs: Math.round(wallMs) })}`,
    );
  });

  it(`${TRAINING_REQUESTS} training requests at once, and ${TRAINING_REQUESTS} more while it runs: one job, trained once`, async () => {
    const { client, dataDir } = cluster;
    const { userId, token } = await client.createUser();
    const clips = Array.from({ length: 5 }, (_, i) => speechWav(1.2, { seed: 50 + i, f0: 120 + 10 * i }));
    expect((await client.uploadClips(userId, token, clips)).status).toBe(201);

    const burst = async () => {
      const replies = await Promise.all(
        Array.from({ length: TRAINING_REQUESTS }, () => client.requestTraining(userId, token)),
      );
      for (const r of replies) expect(r.status, r.body.toString()).toBe(202);
      return new Set(replies.map((r) => r.json<{ jobId: string }>().jobId));
    };
    const requestedAt = performance.now();
    const first = await burst();
    const burstMs = performance.now() - requestedAt;
    expect(first.size).toBe(1);
    const [jobId] = first;
    await client.waitForJob(jobId, token, (s) => s.state === 'active', 60_000);
    expect(await burst()).toEqual(first);

    const done = await client.waitForJob(jobId, token);
    expect(done.state, JSON.stringify(done)).toBe('completed');
    // The queue (as the api reports it) held this one job only, and the worker ran it once.
    const jobs = await queueJobs();
    expect(
      Object.values(jobs).reduce((a, b) => a + b, 0),
      JSON.stringify(jobs),
    ).toBe(1);
    expect(jobs.completed).toBe(1);
    expect(workerLines(jobId, 'model stored and current')).toHaveLength(1);
    expect(workerLines(jobId, 'job failed')).toHaveLength(0);
    const versions = (await readdir(join(dataDir, 'users', userId, 'models'))).filter(
      (name) => name !== 'current.json',
    );
    expect(versions).toEqual([done.result?.modelVersion]);
    console.log(
      `concurrency training ${JSON.stringify({ requests: 2 * TRAINING_REQUESTS, jobIds: 1, firstBurstMs: Math.round(burstMs), jobDoneS: Number(((performance.now() - requestedAt) / 1000).toFixed(1)), queue: jobs })}`,
    );
  });
});
