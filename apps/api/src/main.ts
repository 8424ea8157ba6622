import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig } from './config.ts';
import { buildApp } from './server.ts';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Starts the api on the configured host and port; SIGTERM/SIGINT close it gracefully (no new connections,
 * in-flight requests finish, queue and Redis closed). Resolves with the process exit code once stopped.
 */
export async function main(): Promise<number> {
  let config: Awaited<ReturnType<typeof loadConfig>>;
  try {
    config = await loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kws-api: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const app = await buildApp(config);
  if (config.devKeysFile) {
    app.log.warn(
      { file: config.devKeysFile },
      'no KWS_ADMIN_KEY/KWS_TOKEN_SECRET set: using development keys from this file (mode 0600)',
    );
  }
  await app.listen({ port: config.port, host: config.host });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      app.log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        app.log.error(`shutdown took longer than ${SHUTDOWN_GRACE_MS} ms; exiting`);
        resolve(1);
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      app.close().then(
        () => {
          clearTimeout(force);
          resolve(0);
        },
        (err) => {
          app.log.error({ err }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
  // Exit even if a library left a handle open after close (the force timer above is unref'd).
  process.exit();
}
