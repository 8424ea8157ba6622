/**
 * A full and a read-only data dir under real api and worker processes (DESIGN §5: 507 on a full disk, nothing
 * partial; §7: as root a tmpfs mount is a real small disk). The data dir is its own tmpfs, filled with a
 * filler file or remounted read-only while the processes run; space and write access then come back with no
 * restart. Redis lives elsewhere: only the store's disk is at fault.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, statfs, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cluster,
  type HttpReply,
  killAll,
  logEntries,
  scanStore,
  speechWav,
  startCluster,
  waitUntil,
} from '../src/harness.ts';

/** Root can mount a tmpfs here; elsewhere (no root, no CAP_SYS_ADMIN) the suite is skipped. */
function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'kws-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Room for the clips and two or three model versions (≈ 370 KB each). */
const DISK_SIZE = '8m';
const TRAINING_STEPS = 20;
const CLIP_S = 1.2;

let mountDir: string;
let mounted = false;
let cluster: Cluster;
let userId: string;
let token: string;
/** The model the api serves: the first one, then each that a test moved `current` to; and its ETag. */
let served: { version: string; etag: string };

const clip = (seed: number) => speechWav(CLIP_S, { seed, f0: 110 + 7 * (seed % 10) });
const filler = () => join(mountDir, 'filler');

/** Fills the disk until `leaveBytes` are free (0: until the file system refuses with ENOSPC). */
async function fill(leaveBytes = 0): Promise<void> {
  const { bavail, bsize } = await statfs(mountDir);
  let left = Math.max(0, bavail * bsize - leaveBytes);
  const chunk = Buffer.alloc(64 * 1024);
  const handle = await open(filler(), 'a');
  try {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      try {
        await handle.write(chunk, 0, n);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
      left -= n;
    }
  } finally {
    await handle.close();
  }
}

function remount(mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, mountDir]);
}

async function clipsOnDisk(): Promise<string[]> {
  return (await readdir(join(mountDir, 'users', userId, 'clips'))).sort();
}

async function versionsOnDisk(): Promise<string[]> {
  return (await readdir(join(mountDir, 'users', userId, 'models')))
    .filter((n) => n !== 'current.json')
    .sort();
}

async function listed(): Promise<string[]> {
  const res = await cluster.client.listClips(userId, token);
  return res
    .json<{ clips: { clipId: string }[] }>()
    .clips.map((c) => `${c.clipId}.wav`)
    .sort();
}

/** Nothing half-written anywhere: no temp file, no staging, every version whole, `current` pointing at one. */
async function expectNothingPartial(): Promise<void> {
  const scan = await scanStore(mountDir);
  expect({
    temp: scan.tempFiles,
    staging: scan.staging,
    partial: scan.partialVersions,
    dangling: scan.danglingCurrent,
  }).toEqual({ temp: [], staging: [], partial: [], dangling: [] });
}

async function readyz(): Promise<HttpReply> {
  return cluster.client.request('GET', '/readyz');
}

/** Waits (≤ 10 s, no restart) for /readyz to answer 200 again; the milliseconds it took. */
async function readyAgain(): Promise<number> {
  const started = performance.now();
  await waitUntil(
    '/readyz to be 200 again',
    async () => ((await readyz()).status === 200 ? true : undefined),
    {
      timeoutMs: 10_000,
    },
  );
  return performance.now() - started;
}

function expectError(res: HttpReply, status: number, code: string, message: RegExp): void {
  expect([res.status, res.errorCode()], res.body.toString()).toEqual([status, code]);
  expect(res.json<{ error: { message: string } }>().error.message).toMatch(message);
}

/** The worker's `job failed` records for `jobId` carrying `code` (the processor's: they say `retry`). */
function failureRecords(jobId: string, code: string): Record<string, unknown>[] {
  return cluster.workers
    .flatMap((w) => logEntries(w.logs()))
    .filter(
      (e) =>
        e.jobId === jobId && e.msg === 'job failed' && 'retry' in e && String(e.err).startsWith(`${code}:`),
    );
}

