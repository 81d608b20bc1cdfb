import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { StartupError, systemErrorText } from '../config/startupError.js';
import { lockDataDir } from '../dataDir/lock.js';
import { makeDir } from '../dataDir/makeDir.js';
import type { Logger } from '../log/logger.js';
import type { Part } from './context.js';

/** Creates the data directory, checks it is writable and takes its lock before anything reads or writes in it. */
export async function prepareDataDir(config: Config, log: Logger, started: (part: Part) => void): Promise<string> {
  const dataDir = path.resolve(config.dataDir);
  try {
    await makeDir(dataDir);
  } catch (err) {
    throw new StartupError('dataDir', `${dataDir} cannot be created (${systemErrorText(err)})`, { cause: err });
  }
  try {
    await access(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new StartupError('dataDir', `${dataDir} is not writable by this user (${systemErrorText(err)})`, { cause: err });
  }
  const lock = await lockDataDir(dataDir);
  started({ name: 'dataDir lock', stop: () => lock.release() });
  if (!lock.held)
    log.warn({ component: 'controller', dataDir }, 'no lock on the data directory on this platform: run one daemon per dataDir');
  log.info({ component: 'controller', dataDir }, 'data directory ready');
  return dataDir;
}
