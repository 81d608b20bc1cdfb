import { flattenNode, type ResourceValue } from '../lwm2m/node.js';
import { parsePath } from '../lwm2m/path.js';
import { NanoClock } from './nanoClock.js';
import type { ParsedPost } from './parsePost.js';
import type { CrossSourceDedupe, IngestSource } from './dedupe.js';
import {
  isRegistrationValue,
  parseObjectLinks,
  REGISTRATION_OBJECT as REGISTRATION_OBJECT_ID,
  presenceEventOf,
  registrationDetailsOf,
  registrationEventOf,
  type RegistrationEvent,
} from '../lwm2m/registrationObject.js';
import { dataLine, deviceTimeField, endpointTag, fieldOf, presenceLine, registrationLine } from './points.js';
import { deviceTimeProblem, type DeviceTime, type DeviceTimeProblem } from './deviceTime.js';

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
  /** A device time later than now plus this is not used as the point's time (`ingest.maxFutureSkewMs`). */
  maxFutureSkewMs?: number;
  /** The wall clock (ms) device times are checked against. */
  now?: () => number;
  /** Told of every post's values, registrations included (the firmware workflow watches 5/0/3, 5/0/5, 3/0/3). */
  watch?: (ep: string, values: readonly ResourceValue[]) => void;
}

/**
 * What a registration's source tells beyond the event itself: Leshan's event stream, or resources 5-8
 * of object 10240 posted beside resource 0 or 2 (docs/leshan-posts.md).
 */
export interface RegistrationInfo {
  queueMode?: boolean;
  /** The registration's object links (`[{"url":"/3303/0",...}]`): which objects the device has. */
  objectLinks?: unknown[];
}

/** The default of `ingest.maxFutureSkewMs`: 5 minutes. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 300_000;

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
  private readonly maxFutureSkewMs: number;
  private readonly now: () => number;
  private readonly watch: ((ep: string, values: readonly ResourceValue[]) => void) | undefined;
  /** Values whose device time was not used (written at arrival time, the device time in `device_time`). */
  readonly deviceTimesUnused: Record<DeviceTimeProblem, number> = { future: 0, before_2000: 0 };
  /** Posts from Leshan taken since start (not event-stream events, not reads): a stock Leshan makes none. */
  postsAccepted = 0;

  constructor(options: IngestOptions) {
    this.sink = options.sink;
    this.activity = options.activity;
    this.dedupe = options.dedupe;
    this.clock = options.clock ?? new NanoClock();
    this.maxFutureSkewMs = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
    this.now = options.now ?? Date.now;
    this.watch = options.watch;
  }

  /** Queues the post's values for InfluxDB; returns how many values it held. */
  accept(post: ParsedPost, source: IngestSource | 'read' = 'post', info?: RegistrationInfo): number {
    const epTag = endpointTag(post.ep);
    // content the daemon read itself comes by neither ingress path: it never stands for a notification
    const dedupe = source === 'read' ? undefined : this.dedupe;
    const from: IngestSource = source === 'read' ? 'post' : source;
    if (source === 'post') this.postsAccepted++;
    const { values, times } = post;
    this.watch?.(post.ep, values);
    let registration: ResourceValue[] | undefined;
    let time: DeviceTime | null = null;
    let problem: DeviceTimeProblem | undefined; // why `time` is not the point's time
    let timestamp = ''; // `time` in ns, when it is
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v.objectId === REGISTRATION_OBJECT_ID && isRegistrationValue(v)) {
        (registration ??= []).push(v);
        continue;
      }
      if (times && times[i] !== time) {
        time = times[i]!;
        problem = time && deviceTimeProblem(time.ns, this.now(), this.maxFutureSkewMs);
        if (time && !problem) timestamp = time.ns.toString();
      }
      const usable = time !== null && problem === undefined;
      const key = dedupe && `${post.ep}\n${v.objectId}/${v.instanceId}/${v.resourceId}/${v.resourceInstanceId ?? ''}\n${fieldOf(v.value)}`;
      // a value at the device's time is written whatever came first: its point is the one that keeps the time
      if (key && dedupe.isDuplicate(key, from) && !usable) continue;
      if (usable) this.sink.write(dataLine(epTag, v, timestamp));
      else if (time) {
        this.deviceTimesUnused[problem!]++;
        this.sink.write(dataLine(epTag, v, this.clock.next(), deviceTimeField(time.text)));
      } else this.sink.write(dataLine(epTag, v, this.clock.next()));
    }
    if (registration) this.registration(post.ep, epTag, registration, dedupe, from, info);
    return values.length;
  }

  /**
   * Object 10240 values of one post: registration events (with resources 5-8 of the same post as their
   * details), presence. Resources 5-8 alone are no event.
   */
  private registration(
    ep: string,
    epTag: string,
    values: ResourceValue[],
    dedupe: CrossSourceDedupe | undefined,
    from: IngestSource,
    info: RegistrationInfo | undefined,
  ): void {
    const details = registrationDetailsOf(values);
    if (details.queueMode === undefined && info?.queueMode !== undefined) details.queueMode = info.queueMode;
    const posted: RegistrationInfo | undefined =
      details.queueMode === undefined && details.objectLinks === undefined
        ? undefined
        : {
            ...(details.queueMode !== undefined && { queueMode: details.queueMode }),
            ...(details.objectLinks !== undefined && { objectLinks: parseObjectLinks(details.objectLinks) }),
          };
    for (const v of values) {
      const event = registrationEventOf(v);
      if (event) {
        if (dedupe?.isDuplicate(`${ep}\n${event}\n${fieldOf(v.value)}`, from)) continue;
        this.sink.write(registrationLine(epTag, event, v, this.clock.next(), details));
        this.activity?.registrationEvent(ep, event, v, info ?? posted);
        continue;
      }
      const presence = presenceEventOf(v);
      if (presence) {
        this.sink.write(presenceLine(epTag, presence, v, this.clock.next()));
        this.activity?.presence(ep, presence === 'awake');
      }
    }
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
