import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fsyncDir,
  storageError,
  TEMP_PREFIX,
  tempPathIn,
  writeFileAtomic,
  writeTempSynced,
} from './atomic.ts';
import { ByteLru } from './byte-lru.ts';
import { errors } from './errors.ts';
import { assertId, isId } from './ids.ts';
import { KeyedMutex } from './lock.ts';

/** At most this many clips are stored per user (DESIGN §5). */
export const MAX_CLIPS_PER_USER = 20;
/** Files a model version may hold: the `.kws` model, and its tfjs export once the detector writes one. */
export const MODEL_FILES = ['model.kws', 'model.json', 'weights.bin'] as const;
export type ModelFileName = (typeof MODEL_FILES)[number];
/** Bytes of model files kept in memory (versions are immutable, so the cache is never stale). */
export const MODEL_CACHE_BYTES = 64 * 1024 * 1024;
/** Temp files and unreferenced clip files younger than this may belong to another process's write. */
export const STALE_AFTER_MS = 60 * 60 * 1000;

export interface ClipQuality {
  peakDb: number;
  snrDb: number;
  speechS: number;
  clippingFraction: number;
}

export interface ClipRecord {
  clipId: string;
  /** SHA-256 (hex) of the stored WAV bytes. */
  sha256: string;
  durationS: number;
  quality: ClipQuality;
  /** The file name the client sent (data only, never used as a path). */
  fileName: string;
  createdAt: string;
}

export interface UserRecord {
  userId: string;
  /** Part of every token; incremented on rotation, so older tokens stop verifying. */
  tokenVersion: number;
  createdAt: string;
  clips: ClipRecord[];
}

export interface NewClip {
  /** The WAV bytes to store (the api stores the decoded clip as 16 kHz mono). */
  wav: Uint8Array;
  durationS: number;
  quality: ClipQuality;
  fileName: string;
}

export interface ModelFileInfo {
  sha256: string;
  size: number;
}

export interface ModelVersionRecord {
  version: string;
  createdAt: string;
  files: Partial<Record<ModelFileName, ModelFileInfo>> & { 'model.kws': ModelFileInfo };
  /** Whatever the producer (the worker) records with the version: job id, metrics, threshold… */
  meta: Record<string, unknown>;
}

const USER_FILE = 'user.json';
const CLIPS_DIR = 'clips';
const MODELS_DIR = 'models';
const CURRENT_FILE = 'current.json';
const META_FILE = 'meta.json';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The durable store: a directory that holds users (with their token version and clip list), clip audio and
 * immutable model versions with a `current` pointer. Redis is not involved: losing it loses nothing here.
 *
 * Layout under `root`:
 *   users/<userId>/user.json                 UserRecord (the index: a clip exists iff it is listed here)
 *   users/<userId>/clips/<clipId>.wav
 *   users/<userId>/models/<version>/         meta.json + model.kws (+ model.json, weights.bin)
 *   users/<userId>/models/current.json       the current ModelVersionRecord
 *   tmp/                                     staging for whole directories (same file system, for rename)
 *   trash/                                   deleted users on their way out
 *
 * Every file is written atomically (temp + fsync + rename + directory fsync). Every id is checked against
 * the id schema before it is joined into a path. Read-modify-write of a user runs under a per-user mutex,
 * which makes lost updates impossible within one process. Several processes writing the same user would
 * additionally need a cross-process lock (an O_EXCL lock file with stale-lock recovery, or flock) or a
 * compare-and-swap on a revision number; the api is the only writer of users and clips today, and the worker
 * only adds model versions, whose directory rename cannot overwrite another's.
 */
export class Store {
  readonly root: string;
  readonly #lock = new KeyedMutex();
  readonly #modelBytes = new ByteLru(MODEL_CACHE_BYTES);

  private constructor(root: string) {
    this.root = root;
  }

  /** Creates the layout if missing and removes what a crash left behind (stale temp files, orphans). */
  static async open(root: string): Promise<Store> {
    const store = new Store(root);
    try {
      for (const dir of ['users', 'tmp', 'trash']) await mkdir(join(root, dir), { recursive: true });
      await store.#sweep();
    } catch (err) {
      throw storageError(err, `opening the store at ${root}`);
    }
    return store;
  }

  /** True when a file can be created, synced and removed under the store's root (for /readyz). */
  async isWritable(): Promise<boolean> {
    try {
      const probe = await writeTempSynced(join(this.root, 'tmp'), 'ok');
      await rm(probe, { force: true });
      return true;
    } catch {
      return false;
    }
  }

  // ── users ────────────────────────────────────────────────────────────────────────────────────────────

