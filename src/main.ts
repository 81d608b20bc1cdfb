import { parseCommandLine, USAGE } from './config/args.js';
import { ConfigError, loadConfig } from './config/load.js';
import { StartupError } from './config/startupError.js';
import { printableConfig, startupSummary } from './config/summary.js';
import { packageVersion } from './config/version.js';
import { Controller } from './controller.js';
import { DataDirLockedError } from './dataDir/lock.js';
import { StoreCorruptError } from './operations/store.js';
import { createLogger } from './log/logger.js';
import { stdoutIsJournal } from './systemd/journal.js';
import { createNotifier } from './systemd/sdNotify.js';
import { errorFields, errorText } from './log/errorText.js';

/** Exit status for an invalid configuration (EX_CONFIG); the systemd unit does not restart on it. */
const EXIT_CONFIG = 78;
/** A stop that takes longer than this is cut short: systemd would kill us anyway. */
const FORCE_EXIT_MS = 10_000;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const commandLine = parseCommandLine(argv);
  if (commandLine.action === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (commandLine.action === 'version') {
    process.stdout.write(`lwm2m-backend ${packageVersion()}\n`);
    return;
  }
  let config;
  try {
    config = loadConfig({ argv, env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`lwm2m-backend: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (commandLine.action === 'print-config') {
    process.stdout.write(`${JSON.stringify(printableConfig(config), null, 2)}\n`);
    return;
  }

  const log = createLogger(config.log.level, undefined, { journald: stdoutIsJournal(process.env) });
  const notifier = createNotifier(process.env, log);
  const controller = new Controller(config, log, { salvageStore: commandLine.salvageStore === true });

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
    if (err instanceof StoreCorruptError || err instanceof DataDirLockedError || err instanceof StartupError) {
      log.fatal({ component: 'main' }, err.message);
      process.stderr.write(`lwm2m-backend: ${err.message}\n`);
      await shutdown('start failed', EXIT_CONFIG);
      return;
    }
    // anything else may pass (a restart is worth trying): one line on stderr, the stack in the log
    log.fatal({ component: 'main', ...errorFields(err, { stack: true }) }, 'start failed');
    process.stderr.write(`lwm2m-backend: start failed: ${errorText(err)}\n`);
    await shutdown('start failed', 1);
    return;
  }
  notifier.ready();
  log.info({ component: 'main', pid: process.pid, version: packageVersion(), ...startupSummary(config) }, 'ready');
}

await main();
