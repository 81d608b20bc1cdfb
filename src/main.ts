import { ConfigError, loadConfig, parseArgs } from './config/load.js';
import { Controller } from './controller.js';
import { DataDirLockedError } from './dataDir/lock.js';
import { StoreCorruptError } from './operations/store.js';
import { createLogger } from './log/logger.js';
import { createNotifier } from './systemd/sdNotify.js';
import { errorFields } from './log/errorText.js';

/** Exit status for an invalid configuration (EX_CONFIG); the systemd unit does not restart on it. */
const EXIT_CONFIG = 78;
/** A stop that takes longer than this is cut short: systemd would kill us anyway. */
const FORCE_EXIT_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`lwm2m-backend: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }

  const log = createLogger(config.log.level);
  const notifier = createNotifier(process.env, log);
  const controller = new Controller(config, log, { salvageStore: parseArgs(process.argv.slice(2)).salvageStore === true });

  let shuttingDown = false;
  const shutdown = async (reason: string, code = 0): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ component: 'main', reason }, 'stopping');
    notifier.stopping();
    setTimeout(() => {
      log.error({ component: 'main' }, `stop took longer than ${FORCE_EXIT_MS} ms, exiting`);
      process.exit(1);
    }, FORCE_EXIT_MS).unref();
    const stopCode = await controller.stop();
    notifier.close();
    log.info({ component: 'main' }, 'stopped');
    process.exit(code || stopCode);
  };
  // `on`, not `once`: a second signal while stopping must not fall back to Node's default (instant death).
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('uncaughtException', (err) => {
    log.fatal({ component: 'main', ...errorFields(err, { stack: true }) }, 'uncaught exception');
    void shutdown('uncaught exception', 1);
  });
  process.on('unhandledRejection', (reason) => {
    log.error({ component: 'main', ...errorFields(reason, { stack: true }) }, 'unhandled promise rejection');
  });

  try {
    await controller.start();
  } catch (err) {
    // states that need the operator (a corrupt store, another daemon on the dataDir): one clear line and
    // the exit status systemd does not restart on, instead of a restart loop
    if (err instanceof StoreCorruptError || err instanceof DataDirLockedError) {
      log.fatal({ component: 'main' }, err.message);
      process.stderr.write(`lwm2m-backend: ${err.message}\n`);
      await shutdown('start failed', EXIT_CONFIG);
      return;
    }
    log.fatal({ component: 'main', ...errorFields(err, { stack: true }) }, 'start failed');
    await shutdown('start failed', 1);
    return;
  }
  notifier.ready();
  log.info({ component: 'main', pid: process.pid }, 'ready');
}

await main();
