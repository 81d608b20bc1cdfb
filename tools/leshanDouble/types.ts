/**
 * Public types of the Leshan demo-server test double.
 * Facts: docs/leshan-rest-api.md (section numbers below point there).
 */

/** What the simulated device does with the next request that reaches it. */
export type DeviceAnswer =
  /** 200 + success:true. CHANGED(204) for write/execute/attributes, CONTENT(205) for read/observe, CREATED(201), DELETED(202).
   * `content` overrides the default: the node (read/observe/cancel), the path→node map (composite),
   * the objectLinks array (discover) or the location string (create; `null` omits it). */
  | { kind: 'success'; content?: unknown }
  /** 200 {"status":"NOT_FOUND(404)","valid":true,"success":false,"failure":true[,"errormessage"]} (§4). */
  | { kind: 'deviceError'; code: number; errormessage?: string }
  /** 504 "Request timeout" after the request's timeout; a queue-mode client becomes sleeping (§5.1). */
  | { kind: 'timeout' }
  /** 500 "Request rejected: …" (CoAP RST). */
  | { kind: 'rst'; message?: string }
  /** 500 "Request cancelled: …". */
  | { kind: 'cancelled'; message?: string }
  /** 500 "Unexpected exception: …"; `unconnected` (UnconnectedPeerException) also marks a queue-mode client sleeping. */
  | { kind: 'sendFailure'; message?: string; unconnected?: boolean };

/**
 * A Leshan gone wrong, for tests of the client's limits. Only produced when a test asks for it
 * (`LeshanDouble.fault`): the ClientServlet first runs as usual (the request reaches the device or not),
 * then its answer is written like this instead.
 */
export type LeshanFault =
  /** Leshan's status and headers, then its body one byte every `everyMs` (a 100-byte answer takes 100 × everyMs). */
  | { kind: 'drip'; everyMs: number }
  /** Never a response, not even the headers (until the client gives up or the double closes). */
  | { kind: 'hang' }
  /** 200 application/json of exactly `bytes` bytes: a read response whose content is one huge STRING node,
   * produced while it is sent (64 KiB writes, with backpressure). With Content-Length unless `chunked`. */
  | { kind: 'huge'; bytes: number; chunked?: boolean }
  /** This answer instead of Leshan's (default 200 application/json): malformed, deep, anything. */
  | { kind: 'raw'; status?: number; contentType?: string; body: string };

/** Which ClientServlet requests a fault applies to. */
export interface FaultOptions {
  /** Default: every request to /api/clients…; `path` is the decoded path after /api/clients ("" for the list). */
  match?: (req: { method: string; url: string; path: string }) => boolean;
  /** How many requests it applies to (default: all, until clearFaults). */
  times?: number;
}

/** What event streams opened after `streamFault` get instead of Leshan's events. */
export type StreamFault =
  /** After the headers, `chunkBytes` of 'x' every `everyMs`, never a line end (no heartbeat, no event, ever). */
  { kind: 'endlessLine'; chunkBytes: number; everyMs: number };

export interface DoubleClient {
  endpoint: string;
  queueMode: boolean;
  lwM2mVersion?: '1.0' | '1.1';
  /** Default "UQ" for a 1.0 queue-mode client, else "U". */
  bindingMode?: string;
  /** Object links like ["/1/0","/3/0"]; the root link "/" is added. Default ["/1/0","/3/0"]. */
  objectLinks?: string[];
  /** Seconds, default 86400. */
  lifetime?: number;
  /** "host:port", default 127.0.0.1 with a distinct port per registration. */
  address?: string;
  smsNumber?: string;
  secure?: boolean;
  additionalRegistrationAttributes?: Record<string, string>;
}

/** Fields a registration update may change (only those given appear in the UPDATED event's `update`). */
export interface DoubleUpdate {
  lifetime?: number;
  objectLinks?: string[];
  smsNumber?: string;
  address?: string;
}

export interface LeshanDoubleOptions {
  /** L15 (default, what flownexus ships): sleeping client → 400. LM (master, ≥ M17): delayed 200 + REQUEST_RESPONSE. */
  mode?: 'L15' | 'LM';
  /** Default device latency in ms for every answer (default 0). */
  latencyMs?: number;
  /** Multiplies the ?timeout= seconds (default 1; e.g. 0.01 in tests). */
  timeScale?: number;
  /** Awake window after register/update/notification/response (default 93000 ms). */
  awakeMs?: number;
  /** SSE heartbeat period (default 10000 ms, Jetty's). */
  heartbeatMs?: number;
  /** Default 0 (a free port). Always bound to 127.0.0.1. */
  port?: number;
  /** Keep every request in `requests` (default true). Turn off for long benchmarks. */
  recordRequests?: boolean;
  /** Called with each recorded request as soon as its body has arrived (benchmarks time it without polling). */
  onRequest?: (request: RecordedRequest) => void;
}

