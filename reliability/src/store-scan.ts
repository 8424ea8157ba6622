import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type ModelVersionRecord, sha256Hex } from '@kws/store';
import { TEMP_PREFIX } from '../../packages/store/src/atomic.ts';

/** What a reader of the data dir sees at one instant, checked against the store's own records. */
export interface StoreScan {
  /** `.tmp-*` files or dirs under `users/` (relative paths): an atomic write in flight, or one left behind. */
  tempFiles: string[];
  /** Entries under `tmp/` (staging): a version or user being built, or left by a crash. */
  staging: string[];
  /** Version dirs (relative) whose meta.json is missing or whose files are missing or differ from it. */
  partialVersions: string[];
  /** Users whose current.json names a version that is not complete. */
  danglingCurrent: string[];
  /** sha256 of every regular file under `users/` except temp files, by relative path. */
  files: Map<string, string>;
}

/**
 * Walks `dataDir` as a concurrent reader would. Tolerates entries vanishing mid-walk (a rename or delete
 * racing the scan); anything present must be whole.
 */
export async function scanStore(dataDir: string): Promise<StoreScan> {
  const scan: StoreScan = {
    tempFiles: [],
    staging: [],
    partialVersions: [],
    danglingCurrent: [],
    files: new Map(),
  };
  scan.staging = await names(join(dataDir, 'tmp'));
  const usersDir = join(dataDir, 'users');
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await entries(dir)) {
      const path = join(dir, entry.name);
      const rel = relative(dataDir, path);
      if (entry.name.startsWith(TEMP_PREFIX)) scan.tempFiles.push(rel);
      else if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const bytes = await readFile(path).catch(() => undefined);
        if (bytes) scan.files.set(rel, sha256Hex(bytes));
      }
    }
  };
  await walk(usersDir);
  for (const userId of await names(usersDir)) {
    const modelsDir = join(usersDir, userId, 'models');
    const complete = new Set<string>();
    for (const entry of await entries(modelsDir)) {
      if (!entry.isDirectory() || entry.name.startsWith(TEMP_PREFIX)) continue;
      const rel = relative(dataDir, join(modelsDir, entry.name));
      if (await versionComplete(dataDir, rel, scan.files)) complete.add(entry.name);
      else scan.partialVersions.push(rel);
    }
    const current = await readJson<ModelVersionRecord>(join(modelsDir, 'current.json'));
    if (current === null) scan.danglingCurrent.push(`${userId} → current.json is not valid JSON`);
    else if (current && !complete.has(current.version)) {
      scan.danglingCurrent.push(`${userId} → ${current.version}`);
    }
  }
  return scan;
}

async function versionComplete(dataDir: string, rel: string, files: Map<string, string>): Promise<boolean> {
  const meta = await readJson<ModelVersionRecord>(join(dataDir, rel, 'meta.json'));
  if (!meta?.files?.['model.kws']) return false;
  for (const [name, info] of Object.entries(meta.files)) {
    const bytes = await readFile(join(dataDir, rel, name)).catch(() => undefined);
    if (!bytes || bytes.byteLength !== info?.size || sha256Hex(bytes) !== info.sha256) return false;
    files.set(join(rel, name), info.sha256);
  }
  return true;
}

async function entries(dir: string) {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function names(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** The parsed file; undefined when it does not exist, null when it exists but is not JSON. */
async function readJson<T>(path: string): Promise<T | undefined | null> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
