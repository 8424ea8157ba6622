import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `bytes` to `path` through a temporary file in the same directory, flushed, then renamed over
 * `path`: a crash or a full disk leaves the old file or none, never half of the new one.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes, { flush: true });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
