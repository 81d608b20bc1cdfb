/**
 * Metrics read when scraped from totals and values the daemon keeps anyway (no bookkeeping on the hot paths):
 * a counter that follows an ever-rising total, and a gauge that reads a value.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Each call adds to `counter{labels}` what `total` grew by since the last call (so a counter's other labels,
 * incremented directly, are left alone). Call it from the counter's `collect`.
 */
export function followTotal(counter: Counter<string>, labels: Record<string, string>, total: () => number): () => void {
  let seen = 0;
  return () => {
    const now = total();
    if (now > seen) counter.inc(labels, now - seen);
    seen = now;
  };
}

/** A counter (no labels) that follows an ever-rising total, read when scraped. */
export function totalCounter(registry: Registry, name: string, help: string, total: () => number): Counter {
  let follow: (() => void) | undefined;
  const counter: Counter = new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      follow ??= followTotal(counter, {}, total);
      follow();
    },
  });
  return counter;
}

/** A gauge (no labels) that reads its value when scraped. */
export function readGauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
