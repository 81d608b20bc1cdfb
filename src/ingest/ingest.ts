import { flattenNode, type ResourceValue } from '../lwm2m/node.js';
import { parsePath } from '../lwm2m/path.js';
import { NanoClock } from './nanoClock.js';
import type { ParsedPost } from './parsePost.js';
import { dataLine, endpointTag, registrationEvent, registrationLine, type RegistrationEvent } from './points.js';

/** Where lines go: the InfluxDB writer. */
export interface LineSink {
  write(line: string): void;
}

/** Who wants to know that an endpoint showed a sign of life (the endpoint registry). */
export interface EndpointActivity {
  /** Values arrived from the endpoint: it is awake. */
  dataReceived(ep: string): void;
  /** A registration lifecycle event (object 10240) arrived. */
  registrationEvent(ep: string, event: RegistrationEvent, value: ResourceValue): void;
}

/**
 * Turns accepted posts into InfluxDB lines and tells the endpoint registry. Hot path: per value one
 * string build and one array push; nothing waits for InfluxDB.
 */
export class Ingest {
  private activity: EndpointActivity | undefined;

  constructor(
    private readonly sink: LineSink,
    private readonly clock = new NanoClock(),
  ) {}

  /** Connects the endpoint registry (set once at wiring time). */
  setActivity(activity: EndpointActivity): void {
    this.activity = activity;
  }

  /** Queues the post's values for InfluxDB; returns how many values it held. */
  accept(post: ParsedPost): number {
    const epTag = endpointTag(post.ep);
    let data = false;
    for (const v of post.values) {
      const event = registrationEvent(v);
      if (event) {
        this.sink.write(registrationLine(epTag, event, v, this.clock.next()));
        this.activity?.registrationEvent(post.ep, event, v);
      } else {
        this.sink.write(dataLine(epTag, v, this.clock.next()));
        data = true;
      }
    }
    if (data) this.activity?.dataReceived(post.ep);
    return post.values.length;
  }

  /**
   * Records a node read from the device at `path` (the content of a confirmed read or observe).
   * @throws NodeError or PathError when the content cannot be stored.
   */
  acceptNode(ep: string, path: string, node: unknown): number {
    const values: ResourceValue[] = [];
    flattenNode(node, parsePath(path), 'content', values);
    return this.accept({ ep, values });
  }
}
