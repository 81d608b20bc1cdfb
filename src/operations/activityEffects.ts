/**
 * What an endpoint's signs of life mean for the daemon: the one path every source takes (Leshan's posts,
 * its event stream, the reconciliation after a reconnect). A registration, update, deregistration,
 * AWAKE or SLEEPING moves the endpoint's actor; a registration or update sets the endpoint's write format from
 * the content formats its links list; a new registration re-queues the standing observations
 * (Leshan forgot them); AWAKE starts the wait for the answers to requests Leshan held while the device
 * slept, and a deregistration gives those back (Leshan dropped them).
 */
import type { EndpointRegistry } from '../endpoints/registry.js';
import { listedContentFormats } from '../leshan/events.js';
import type { WriteFormats } from '../leshan/writeFormats.js';
import type { EndpointActivity, RegistrationInfo } from '../ingest/ingest.js';
import type { ResourceValue } from '../lwm2m/node.js';
import { registrationDateOf, type RegistrationEvent } from '../lwm2m/registrationObject.js';
import type { DelayedRequests } from './delayedRequests.js';
import type { StandingObservations } from './standingObservations.js';

export interface ActivityEffectsOptions {
  registry: EndpointRegistry;
  standing: StandingObservations;
  /** Only with Leshan's event stream (which settles them). */
  delayed?: DelayedRequests;
  /** Each endpoint's write format, learnt from the formats its registration lists (from posts or events alike). */
  writeFormats?: Pick<WriteFormats, 'registered' | 'updated' | 'deregistered'> | undefined;
}

export class ActivityEffects implements EndpointActivity {
  constructor(private readonly options: ActivityEffectsOptions) {}

  registrationEvent(ep: string, event: RegistrationEvent, value: ResourceValue, info?: RegistrationInfo): void {
    const { registry, standing, delayed, writeFormats } = this.options;
    registry.registrationEvent(ep, event, info?.queueMode);
    if (event === 'deregistered') writeFormats?.deregistered(ep);
    // a registration without links (the seed fork's) lists nothing: the configured format
    else if (event === 'registered') writeFormats?.registered({ endpoint: ep, contentFormats: listedContentFormats(info?.objectLinks) });
    else if (info?.objectLinks) writeFormats?.updated({ endpoint: ep, contentFormats: listedContentFormats(info.objectLinks) });
    if (event === 'registered') void standing.registered(ep, registrationDateOf(value), info?.objectLinks);
    if (event === 'deregistered') void delayed?.deregistered(ep);
  }

  presence(ep: string, awake: boolean): void {
    this.options.registry.presence(ep, awake);
    if (awake) this.options.delayed?.awake(ep);
  }

  reconcile(ep: string, state: { registered: boolean; queueMode: boolean; awake: boolean }): void {
    this.options.registry.reconcile(ep, state);
  }

  registeredEndpoints(): string[] {
    return this.options.registry.registeredEndpoints();
  }
}
