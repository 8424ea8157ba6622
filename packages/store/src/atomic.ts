import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errors, KwsError } from './errors.ts';

/** Prefix of temp files; whatever carries it after a crash is garbage that `Store.open` sweeps. */
export const TEMP_PREFIX = '.tmp-';

export function tempPathIn(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
}

/** Writes `data` to a new temp file in `dir` and fsyncs it; returns the temp file's path. */
export async function writeTempSynced(dir: string, data: Uint8Array | string): Promise<string> {
  const tmp = tempPathIn(dir);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', 0o644);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    return tmp;
  } catch (err) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** fsync of a directory, so a rename or unlink inside it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Temp file + fsync + rename + directory fsync: readers see the old or the new file, never a mix. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = await writeTempSynced(dirname(path), data);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);
const UNAVAILABLE_CODES = new Set(['EROFS', 'EACCES', 'EPERM']);

/** Maps a file-system error to the API's storage errors; other errors pass through unchanged. */
export function storageError(err: unknown, doing: string): unknown {
  if (err instanceof KwsError) return err;
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  if (FULL_CODES.has(code))
    return errors.STORAGE_FULL(`storage is full while ${doing} (${code}); nothing was kept`);
  if (UNAVAILABLE_CODES.has(code)) {
    return errors.STORAGE_UNAVAILABLE(`storage is not writable while ${doing} (${code})`);
  }
  return err;
}
