import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

let tsxApiUrl: string | undefined;

/**
 * Source for `new Worker(source, { eval: true })` that runs the TypeScript module at `entry` (a file URL)
 * in a worker thread. The thread registers tsx's ESM loader itself, so it works however the parent was
 * started (a bin, `--import tsx`, vitest): loader flags in a worker's execArgv do not apply on Node 20,
 * and tsx's CJS build of the API resolves its ESM half wrongly from a worker, so the ESM API is located
 * through tsx's own export map.
 */
export function typeScriptWorkerSource(entry: URL): string {
  tsxApiUrl ??= locateTsxEsmApi();
  return `import(${JSON.stringify(tsxApiUrl)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
}

function locateTsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
    exports?: Record<string, { import?: { default?: string } } | string>;
  };
  const api = pkg.exports?.['./esm/api'];
  const relative = typeof api === 'object' ? api.import?.default : undefined;
  if (relative === undefined) throw new Error(`tsx at ${pkgFile} has no ESM "./esm/api" export`);
  return pathToFileURL(join(dirname(pkgFile), relative)).href;
}
