/**
 * What every assembly function is handed: the configuration, the logger, the metrics registry, and the
 * list of parts the controller stops in reverse order of their start.
 */
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { CheckResult } from '../http/healthRoutes.js';
import type { Logger } from '../log/logger.js';

/** A part of the daemon that the controller stops. */
export interface Part {
  name: string;
  stop(): Promise<void>;
}

export interface AssemblyContext {
  config: Config;
  log: Logger;
  metrics: Registry;
  /** The absolute data directory, created and locked. */
  dataDir: string;
  /** Adds a part to stop (after every part added later has stopped). */
  started(part: Part): void;
  /** Command-line flags: `--salvage-store`. */
  flags: { salvageStore?: boolean };
}

/** A health check by name, as /health shows it. */
export type Checks = Record<string, () => CheckResult>;

/**
 * A port to a part built later, where two parts need each other: used only at run time, never during
 * assembly (then it throws, naming itself). Bound exactly once.
 */
export class LatePort<T> {
  private value: T | undefined;

  constructor(private readonly name: string) {}

  bind(value: T): void {
    if (this.value !== undefined) throw new Error(`${this.name} is bound twice`);
    this.value = value;
  }

  get(): T {
    if (this.value === undefined) throw new Error(`${this.name} is used before it is wired`);
    return this.value;
  }
}