/** The LwM2M operation a request was routed to (ClientServlet routing, §1.2). */
export type DoubleOp =
  | 'list'
  | 'registration'
  | 'read'
  | 'discover'
  | 'readComposite'
  | 'write'
  | 'writeAttributes'
  | 'writeComposite'
  | 'execute'
  | 'create'
  | 'observe'
  | 'observeComposite'
  | 'cancelObserve'
  | 'cancelObserveComposite'
  | 'delete'
  | 'events'
  | 'objectspecs';

export interface RecordedRequest {
  method: string;
  /** Decoded path after /api/clients (e.g. "/dev1/5/0/1", "" for the list); full decoded path for other servlets. */
  path: string;
  /** Raw request URL (path + query). */
  url: string;
  ep?: string;
  /** Normalised LwM2M path ("/5/0/1") when the route has one. */
  lwm2mPath?: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  body: string;
  /** Parsed body when it is valid JSON. */
  json?: unknown;
  /** Date.now() when the request was complete. */
  at: number;
  op?: DoubleOp;
  /** True once the request reached the device (never for a sleeping client in L15; later for a delayed one in LM). */
  delivered: boolean;
  deliveredAt?: number;
  /** Execute arguments as Leshan saw them (null when Content-Length was absent or 0). */
  args?: string | null;
  /** HTTP status answered (set when the answer is written). */
  status?: number;
  /** LM delayed requests: the requestId answered. */
  requestId?: string;
}

export interface LeshanDouble {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Every request received, in order (unless recordRequests is false). */
  requests: RecordedRequest[];
  /** Requests that reached the device, optionally for one endpoint (O(n), for tests). */
  delivered(ep?: string): RecordedRequest[];
  clearRequests(): void;
  /** REGISTRATION event (after AWAKE for a queue-mode client, as Leshan's listener order gives); awake. */
  register(c: DoubleClient): void;
  /** UPDATED event; awake (AWAKE only on a transition, emitted first). */
  update(ep: string, changes?: DoubleUpdate): void;
  /** DEREGISTRATION event; pending requests get 500 "Request cancelled"; LM queued request dropped. */
  deregister(ep: string): void;
  isRegistered(ep: string): boolean;
  /** Presence as Leshan sees it (always true for a non-queue-mode client). */
  isAwake(ep: string): boolean;
  /** Force presence (queue-mode clients only), emitting SLEEPING/AWAKE on transitions. */
  sleep(ep: string): void;
  wake(ep: string): void;
  /** NOTIFICATION (single) event; also wakes. */
  notify(ep: string, path: string, node: unknown): void;
  /** NOTIFICATION (composite) event; also wakes. */
  notifyComposite(ep: string, nodes: Record<string, unknown>): void;
  /** Raw SSE event. Goes to streams without ?ep and to those whose ep matches `ep` (or data.ep / data.endpoint /
   * data.registration.endpoint); with no endpoint at all, to every stream. A string `data` is sent as is. */
  emit(event: string, data: unknown, ep?: string): void;
  /** Queue the device's next answers for that LwM2M path ("/3/0/1"; composite: the normalised paths joined with ',')
   * or '*' (any path). `ep` may be '*' (any endpoint). Lookup: ep+path, ep+'*', '*'+path, '*'+'*', else success. */
  answer(ep: string, path: string, ...answers: DeviceAnswer[]): void;
  /** Per-endpoint latency, or '*' for the default. */
  setLatency(ep: string, ms: number): void;
  /** Observed single paths of a client (a copy). */
  observations(ep: string): string[];
  /** Number of open SSE streams (faulty ones included). */
  streamCount(): number;
  /** Writes `text` as is to every open (non-faulty) event stream: hostile framing, partial lines, anything. */
  emitRaw(text: string): void;
  /** Event streams opened from now on misbehave like this (undefined: back to normal). Open ones are kept. */
  streamFault(fault: StreamFault | undefined): void;
  /** Leshan answers matching ClientServlet requests like this (see LeshanFault); first matching fault wins. */
  fault(fault: LeshanFault, options?: FaultOptions): void;
  /** Removes every fault of `fault()`; answers being dripped go on until their connection closes. */
  clearFaults(): void;
  /** Bytes written so far by `huge` faults (what actually left the double, for memory checks). */
  faultBytesWritten(): number;
  /** Down: the listening socket is closed and every connection destroyed; up: listen again on the same port. */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}
