import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { lockDataDir } from '../dataDir/lock.js';
import type { Logger } from '../log/logger.js';
import type { Part } from './context.js';

/** Creates the data directory, checks it is writable and takes its lock before anything reads or writes in it. */
export async function prepareDataDir(config: Config, log: Logger, started: (part: Part) => void): Promise<string> {
  const dataDir = path.resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  await access(dataDir, constants.W_OK);
  const lock = await lockDataDir(dataDir);
  started({ name: 'dataDir lock', stop: () => lock.release() });
  if (!lock.held)
    log.warn({ component: 'controller', dataDir }, 'no lock on the data directory on this platform: run one daemon per dataDir');
  log.info({ component: 'controller', dataDir }, 'data directory ready');
  return dataDir;
}
