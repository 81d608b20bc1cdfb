import { flattenNode, type ResourceValue } from '../lwm2m/node.js';
import { parsePath } from '../lwm2m/path.js';
import { NanoClock } from './nanoClock.js';
import type { ParsedPost } from './parsePost.js';
import { CrossSourceDedupe, type IngestSource } from './dedupe.js';
import { dataLine, endpointTag, fieldOf, registrationEvent, registrationLine, type RegistrationEvent } from './points.js';

/** Where lines go: the InfluxDB writer. */
export interface LineSink {
  write(line: string): void;
}

/** Who wants to know that an endpoint showed a sign of life (the endpoint registry). */
export interface EndpointActivity {
  /** Values arrived from the endpoint: it is awake. */
  dataReceived(ep: string): void;
  /** A registration lifecycle event (object 10240) arrived; `info` when the source knows more (the event stream). */
  registrationEvent(ep: string, event: RegistrationEvent, value: ResourceValue, info?: RegistrationInfo): void;
}

/** What Leshan's event stream tells about a registration beyond the forked Leshan's posts. */
export interface RegistrationInfo {
  queueMode: boolean;
  /** The registration's object links (`[{"url":"/3303/0",...}]`): which objects the device has. */
  objectLinks?: unknown[];
}

/**
 * Turns accepted posts into InfluxDB lines and tells the endpoint registry. Hot path: per value one
 * string build and one array push; nothing waits for InfluxDB.
 */
export class Ingest {
  private activity: EndpointActivity | undefined;
  private dedupe: CrossSourceDedupe | undefined;

  constructor(
    private readonly sink: LineSink,
    private readonly clock = new NanoClock(),
  ) {}

  /** Connects the endpoint registry (set once at wiring time). */
  setActivity(activity: EndpointActivity): void {
    this.activity = activity;
  }

  /** Both ingress paths on at once: a value arriving from both is written once. */
  dedupeSources(dedupe: CrossSourceDedupe): void {
    this.dedupe = dedupe;
  }

  /** Queues the post's values for InfluxDB; returns how many values it held. */
  accept(post: ParsedPost, source: IngestSource = 'post', info?: RegistrationInfo): number {
    const epTag = endpointTag(post.ep);
    const dedupe = this.dedupe;
    let data = false;
    for (const v of post.values) {
      const event = registrationEvent(v);
      if (event) {
        if (!dedupe?.isDuplicate(`${post.ep}\n${event}\n${fieldOf(v.value)}`, source)) {
          this.sink.write(registrationLine(epTag, event, v, this.clock.next()));
          this.activity?.registrationEvent(post.ep, event, v, info);
        }
      } else {
        data = true;
        if (dedupe?.isDuplicate(`${post.ep}\n${v.objectId}/${v.instanceId}/${v.resourceId}/${v.resourceInstanceId ?? ''}\n${fieldOf(v.value)}`, source)) continue;
        this.sink.write(dataLine(epTag, v, this.clock.next()));
      }
    }
    if (data) this.activity?.dataReceived(post.ep);
    return post.values.length;
  }

  /**
   * Records a node read from the device at `path` (the content of a confirmed read or observe, or a
   * notification from the event stream).
   * @throws FieldError or PathError when the content cannot be stored.
   */
  acceptNode(ep: string, path: string, node: unknown, source: IngestSource = 'post'): number {
    const values: ResourceValue[] = [];
    flattenNode(node, parsePath(path), 'content', values);
    return this.accept({ ep, values }, source);
  }
}
