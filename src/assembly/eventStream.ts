import { EventIngress } from '../ingest/eventIngress.js';
import type { EndpointActivity, Ingest } from '../ingest/ingest.js';
import { leshanDeadlineMs, type LeshanClient } from '../leshan/client.js';
import { LeshanEventStream } from '../leshan/eventStream.js';
import { parseRegistrations } from '../leshan/events.js';
import { registerStreamMetrics } from '../leshan/streamMetrics.js';
import type { DelayedRequests } from '../operations/delayedRequests.js';
import type { AssemblyContext, Checks } from './context.js';
import { errorFields } from '../log/errorText.js';

/**
 * Leshan's event stream (`leshan.ingress` events or both): its events feed the same paths as the posts,
 * and after each (re)connection the daemon reconciles with Leshan's registration list.
 */
export function assembleEventStream(
  ctx: AssemblyContext,
  parts: { ingest: Ingest; activity: EndpointActivity; delayed: DelayedRequests; client: LeshanClient },
): { checks: Checks } {
  const log = ctx.log.child({ component: 'events' });
  const { leshan } = ctx.config;
  const ingress = new EventIngress({
    ingest: parts.ingest,
    activity: parts.activity,
    delayed: parts.delayed,
    listRegistrations: async () => parseRegistrations(await parts.client.listClients()),
    log,
    metrics: ctx.metrics,
    writeFormats: parts.client.writeFormats,
  });
  const stream = new LeshanEventStream({
    url: leshan.url,
    onEvent: ingress.handle,
    onConnected: () => ingress.reconcile().catch((err: unknown) => log.warn(errorFields(err), 'could not reconcile with Leshan')),
    onInvalid: ingress.refused,
    heartbeatTimeoutMs: leshan.heartbeatTimeoutMs,
    connectTimeoutMs: leshanDeadlineMs(leshan.requestTimeoutS),
    maxLineBytes: leshan.maxResponseBytes,
    log,
  });
  stream.start();
  ctx.started({ name: 'event stream', stop: () => stream.stop() });
  registerStreamMetrics(ctx.metrics, stream);
  return {
    checks: {
      leshanEvents: () => ({
        ok: stream.connected,
        degraded: !stream.connected, // it reconnects by itself; the registration list is reconciled then
        connected: stream.connected,
        reconnects: stream.reconnects,
        disconnectedMs: Math.round(stream.disconnectedMs()),
      }),
    },
  };
}
