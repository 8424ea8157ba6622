import { mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClipRecord, STALE_AFTER_MS, Store, sha256Hex, type UserRecord } from '@kws/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childEnv,
  killAll,
  ManagedProcess,
  REPO_ROOT,
  type StoreScan,
  scanStore,
  sleep,
} from '../src/harness.ts';

/**
 * DESIGN §6 "writes are atomic": a process SIGKILLed at a random moment while it adds clips, deletes clips,
 * stores model versions and moves `current` leaves a store whose every listed clip and every visible model
 * version is whole, and whose `current` names a whole version. Leftovers of the interrupted write (temp
 * files, staging, unlisted clip files) may remain, invisible to the store's readers, until `Store.open`
 * sweeps them once stale (it could not tell a fresh one from another process's write in flight).
 */
const KILLS = 10;
/** Delays between a completed round and the kill: spread over 0–120 ms, the same on every run. */
const DELAYS_MS = Array.from({ length: KILLS }, (_, i) => (i * 37) % 121);
const USER = 'faults-store-kill';
const WRITER = join(REPO_ROOT, 'reliability/src/store-writer.ts');

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kws-store-kill-'));
});
afterAll(async () => {
  await killAll();
  await rm(dataDir, { recursive: true, force: true });
});

const clipPath = (c: ClipRecord) => join('users', USER, 'clips', `${c.clipId}.wav`);

/** Clip files (relative paths) that the user's index does not list. */
async function unlistedClips(scan: StoreScan): Promise<string[]> {
  const user = JSON.parse(await readFile(join(dataDir, 'users', USER, 'user.json'), 'utf8')) as UserRecord;
  const listed = new Set(user.clips.map(clipPath));
  return [...scan.files.keys()].filter((p) => p.includes('/clips/') && !listed.has(p));
}

describe('a store writer SIGKILLed at moments spread over its work', () => {
  it('never leaves a listed clip, a visible version or current partial', async () => {
    let rounds = 0;
    let leftovers = { temp: 0, staging: 0, unlisted: 0 };
    for (let kill = 1; kill <= KILLS; kill++) {
      const writer = new ManagedProcess(
        'store-writer',
        process.execPath,
        ['--import', 'tsx', WRITER, dataDir, USER],
        childEnv({}),
      );
      await writer.waitForLog(/round \d+/, 60_000);
      await sleep(DELAYS_MS[kill - 1]);
      const exit = await writer.kill();
      expect(exit.signal, writer.tail()).toBe('SIGKILL');
      rounds += writer.logs().match(/round \d+/g)?.length ?? 0;

      const scan = await scanStore(dataDir);
      expect([scan.partialVersions, scan.danglingCurrent], `after kill ${kill}`).toEqual([[], []]);
      const user = JSON.parse(
        await readFile(join(dataDir, 'users', USER, 'user.json'), 'utf8'),
      ) as UserRecord;
      for (const clip of user.clips) expect(scan.files.get(clipPath(clip)), clip.clipId).toBe(clip.sha256);
      leftovers = {
        temp: scan.tempFiles.length,
        staging: scan.staging.length,
        unlisted: (await unlistedClips(scan)).length,
      };

      // The store's own readers see whole data only.
      const store = await Store.open(dataDir);
      for (const clip of await store.listClips(USER)) {
        expect(sha256Hex((await store.readClip(USER, clip.clipId))!)).toBe(clip.sha256);
      }
      const current = (await store.getCurrentModel(USER))!;
      const model = (await store.readModelFile(USER, current.version, 'model.kws'))!;
      expect(sha256Hex(model)).toBe(current.files['model.kws'].sha256);
    }
    // Once stale (backdated past STALE_AFTER_MS), Store.open sweeps every kind of leftover.
    const last = await scanStore(dataDir);
    const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
    for (const rel of [
      ...last.tempFiles,
      ...last.staging.map((n) => join('tmp', n)),
      ...(await unlistedClips(last)),
    ]) {
      await utimes(join(dataDir, rel), old, old);
    }
    await Store.open(dataDir);
    const swept = await scanStore(dataDir);
    expect([swept.tempFiles, swept.staging, await unlistedClips(swept)]).toEqual([[], [], []]);

    process.stdout.write(
      `store-kill: ${KILLS} kills after ${rounds} completed rounds; every listed clip, visible version and ` +
        `current whole; left after the last kill: ${leftovers.temp} temp, ${leftovers.staging} staging, ` +
        `${leftovers.unlisted} unlisted clip files, all swept by Store.open once stale\n`,
    );
  });
});
