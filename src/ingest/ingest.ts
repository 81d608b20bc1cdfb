import { flattenNode, type ResourceValue } from '../lwm2m/node.js';
import { parsePath } from '../lwm2m/path.js';
import { NanoClock } from './nanoClock.js';
import type { ParsedPost } from './parsePost.js';
import type { CrossSourceDedupe, IngestSource } from './dedupe.js';
import { registrationEventOf, type RegistrationEvent } from '../lwm2m/registrationObject.js';
import { dataLine, endpointTag, fieldOf, registrationLine } from './points.js';

/** Where lines go: the InfluxDB writer. */
export interface LineSink {
  write(line: string): void;
}

/**
 * Who wants to know that an endpoint showed a sign of life (operations/activityEffects.ts: the endpoint
 * registry, standing observations, requests Leshan holds). Every source of activity goes through it.
 */
export interface EndpointActivity {
  /** A registration lifecycle event (object 10240) arrived; `info` when the source knows more (the event stream). */
  registrationEvent(ep: string, event: RegistrationEvent, value: ResourceValue, info?: RegistrationInfo): void;
  /** Leshan's AWAKE (true) or SLEEPING (false): exact, where the awake window is a guess. */
  presence(ep: string, awake: boolean): void;
  /** What Leshan's registration list says after the event stream (re)connected (events may have been missed). */
  reconcile(ep: string, state: { registered: boolean; queueMode: boolean; awake: boolean }): void;
  /** Endpoints taken to be registered (for reconciling with Leshan's list). */
  registeredEndpoints(): string[];
}

export interface IngestOptions {
  sink: LineSink;
  activity?: EndpointActivity;
  /** Both ingress paths on at once (`leshan.ingress: both`): a value arriving from both is written once. */
  dedupe?: CrossSourceDedupe;
  clock?: NanoClock;
}

/** What Leshan's event stream tells about a registration beyond the forked Leshan's posts. */
export interface RegistrationInfo {
  queueMode: boolean;
  /** The registration's object links (`[{"url":"/3303/0",...}]`): which objects the device has. */
  objectLinks?: unknown[];
}

/**
 * Turns accepted posts into InfluxDB lines and tells the endpoint registry about registrations. Values
 * do not make an endpoint awake: Leshan does not take a notification as a sign of presence either
 * (its presence service is built with updateRegistrationOnNotification = false), and a request sent
 * then is refused as "sleeping". Hot path: per value one
 * string build and one array push; nothing waits for InfluxDB.
 */
export class Ingest {
  private readonly sink: LineSink;
  private readonly activity: EndpointActivity | undefined;
  private readonly dedupe: CrossSourceDedupe | undefined;
  private readonly clock: NanoClock;

  constructor(options: IngestOptions) {
    this.sink = options.sink;
    this.activity = options.activity;
    this.dedupe = options.dedupe;
    this.clock = options.clock ?? new NanoClock();
  }

  /** Queues the post's values for InfluxDB; returns how many values it held. */
  accept(post: ParsedPost, source: IngestSource | 'read' = 'post', info?: RegistrationInfo): number {
    const epTag = endpointTag(post.ep);
    // content the daemon read itself comes by neither ingress path: it never stands for a notification
    const dedupe = source === 'read' ? undefined : this.dedupe;
    const from: IngestSource = source === 'read' ? 'post' : source;
    for (const v of post.values) {
      const event = registrationEventOf(v);
      if (event) {
        if (!dedupe?.isDuplicate(`${post.ep}\n${event}\n${fieldOf(v.value)}`, from)) {
          this.sink.write(registrationLine(epTag, event, v, this.clock.next()));
          this.activity?.registrationEvent(post.ep, event, v, info);
        }
      } else {
        if (
          dedupe?.isDuplicate(
            `${post.ep}\n${v.objectId}/${v.instanceId}/${v.resourceId}/${v.resourceInstanceId ?? ''}\n${fieldOf(v.value)}`,
            from,
          )
        )
          continue;
        this.sink.write(dataLine(epTag, v, this.clock.next()));
      }
    }
    return post.values.length;
  }

  /**
   * Records a node read from the device at `path` (the content of a confirmed read or observe, or a
   * notification from the event stream).
   * @throws FieldError or PathError when the content cannot be stored.
   */
  acceptNode(ep: string, path: string, node: unknown, source: IngestSource | 'read' = 'post'): number {
    const values: ResourceValue[] = [];
    flattenNode(node, parsePath(path), 'content', values);
    return this.accept({ ep, values }, source);
  }
}
