import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errors, KwsError } from './errors.ts';
import { MAX_CLIPS_PER_USER, type NewClip, STALE_AFTER_MS, Store, sha256Hex } from './store.ts';

function clip(bytes = 1000, fill = 1): NewClip {
  return {
    wav: new Uint8Array(bytes).fill(fill),
    durationS: 1,
    quality: { peakDb: -6, snrDb: 30, speechS: 0.8, clippingFraction: 0 },
    fileName: 'a.wav',
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KwsError) return err.code;
    throw err;
  }
  return 'no error';
}

/** Every file under `dir`, relative. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

let root: string;
let store: Store;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kws-store-'));
  store = await Store.open(root);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('users', () => {
  it('creates a user once; a concurrent second creation of the same id is USER_EXISTS', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.createUser('alice')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason.code).toBe(errors.USER_EXISTS.code);
    }
    const user = await store.getUser('alice');
    expect(user).toMatchObject({ userId: 'alice', clips: [] });
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('rotates the token version and starts a re-created user at an unrelated version', async () => {
    const first = await store.createUser('bob');
    expect((await store.rotateTokenVersion('bob')).tokenVersion).toBe(first.tokenVersion + 1);
    expect(await store.deleteUser('bob')).toBe(true);
    expect(await store.getUser('bob')).toBeUndefined();
    expect(await store.deleteUser('bob')).toBe(false);
    const again = await store.createUser('bob');
    expect(Math.abs(again.tokenVersion - first.tokenVersion)).toBeGreaterThan(1);
  });

  it('deleting a user removes every file of it', async () => {
    await store.createUser('carol');
    await store.addClips('carol', [clip(), clip()]);
    await store.putModelVersion('carol', 'v1', { 'model.kws': new Uint8Array([1, 2, 3]) });
    await store.setCurrentModel('carol', 'v1');
    await store.deleteUser('carol');
    expect(await listFiles(root)).toEqual([]);
  });
});

describe('ids never become paths unchecked', () => {
  const bad = ['..', '../x', 'a/b', 'a\\b', '', 'é', 'x'.repeat(65), 'a.b', '%2e%2e', 'a b', '\u0000'];

  it.each(bad)('rejects %j everywhere with KWS_ERR_VALIDATION', async (id) => {
    await store.createUser('dave');
    const calls: Promise<unknown>[] = [
      store.createUser(id),
      store.getUser(id),
      store.rotateTokenVersion(id),
      store.deleteUser(id),
      store.listClips(id),
      store.addClips(id, [clip()]),
      store.readClip('dave', id),
      store.deleteClip('dave', id),
      store.putModelVersion('dave', id, { 'model.kws': new Uint8Array(1) }),
      store.putModelVersion(id, 'v1', { 'model.kws': new Uint8Array(1) }),
      store.setCurrentModel('dave', id),
      store.getCurrentModel(id),
    ];
    for (const call of calls) expect(await codeOf(call)).toBe(errors.VALIDATION.code);
    expect(() => store.modelFilePath('dave', id, 'model.kws')).toThrow(/must match/);
    expect(await listFiles(root)).toEqual(['users/dave/user.json']);
  });
});

describe('clips', () => {
  it(`never stores more than ${MAX_CLIPS_PER_USER} clips, whatever the concurrency`, async () => {
    await store.createUser('erin');
    const results = await Promise.allSettled(
      Array.from({ length: MAX_CLIPS_PER_USER + 7 }, (_, i) => store.addClips('erin', [clip(100, i)])),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(MAX_CLIPS_PER_USER);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason.code).toBe(errors.TOO_MANY_CLIPS.code);
    }
    const listed = await store.listClips('erin');
    expect(listed).toHaveLength(MAX_CLIPS_PER_USER);
    expect(await readdir(join(root, 'users/erin/clips'))).toHaveLength(MAX_CLIPS_PER_USER);
  });

  it('stores a batch all-or-nothing against the limit, naming the counts', async () => {
    await store.createUser('fay');
    await store.addClips(
      'fay',
      Array.from({ length: 18 }, () => clip()),
    );
    await expect(store.addClips('fay', [clip(), clip(), clip()])).rejects.toThrow(
      'user fay has 18 clip(s); adding 3 would exceed the limit of 20',
    );
    expect(await store.listClips('fay')).toHaveLength(18);
    expect(await readdir(join(root, 'users/fay/clips'))).toHaveLength(18);
  });

  it('reads back the bytes with their SHA-256, and deletes file and entry', async () => {
    await store.createUser('gil');
    const [record] = await store.addClips('gil', [clip(256, 7)]);
    const bytes = await store.readClip('gil', record.clipId);
    expect(Buffer.from(bytes!)).toEqual(Buffer.alloc(256, 7));
    expect(record.sha256).toBe(sha256Hex(bytes!));
    expect(await store.deleteClip('gil', record.clipId)).toBe(true);
    expect(await store.deleteClip('gil', record.clipId)).toBe(false);
    expect(await store.readClip('gil', record.clipId)).toBeUndefined();
    expect(await readdir(join(root, 'users/gil/clips'))).toEqual([]);
  });

  it('refuses clips for a user that does not exist', async () => {
    expect(await codeOf(store.addClips('nobody', [clip()]))).toBe(errors.USER_NOT_FOUND.code);
    expect(await listFiles(root)).toEqual([]);
  });
});

describe('model versions', () => {
  it('are immutable, and current moves only when set', async () => {
    await store.createUser('hal');
    const bytes = new Uint8Array([9, 8, 7]);
    const record = await store.putModelVersion('hal', 'v1', { 'model.kws': bytes }, { jobId: 'j1' });
    expect(record.files['model.kws']).toEqual({ sha256: sha256Hex(bytes), size: 3 });
    expect(await store.getCurrentModel('hal')).toBeUndefined();
    expect(await codeOf(store.putModelVersion('hal', 'v1', { 'model.kws': new Uint8Array([0]) }))).toBe(
      errors.MODEL_VERSION_EXISTS.code,
    );
    expect(await readFile(store.modelFilePath('hal', 'v1', 'model.kws'))).toEqual(Buffer.from(bytes));
    expect(await codeOf(store.setCurrentModel('hal', 'v2'))).toBe(errors.MODEL_NOT_FOUND.code);
    await store.setCurrentModel('hal', 'v1');
    expect(await store.getCurrentModel('hal')).toMatchObject({ version: 'v1', meta: { jobId: 'j1' } });
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('accepts only the known file names', async () => {
    await store.createUser('ivy');
    const files = { 'model.kws': new Uint8Array(1), '../evil': new Uint8Array(1) } as never;
    expect(await codeOf(store.putModelVersion('ivy', 'v1', files))).toBe(errors.VALIDATION.code);
  });
});

describe('recovery on open', () => {
  it('removes stale temp files, stale unlisted clips and trash; keeps fresh ones (another process may own them)', async () => {
    await store.createUser('jo');
    const [kept] = await store.addClips('jo', [clip()]);
    const clipsDir = join(root, 'users/jo/clips');
    const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
    await writeFile(join(clipsDir, 'orphan-old.wav'), 'x');
    await utimes(join(clipsDir, 'orphan-old.wav'), old, old);
    await writeFile(join(clipsDir, 'orphan-new.wav'), 'x');
    await writeFile(join(root, 'tmp', '.tmp-old'), 'x');
    await utimes(join(root, 'tmp', '.tmp-old'), old, old);
    await writeFile(join(root, 'trash', 'jo.tmp-1'), 'x');
    await Store.open(root);
    expect((await readdir(clipsDir)).sort()).toEqual([`${kept.clipId}.wav`, 'orphan-new.wav'].sort());
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await readdir(join(root, 'trash'))).toEqual([]);
  });

  it('removes stale temp files of interrupted user.json and current.json writes; keeps fresh ones', async () => {
    await store.createUser('kit');
    const userDir = join(root, 'users/kit');
    const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
    for (const dir of [userDir, join(userDir, 'models')]) {
      await writeFile(join(dir, '.tmp-old'), '{"half":');
      await utimes(join(dir, '.tmp-old'), old, old);
      await writeFile(join(dir, '.tmp-new'), '{"half":');
    }
    await Store.open(root);
    expect((await readdir(userDir)).sort()).toEqual(['.tmp-new', 'clips', 'models', 'user.json']);
    expect(await readdir(join(userDir, 'models'))).toEqual(['.tmp-new']);
  });
});

/** A real 1 MB file system (DESIGN §7: as root, tmpfs mounts work here). */
function mountTmpfs(dir: string, sizeBytes: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const canMount = process.getuid?.() === 0;

describe.skipIf(!canMount)('a full or read-only disk (tmpfs, needs root)', () => {
  let mountDir: string;
  beforeEach(async () => {
    mountDir = await mkdtemp(join(tmpdir(), 'kws-tmpfs-'));
    if (!mountTmpfs(mountDir, 1024 * 1024)) throw new Error(`could not mount a tmpfs on ${mountDir}`);
  });
  afterEach(async () => {
    execFileSync('umount', [mountDir]);
    await rm(mountDir, { recursive: true, force: true });
  });

  it('a batch that fills the disk is STORAGE_FULL (507) and leaves nothing behind', async () => {
    const full = await Store.open(mountDir);
    await full.createUser('kim');
    await full.addClips('kim', [clip(100_000)]);
    const before = await listFiles(mountDir);
    const err = await full
      .addClips(
        'kim',
        Array.from({ length: 10 }, () => clip(150_000)),
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(KwsError);
    expect(err.statusCode).toBe(507);
    expect(err.code).toBe('KWS_ERR_STORAGE_FULL');
    expect(err.message).toMatch(/ENOSPC/);
    expect(await listFiles(mountDir)).toEqual(before);
    expect(await full.listClips('kim')).toHaveLength(1);
    // The space came back: a batch that fits is stored.
    expect(await full.addClips('kim', [clip(100_000), clip(100_000)])).toHaveLength(2);
  });

  it('a model version that does not fit is STORAGE_FULL and leaves no staging behind', async () => {
    const full = await Store.open(mountDir);
    await full.createUser('lee');
    const err = await full
      .putModelVersion('lee', 'v1', { 'model.kws': new Uint8Array(2 * 1024 * 1024) })
      .catch((e) => e);
    expect(err.code).toBe('KWS_ERR_STORAGE_FULL');
    expect(await listFiles(mountDir)).toEqual(['users/lee/user.json']);
    expect(await full.getCurrentModel('lee')).toBeUndefined();
  });

  it('a read-only disk is STORAGE_UNAVAILABLE (503) for writes; reads keep working', async () => {
    const ro = await Store.open(mountDir);
    await ro.createUser('max');
    execFileSync('mount', ['-o', 'remount,ro', mountDir]);
    const err = await ro.addClips('max', [clip()]).catch((e) => e);
    expect([err.statusCode, err.code]).toEqual([503, 'KWS_ERR_STORAGE_UNAVAILABLE']);
    expect(err.message).toMatch(/EROFS/);
    expect(await codeOf(ro.createUser('ned'))).toBe('KWS_ERR_STORAGE_UNAVAILABLE');
    expect(await ro.isWritable()).toBe(false);
    expect(await ro.listClips('max')).toEqual([]);
  });
});
