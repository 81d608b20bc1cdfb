import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { followTotal, readGauge, totalCounter } from '../../src/metrics/following.js';
import { snakeLabel } from '../../src/metrics/labels.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';

describe('the metrics registry', () => {
  it("keeps the standard process_* and nodejs_* names stock dashboards expect, and says the daemon's version in build_info", async () => {
    const text = await createMetricsRegistry('1.2.3').metrics();
    assert.match(text, /^process_resident_memory_bytes /m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds /m);
    assert.doesNotMatch(text, /^lwm2m_backend_process_/m);
    assert.match(
      text,
      new RegExp(`^lwm2m_backend_build_info\\{version="1\\.2\\.3",nodejs="${process.versions.node.replace(/\./g, '\\.')}"\\} 1$`, 'm'),
    );
  });
});

describe('label values', () => {
  it('are snake_case whatever the code calls them', () => {
    assert.equal(snakeLabel('deviceError'), 'device_error');
    assert.equal(snakeLabel('notDelivered'), 'not_delivered');
    assert.equal(snakeLabel('unreadable_response'), 'unreadable_response');
    assert.equal(snakeLabel('confirmed'), 'confirmed');
  });
});

describe('metrics read when scraped', () => {
  it('a counter follows an ever-rising total (other labels left alone), a gauge reads its value', async () => {
    const registry = new Registry();
    let total = 3;
    let value = 7;
    totalCounter(registry, 'x_total', 'x', () => total);
    readGauge(registry, 'y', 'y', () => value);
    const labelled = new Counter({ name: 'z_total', help: 'z', labelNames: ['k'], registers: [registry] });
    labelled.inc({ k: 'direct' }, 2);
    const follow = followTotal(labelled, { k: 'followed' }, () => total);
    follow();
    assert.match(await registry.metrics(), /^x_total 3$/m);
    total = 5;
    value = 1;
    follow();
    const text = await registry.metrics();
    assert.match(text, /^x_total 5$/m);
    assert.match(text, /^y 1$/m);
    assert.match(text, /^z_total\{k="direct"\} 2$/m);
    assert.match(text, /^z_total\{k="followed"\} 5$/m);
  });
});
