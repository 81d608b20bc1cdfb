import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { Controller } from '../../src/controller.js';
import { testConfig, testLogger } from './config.js';
import { freePort } from '../../tools/ports.js';

type Overrides = Parameters<typeof testConfig>[0];

/** The daemon in this process (a Controller on a free port with its own data dir). */
export interface RunningController {
  controller: Controller;
  config: Config;
  url: string;
  dataDir: string;
  post(route: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startController(overrides: Overrides = {}): Promise<RunningController> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-ctl-'));
  const port = await freePort();
  const config = testConfig({ ...overrides, http: { port, ...overrides.http }, dataDir });
  const controller = new Controller(config, testLogger());
  await controller.start();
  const url = `http://127.0.0.1:${port}`;
  return {
    controller,
    config,
    url,
    dataDir,
    async post(route, body, headers = {}) {
      const res = await fetch(url + route, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed };
    },
    async stop() {
      await controller.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `cond` holds (or throws after `timeoutMs`). */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True once the daemon's InfluxDB check is ok (its /health as a whole also depends on Leshan answering). */
export async function influxConnected(url: string): Promise<boolean> {
  const body = (await (await fetch(`${url}/health`)).json()) as { checks?: { influx?: { status?: string } } };
  return body.checks?.influx?.status === 'ok';
}
