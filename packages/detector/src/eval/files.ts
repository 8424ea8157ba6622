/**
 * Which WAV files of a directory are positives or negatives. Any directory of WAVs works (searched
 * recursively); when it holds a `kws synth` manifest.json, the manifest's labels decide, so one dataset
 * directory can serve as both `--positives` and `--negatives`, and its voices are known per file.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface LabelledFile {
  /** Absolute (or caller-relative) path. */
  path: string;
  /** The manifest's voice, when a manifest names one. */
  voice?: string;
}

/** A directory that cannot serve as evaluation or negative material. */
export class EvalInputError extends Error {
  override name = 'EvalInputError';
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else if (e.isFile() && e.name.toLowerCase().endsWith('.wav')) out.push(path);
  }
  return out;
}

interface ManifestEntry {
  file: string;
  label: number;
  voice?: unknown;
}

/** The WAV files under `dir` carrying `label` (1: keyword, 0: anything else), sorted by path. */
export async function listLabelledWavs(dir: string, label: 0 | 1): Promise<LabelledFile[]> {
  let files: string[];
  try {
    files = await walk(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EvalInputError(
      `cannot read directory ${dir}: ${code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : (error as Error).message}`,
    );
  }
  let manifest: Map<string, ManifestEntry> | null = null;
  try {
    const json = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      clips?: ManifestEntry[];
    };
    if (Array.isArray(json.clips)) manifest = new Map(json.clips.map((c) => [c.file, c]));
  } catch {
    manifest = null; // no (usable) manifest: every WAV has the asked-for label
  }
  const out: LabelledFile[] = [];
  for (const path of files) {
    const rel = relative(dir, path).split(sep).join('/');
    const entry = manifest?.get(rel);
    if (manifest !== null) {
      // Files a manifest does not list (a stream, say) are non-keyword audio.
      const fileLabel = entry === undefined ? 0 : entry.label;
      if (fileLabel !== label) continue;
    }
    out.push(typeof entry?.voice === 'string' ? { path, voice: entry.voice } : { path });
  }
  if (out.length === 0) {
    throw new EvalInputError(`${dir} holds no ${label === 1 ? 'keyword (positive)' : 'negative'} WAV files`);
  }
  return out;
}
