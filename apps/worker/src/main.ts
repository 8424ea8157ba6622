import { pathToFileURL } from 'node:url';
import { Store } from '@kws/store';
import { pino } from 'pino';
import { ConfigError, loadWorkerConfig } from './config.ts';
import { PersonalizationWorker } from './worker.ts';

/** Extra time past the job grace period before the process exits anyway. */
const EXIT_MARGIN_MS = 5_000;

/**
 * Starts the worker; SIGTERM/SIGINT close it (the current job finishes within KWS_SHUTDOWN_GRACE_S or goes
 * back to the queue). Resolves with the process exit code once stopped.
 */
export async function main(): Promise<number> {
  let config: ReturnType<typeof loadWorkerConfig>;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kws-worker: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, name: 'kws-worker' });
  const store = await Store.open(config.dataDir);
  const worker = new PersonalizationWorker({ config, store, logger });
  await worker.waitUntilReady();
  logger.info(
    { queuePrefix: config.queuePrefix, concurrency: config.concurrency, dataDir: config.dataDir },
    'waiting for personalization jobs',
  );

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(
        () => {
          logger.error('shutdown did not finish in time; exiting');
          resolve(1);
        },
        config.shutdownGraceS * 1000 + EXIT_MARGIN_MS,
      );
      force.unref();
      worker.close().then(
        () => {
          clearTimeout(force);
          resolve(0);
        },
        (err: Error) => {
          logger.error({ err: err.message }, 'error while shutting down');
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
  process.exit();
}