const failures = (jobId: string, code: string) => failureRecords(jobId, code).length;

/** Resolves with the worker's first `job failed` record for `jobId` carrying `code`, once it is logged. */
function workerFailure(jobId: string, code: string): Promise<Record<string, unknown>> {
  return waitUntil(
    `the worker to fail job ${jobId} with ${code}`,
    async () => failureRecords(jobId, code)[0],
    {
      timeoutMs: 90_000,
      everyMs: 200,
    },
  );
}

/** A training request that must start a new job; its id. */
async function train(): Promise<string> {
  const res = await cluster.client.requestTraining(userId, token);
  expect(res.status, res.body.toString()).toBe(202);
  return res.json<{ jobId: string }>().jobId;
}

/** The api serves `expected` (version header and ETag) and revalidates it with 304. */
async function expectServing(expected: { version: string; etag: string }): Promise<void> {
  const res = await cluster.client.downloadModel(userId, token);
  expect(res.status).toBe(200);
  expect([res.headers.get('x-kws-model-version'), res.headers.get('etag')]).toEqual([
    expected.version,
    expected.etag,
  ]);
  const revalidate = await cluster.client.downloadModel(userId, token, expected.etag);
  expect(revalidate.status).toBe(304);
}

describe.skipIf(!canMountTmpfs())(
  'a full or read-only data dir (needs root to mount a tmpfs: DESIGN §7)',
  () => {
    beforeAll(async () => {
      mountDir = await mkdtemp(join(tmpdir(), 'kws-disk-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_SIZE}`, 'tmpfs', mountDir]);
      mounted = true;
      cluster = await startCluster({ workers: 1, trainingSteps: TRAINING_STEPS, dataDir: mountDir });
      ({ userId, token } = await cluster.client.createUser());
      const up = await cluster.client.uploadClips(userId, token, [1, 2, 3, 4].map(clip));
      expect(up.status, up.body.toString()).toBe(201);
      const done = await cluster.client.waitForJob(await train(), token);
      expect(done.state, JSON.stringify(done)).toBe('completed');
      served = { version: done.result!.modelVersion, etag: `"${done.result!.sha256}"` };
    });
    afterAll(async () => {
      await cluster?.teardown();
      await killAll();
      if (mounted) {
        try {
          remount('rw');
        } catch {}
        execFileSync('umount', [mountDir]);
      }
      await rm(mountDir, { recursive: true, force: true });
    });

    it('an upload batch that does not fit is 507 KWS_ERR_STORAGE_FULL and keeps none of its clips', async () => {
      const before = await clipsOnDisk();
      // 5 clips of ≈ 38 KB with ≈ 100 KB free: the first ones fit, a later one does not.
      await fill(100 * 1024);
      const res = await cluster.client.uploadClips(userId, token, [10, 11, 12, 13, 14].map(clip));
      expectError(
        res,
        507,
        'KWS_ERR_STORAGE_FULL',
        /^storage is full while storing 5 clip\(s\) .*nothing was kept$/,
      );
      expect(await clipsOnDisk()).toEqual(before);
      expect(await listed()).toEqual(before);
      await expectNothingPartial();
      // What fits still goes in.
      expect((await cluster.client.uploadClips(userId, token, [clip(15)])).status).toBe(201);
      expect(await clipsOnDisk()).toHaveLength(before.length + 1);
    });

    it('a full disk: 507 uploads, /readyz 503 naming storage, the worker cannot store its model — the job retries, current stays and is served; once space returns everything recovers without a restart', async () => {
      await fill();
      const before = await clipsOnDisk();
      expectError(
        await cluster.client.uploadClips(userId, token, [clip(20)]),
        507,
        'KWS_ERR_STORAGE_FULL',
        /storage is full .*\(ENOSPC\); nothing was kept/,
      );
      expect(await clipsOnDisk()).toEqual(before);
      expectError(await readyz(), 503, 'KWS_ERR_NOT_READY', /^not ready: redis ok, storage not writable$/);
      expect((await cluster.client.request('GET', '/healthz')).status).toBe(200);
      await expectServing(served);

      // The clip set changed since the served model (one more clip): a new job, which trains and then cannot store its model.
      const trainedAt = performance.now();
      const jobId = await train();
      const failure = await workerFailure(jobId, 'KWS_ERR_STORAGE_FULL');
      expect(failure.retry).toBe(true);
      expect(String(failure.err)).toMatch(/storage is full while storing model version .* nothing was kept/);
      expect(await versionsOnDisk()).toEqual([served.version]);
      await expectNothingPartial();
      await expectServing(served);

      const failedAfterS = (performance.now() - trainedAt) / 1000;
      await unlink(filler());
      const freedAt = performance.now();
      const readyAfterMs = await readyAgain();
      const retried = await cluster.client.uploadClips(userId, token, [clip(20)]);
      expect(retried.status, retried.body.toString()).toBe(201);
      const done = await cluster.client.waitForJob(jobId, token);
      expect(done.state, JSON.stringify(done)).toBe('completed');
      const v2 = { version: done.result!.modelVersion, etag: `"${done.result!.sha256}"` };
      expect(await versionsOnDisk()).toEqual([served.version, v2.version].sort());
      await expectServing(v2);
      await expectNothingPartial();
      served = v2;
      console.log(
        `disk full ${JSON.stringify({ storeFailedAfterS: Number(failedAfterS.toFixed(1)), readyAfterMs: Math.round(readyAfterMs), completedAfterSpaceS: Number(((performance.now() - freedAt) / 1000).toFixed(1)), failedAttempts: failures(jobId, 'KWS_ERR_STORAGE_FULL') })}`,
      );
    });

    it('a read-only data dir: 503 KWS_ERR_STORAGE_UNAVAILABLE, downloads still served, the job retries; remounted read-write, everything recovers without a restart', async () => {
      const before = await clipsOnDisk();
      const versionsBefore = await versionsOnDisk();
      remount('ro');
      try {
        expectError(
          await cluster.client.uploadClips(userId, token, [clip(30)]),
          503,
          'KWS_ERR_STORAGE_UNAVAILABLE',
          /^storage is not writable while storing 1 clip\(s\) .*\(EROFS\)$/,
        );
        expectError(await readyz(), 503, 'KWS_ERR_NOT_READY', /storage not writable/);
        await expectServing(served);
        const trainedAt = performance.now();
        const jobId = await train();
        const failure = await workerFailure(jobId, 'KWS_ERR_STORAGE_UNAVAILABLE');
        const failedAfterS = (performance.now() - trainedAt) / 1000;
        expect(failure.retry).toBe(true);
        expect(await versionsOnDisk()).toEqual(versionsBefore);
        await expectServing(served);
        remount('rw');
        const writableAt = performance.now();
        const readyAfterMs = await readyAgain();
        expect((await cluster.client.uploadClips(userId, token, [clip(30)])).status).toBe(201);
        expect(await clipsOnDisk()).toHaveLength(before.length + 1);
        const done = await cluster.client.waitForJob(jobId, token);
        expect(done.state, JSON.stringify(done)).toBe('completed');
        await expectServing({ version: done.result!.modelVersion, etag: `"${done.result!.sha256}"` });
        await expectNothingPartial();
        console.log(
          `disk read-only ${JSON.stringify({ storeFailedAfterS: Number(failedAfterS.toFixed(1)), readyAfterMs: Math.round(readyAfterMs), completedAfterRemountS: Number(((performance.now() - writableAt) / 1000).toFixed(1)), failedAttempts: failures(jobId, 'KWS_ERR_STORAGE_UNAVAILABLE') })}`,
        );
      } finally {
        try {
          remount('rw');
        } catch {}
      }
    });
  },
);
