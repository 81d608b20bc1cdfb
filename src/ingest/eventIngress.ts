import { Counter, type Registry as Metrics } from 'prom-client';
import type { LeshanEvent, Registration } from '../leshan/events.js';
import type { WriteFormats } from '../leshan/writeFormats.js';
import type { LogSink } from '../log/logger.js';
import type { EndpointActivity, Ingest } from './ingest.js';
import { registrationValue, type RegistrationEvent } from '../lwm2m/registrationObject.js';
import { errorFields } from '../log/errorText.js';
import { snakeLabel } from '../metrics/labels.js';

/** Requests Leshan queued itself (see DelayedRequests): settled by REQUEST_RESPONSE. */
export interface StreamDelayed {
  response(requestId: string, response: unknown): Promise<boolean>;
}

export interface EventIngressOptions {
  ingest: Ingest;
  /** Presence and reconciliation go the one path every sign of life takes (registrations go through `ingest`). */
  activity: EndpointActivity;
  delayed: StreamDelayed;
  /** Leshan's registration list (`GET /api/clients`), for reconciling after a (re)connection. */
  listRegistrations(): Promise<Registration[]>;
  log: LogSink;
  metrics: Metrics;
  /** Told of every registration, so that each endpoint's writes go in a content format it lists. */
  /** Leshan's registration list after a reconnection (registrations themselves reach it through the activity). */
  writeFormats?: Pick<WriteFormats, 'reconciled'> | undefined;
}

/**
 * Where Leshan's event stream goes: the same paths as the forked Leshan's posts. REGISTRATION, UPDATED
 * and DEREGISTRATION are registration events (recorded in InfluxDB like object 10240 posts, with the
 * registration date as the fork posts it, and driving the endpoint actors); AWAKE and SLEEPING set
 * presence exactly; NOTIFICATION and SEND values go to InfluxDB; REQUEST_RESPONSE settles an operation
 * that Leshan had queued. After each (re)connection, `reconcile()` catches up with what was missed.
 */
export class EventIngress {
  private readonly events: Counter<'type'>;

  constructor(private readonly options: EventIngressOptions) {
    this.events = new Counter({
      name: 'lwm2m_backend_leshan_events_total',
      help: "Events from Leshan's event stream by type (invalid: could not be used)",
      labelNames: ['type'],
      registers: [options.metrics],
    });
  }

  /** An event the stream could not use (malformed, an endpoint name that cannot be stored): counted as invalid. */
  refused = (): void => {
    this.events.inc({ type: 'invalid' });
  };

  handle = (event: LeshanEvent): void => {
    this.events.inc({ type: snakeLabel(event.type) });
    const { ingest, activity, delayed, log } = this.options;
    switch (event.type) {
      case 'registration':
        this.registration(event.registration, 'registered');
        return;
      case 'updated':
        this.registration(event.registration, 'updated');
        return;
      case 'deregistration':
        this.registration(event.registration, 'deregistered');
        return;
      case 'awake':
        activity.presence(event.ep, true);
        return;
      case 'sleeping':
        activity.presence(event.ep, false);
        return;
      case 'notification':
      case 'send':
        for (const [path, node] of Object.entries(event.values)) {
          try {
            ingest.acceptNode(event.ep, path, node, 'event');
          } catch (err) {
            this.events.inc({ type: 'invalid' });
            log.warn({ ep: event.ep, path, ...errorFields(err) }, `${event.type} value not stored`);
          }
        }
        return;
      case 'requestResponse':
        void delayed.response(event.requestId, event.response).then((known) => {
          if (!known) log.info({ ep: event.ep, requestId: event.requestId }, 'REQUEST_RESPONSE for a request not held here (ignored)');
        });
        return;
    }
  };

  /**
   * After (re)connecting: Leshan's registration list tells who is registered, in queue mode and asleep,
   * so that an update missed while disconnected still wakes its queue and a missed deregistration ends it.
   */
  async reconcile(): Promise<void> {
    const { activity, log } = this.options;
    const registrations = await this.options.listRegistrations();
    this.options.writeFormats?.reconciled(registrations);
    const listed = new Set<string>();
    for (const r of registrations) {
      listed.add(r.endpoint);
      activity.reconcile(r.endpoint, { registered: true, queueMode: r.queueMode, awake: !(r.queueMode && r.sleeping === true) });
    }
    let gone = 0;
    for (const ep of activity.registeredEndpoints()) {
      if (listed.has(ep)) continue;
      activity.reconcile(ep, { registered: false, queueMode: true, awake: false });
      gone++;
    }
    log.info({ registered: registrations.length, deregisteredMeanwhile: gone }, "reconciled with Leshan's registrations");
  }

  private registration(r: Registration, event: RegistrationEvent): void {
    const value = registrationValue(event, r.registrationDate ?? 0);
    // a registration's details go with it and with an update (whose links may list new formats); not with a deregistration
    const info =
      event !== 'deregistered' ? { queueMode: r.queueMode, ...(r.objectLinks ? { objectLinks: r.objectLinks } : {}) } : undefined;
    this.options.ingest.accept({ ep: r.endpoint, values: [value] }, 'event', info);
  }
}