  /** Creates a user with a fresh random token version; `KWS_ERR_USER_EXISTS` when the id is taken. */
  async createUser(userId: string = newUserId()): Promise<UserRecord> {
    assertId('userId', userId);
    return this.#guard(`creating user ${userId}`, () =>
      this.#lock.run(userId, async () => {
        const record: UserRecord = {
          userId,
          // A random start (not 1) so that a deleted and re-created user id doesn't revive old tokens.
          tokenVersion: 1 + Number.parseInt(randomBytes(5).toString('hex'), 16),
          createdAt: new Date().toISOString(),
          clips: [],
        };
        const staging = tempPathIn(join(this.root, 'tmp'));
        try {
          // Not recursive: Node's recursive mkdir reports EROFS as ENOENT.
          await mkdir(staging);
          await mkdir(join(staging, CLIPS_DIR));
          await mkdir(join(staging, MODELS_DIR));
          await writeFileAtomic(join(staging, USER_FILE), JSON.stringify(record));
          await fsyncDir(staging);
          // A directory rename onto an existing (non-empty) user directory fails: creation is atomic.
          await rename(staging, this.#userDir(userId));
        } catch (err) {
          await rm(staging, { recursive: true, force: true });
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOTEMPTY' || code === 'EEXIST')
            throw errors.USER_EXISTS(`user ${userId} already exists`);
          throw err;
        }
        await fsyncDir(join(this.root, 'users'));
        return record;
      }),
    );
  }

  /** The user's record, or undefined when there is no such user. */
  async getUser(userId: string): Promise<UserRecord | undefined> {
    assertId('userId', userId);
    return this.#guard(`reading user ${userId}`, () => this.#readUser(userId));
  }

  /** Increments the token version (every older token stops verifying) and returns the new record. */
  async rotateTokenVersion(userId: string): Promise<UserRecord> {
    return this.#updateUser(userId, 'rotating the token', (user) => ({
      ...user,
      tokenVersion: user.tokenVersion + 1,
    }));
  }

  /** Removes the user with all clips and models; false when there was no such user. */
  async deleteUser(userId: string): Promise<boolean> {
    assertId('userId', userId);
    return this.#guard(`deleting user ${userId}`, () =>
      this.#lock.run(userId, async () => {
        const trashed = join(this.root, 'trash', `${userId}${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
        try {
          await rename(this.#userDir(userId), trashed);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
          throw err;
        }
        await fsyncDir(join(this.root, 'users'));
        this.#modelBytes.deletePrefix(`${userId}/`);
        await rm(trashed, { recursive: true, force: true });
        return true;
      }),
    );
  }

  // ── clips ────────────────────────────────────────────────────────────────────────────────────────────

  async listClips(userId: string): Promise<ClipRecord[]> {
    const user = await this.getUser(userId);
    if (!user) throw errors.USER_NOT_FOUND(`user ${userId} does not exist`);
    return user.clips;
  }

  /**
   * Stores a batch of clips all-or-nothing: `KWS_ERR_TOO_MANY_CLIPS` when the user would hold more than
   * `maxClips`; on any failure (disk full included) no clip of the batch stays behind.
   */
  async addClips(userId: string, clips: NewClip[], maxClips = MAX_CLIPS_PER_USER): Promise<ClipRecord[]> {
    assertId('userId', userId);
    return this.#guard(`storing ${clips.length} clip(s) for user ${userId}`, () =>
      this.#lock.run(userId, async () => {
        const user = await this.#readUser(userId);
        if (!user) throw errors.USER_NOT_FOUND(`user ${userId} does not exist`);
        if (user.clips.length + clips.length > maxClips) {
          throw errors.TOO_MANY_CLIPS(
            `user ${userId} has ${user.clips.length} clip(s); adding ${clips.length} would exceed the limit of ${maxClips}`,
          );
        }
        const clipsDir = join(this.#userDir(userId), CLIPS_DIR);
        const createdAt = new Date().toISOString();
        const records: ClipRecord[] = clips.map((clip) => ({
          clipId: randomUUID(),
          sha256: sha256Hex(clip.wav),
          durationS: clip.durationS,
          quality: clip.quality,
          fileName: clip.fileName.slice(0, 255),
          createdAt,
        }));
        const temps: string[] = [];
        const placed: string[] = [];
        try {
          for (const clip of clips) temps.push(await writeTempSynced(clipsDir, clip.wav));
          for (let i = 0; i < records.length; i++) {
            const target = join(clipsDir, `${records[i].clipId}.wav`);
            await rename(temps[i], target);
            placed.push(target);
          }
          await fsyncDir(clipsDir);
          // The index is the truth: the clips exist once user.json lists them, and not before.
          await this.#writeUser({ ...user, clips: [...user.clips, ...records] });
        } catch (err) {
          await Promise.all([...temps, ...placed].map((p) => rm(p, { force: true })));
          throw err;
        }
        return records;
      }),
    );
  }

  /** The stored WAV bytes of a clip, or undefined when the user has no such clip. */
  async readClip(userId: string, clipId: string): Promise<Uint8Array | undefined> {
    assertId('userId', userId);
    assertId('clipId', clipId);
    return this.#guard(`reading clip ${clipId}`, async () => {
      const user = await this.#readUser(userId);
      if (!user?.clips.some((c) => c.clipId === clipId)) return undefined;
      return readFile(join(this.#userDir(userId), CLIPS_DIR, `${clipId}.wav`));
    });
  }

  /** Removes one clip; false when the user has no such clip. */
  async deleteClip(userId: string, clipId: string): Promise<boolean> {
    assertId('clipId', clipId);
    let found = false;
    await this.#updateUser(userId, `deleting clip ${clipId}`, (user) => {
      found = user.clips.some((c) => c.clipId === clipId);
      return found ? { ...user, clips: user.clips.filter((c) => c.clipId !== clipId) } : undefined;
    });
    if (found) {
      await this.#guard(`deleting clip ${clipId}`, async () => {
        const clipsDir = join(this.#userDir(userId), CLIPS_DIR);
        await rm(join(clipsDir, `${clipId}.wav`), { force: true });
        await fsyncDir(clipsDir);
      });
    }
    return found;
  }

  // ── models ───────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Adds an immutable model version (`model.kws` required; `model.json` + `weights.bin` when a tfjs export
   * exists). The version directory is built in staging and renamed into place in one step, so it is either
   * complete or absent. `KWS_ERR_MODEL_VERSION_EXISTS` if the version is already stored.
   */
  async putModelVersion(
    userId: string,
    version: string,
    files: Partial<Record<ModelFileName, Uint8Array>> & { 'model.kws': Uint8Array },
    meta: Record<string, unknown> = {},
  ): Promise<ModelVersionRecord> {
    assertId('userId', userId);
    assertId('model version', version);
    for (const name of Object.keys(files)) {
      if (!(MODEL_FILES as readonly string[]).includes(name)) {
        throw errors.VALIDATION(
          `model file must be one of ${MODEL_FILES.join(', ')}, received ${JSON.stringify(name)}`,
        );
      }
    }
    return this.#guard(`storing model version ${version} of user ${userId}`, () =>
      this.#lock.run(userId, async () => {
        if (!(await this.#readUser(userId))) throw errors.USER_NOT_FOUND(`user ${userId} does not exist`);
        const infos: Partial<Record<ModelFileName, ModelFileInfo>> = {};
        for (const [name, bytes] of Object.entries(files) as [ModelFileName, Uint8Array][]) {
          infos[name] = { sha256: sha256Hex(bytes), size: bytes.byteLength };
        }
        const record: ModelVersionRecord = {
          version,
          createdAt: new Date().toISOString(),
          files: infos as ModelVersionRecord['files'],
          meta,
        };
        const staging = tempPathIn(join(this.root, 'tmp'));
        try {
          await mkdir(staging);
          for (const [name, bytes] of Object.entries(files))
            await writeFileAtomic(join(staging, name), bytes);
          await writeFileAtomic(join(staging, META_FILE), JSON.stringify(record));
          await fsyncDir(staging);
          const modelsDir = join(this.#userDir(userId), MODELS_DIR);
          await rename(staging, join(modelsDir, version));
          await fsyncDir(modelsDir);
        } catch (err) {
          await rm(staging, { recursive: true, force: true });
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOTEMPTY' || code === 'EEXIST') {
            throw errors.MODEL_VERSION_EXISTS(`model version ${version} of user ${userId} already exists`);
          }
          throw err;
        }
        return record;
      }),
    );
  }

  /** Points `current` at a stored version (a job calls this only after its model validated). */
  async setCurrentModel(userId: string, version: string): Promise<ModelVersionRecord> {
    assertId('userId', userId);
    assertId('model version', version);
    return this.#guard(`setting the current model of user ${userId}`, () =>
      this.#lock.run(userId, async () => {
        if (!(await this.#readUser(userId))) throw errors.USER_NOT_FOUND(`user ${userId} does not exist`);
        const modelsDir = join(this.#userDir(userId), MODELS_DIR);
        const record = await readJson<ModelVersionRecord>(join(modelsDir, version, META_FILE));
        if (!record) throw errors.MODEL_NOT_FOUND(`user ${userId} has no model version ${version}`);
        await writeFileAtomic(join(modelsDir, CURRENT_FILE), JSON.stringify(record));
        return record;
      }),
    );
  }

  /** The current model version's record (one small file read), or undefined before the first model. */
  async getCurrentModel(userId: string): Promise<ModelVersionRecord | undefined> {
    assertId('userId', userId);
    return this.#guard(`reading the current model of user ${userId}`, () =>
      readJson<ModelVersionRecord>(join(this.#userDir(userId), MODELS_DIR, CURRENT_FILE)),
    );
  }

  /**
   * The bytes of one file of a stored model version, or undefined when it is not there (for instance the
   * user was deleted). Served from memory after the first read.
   */
  async readModelFile(userId: string, version: string, file: ModelFileName): Promise<Buffer | undefined> {
    const path = this.modelFilePath(userId, version, file);
    const key = `${userId}/${version}/${file}`;
    const cached = this.#modelBytes.get(key);
    if (cached) return cached;
    return this.#guard(`reading ${file} of model version ${version}`, async () => {
      try {
        const bytes = await readFile(path);
        this.#modelBytes.set(key, bytes);
        return bytes;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    });
  }

  /** Path of one file of a stored model version (ids checked, name from the fixed list). */
  modelFilePath(userId: string, version: string, file: ModelFileName): string {
    assertId('userId', userId);
    assertId('model version', version);
    if (!(MODEL_FILES as readonly string[]).includes(file)) {
      throw errors.VALIDATION(
        `model file must be one of ${MODEL_FILES.join(', ')}, received ${JSON.stringify(file)}`,
      );
    }
    return join(this.#userDir(userId), MODELS_DIR, version, file);
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────────────

  #userDir(userId: string): string {
    assertId('userId', userId);
    return join(this.root, 'users', userId);
  }

  async #readUser(userId: string): Promise<UserRecord | undefined> {
    return readJson<UserRecord>(join(this.#userDir(userId), USER_FILE));
  }

  async #writeUser(user: UserRecord): Promise<void> {
    await writeFileAtomic(join(this.#userDir(user.userId), USER_FILE), JSON.stringify(user));
  }

  /** Read-modify-write of a user under its lock; `change` returning undefined means "no change". */
  async #updateUser(
    userId: string,
    doing: string,
    change: (user: UserRecord) => UserRecord | undefined,
  ): Promise<UserRecord> {
    assertId('userId', userId);
    return this.#guard(`${doing} for user ${userId}`, () =>
      this.#lock.run(userId, async () => {
        const user = await this.#readUser(userId);
        if (!user) throw errors.USER_NOT_FOUND(`user ${userId} does not exist`);
        const next = change(user);
        if (!next) return user;
        await this.#writeUser(next);
        return next;
      }),
    );
  }

  async #guard<T>(doing: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      throw storageError(err, doing);
    }
  }

  /**
   * Removes what a crash left behind once older than STALE_AFTER_MS: staging, temp files of interrupted
   * atomic writes, clip files no index lists; and trash. A file renamed away meanwhile is not stale.
   */
  async #sweep(): Promise<void> {
    const now = Date.now();
    const isStale = (path: string) =>
      stat(path).then(
        (s) => now - s.mtimeMs > STALE_AFTER_MS,
        () => false,
      );
    for (const dir of ['tmp', 'trash']) {
      for (const name of await readdir(join(this.root, dir))) {
        const path = join(this.root, dir, name);
        if (dir === 'trash' || (await isStale(path))) await rm(path, { recursive: true, force: true });
      }
    }
    for (const userId of await readdir(join(this.root, 'users'))) {
      const user = isId(userId) ? await this.#readUser(userId) : undefined;
      if (!user) continue;
      // Temp files of an interrupted user.json or current.json write (temp + rename in the same directory).
      for (const dir of [this.#userDir(userId), join(this.#userDir(userId), MODELS_DIR)]) {
        for (const name of await readdir(dir).catch(() => [] as string[])) {
          const path = join(dir, name);
          if (name.startsWith(TEMP_PREFIX) && (await isStale(path))) await rm(path, { force: true });
        }
      }
      const listed = new Set(user.clips.map((c) => `${c.clipId}.wav`));
      const clipsDir = join(this.#userDir(userId), CLIPS_DIR);
      for (const name of await readdir(clipsDir).catch(() => [] as string[])) {
        const path = join(clipsDir, name);
        if (!listed.has(name) && (await isStale(path))) await rm(path, { force: true });
      }
    }
  }
}

export function newUserId(): string {
  return `u_${randomBytes(9).toString('base64url')}`;
}

/**
 * Reads one of the store's small JSON records (user.json, current.json, meta.json: a few KB). Synchronously
 * on purpose: an async readFile is four thread-pool round trips (open, fstat, read, close), which capped
 * model revalidation at ≈ 3,200 req/s; a sync read of a small local file blocks the loop for microseconds and
 * gave ≈ 5,600 req/s on the same loaded machine (apps/api/bench). Every read sees the latest atomic rename.
 */
async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}
