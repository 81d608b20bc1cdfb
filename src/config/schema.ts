import { z } from 'zod';

/** An http(s) URL such as `http://127.0.0.1:8086`. */
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const positiveInt = z.int().positive();

/** An IPv4/IPv6 address or CIDR block, e.g. `127.0.0.0/8` or `::1`. Checked in full by `net.BlockList` at start. */
const cidr = z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'must be an IP address or CIDR block');

/**
 * The whole configuration. `config/default.json` holds a value for every key; a `--config` file and
 * `LWM2M_*` environment variables override them. Unknown keys are errors, so a typo never goes unnoticed.
 */
export const configSchema = z.strictObject({
  http: z.strictObject({
    host: z.string().min(1),
    port: z.int().min(1).max(65535),
    /** Largest request body accepted (413 above it). */
    bodyLimitBytes: positiveInt.max(64 * 1024 * 1024),
    /** Addresses allowed to post to /leshan_api (the forked Leshan cannot send a token). */
    leshanAllowFrom: z.array(cidr),
  }),
  auth: z.strictObject({
    /** Bearer token for the operator API; empty means none. */
    token: z.string(),
    /** Must be true to serve the operator API without a token on a non-loopback address. */
    allowAnonymous: z.boolean(),
  }),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  }),
  leshan: z.strictObject({
    url: httpUrl,
    ingress: z.enum(['posts', 'events', 'both']),
    /** `?timeout=` of each request to Leshan, seconds: how long Leshan waits for the device (its default is 5). */
    requestTimeoutS: positiveInt.max(300),
    /** Requests to Leshan at once over all endpoints, so that a wake storm does not flood it. */
    maxConcurrent: positiveInt.max(1024),
    /** Silence on the event stream (Leshan sends a heartbeat every 10 s) after which it is taken as dead. */
    heartbeatTimeoutMs: positiveInt.min(1000),
    /** Content format of writes (`?format=`): what Leshan encodes the value in for the device (its own default is TLV). */
    writeFormat: z.enum(['TLV', 'SENML_CBOR', 'SENML_JSON', 'JSON', 'CBOR', 'TEXT']),
    /** Largest answer taken from Leshan (a read's content, an event, the registration list); a bigger one is a failed attempt. */
    maxResponseBytes: positiveInt.min(1024).max(256 * 1024 * 1024),
  }),
  ingest: z.strictObject({
    /**
     * A device time (timestamped posts) later than the daemon's clock plus this is not used: the value is
     * written at arrival time with the device's time in `device_time` (and counted).
     */
    maxFutureSkewMs: z
      .int()
      .min(0)
      .max(365 * 24 * 3600 * 1000),
  }),
  influx: z.strictObject({
    url: httpUrl,
    /** `v1` writes to `/write?db=`, `v2` to `/api/v2/write`; `auto` picks v2 when a bucket is set. */
    api: z.enum(['auto', 'v1', 'v2']),
    database: z.string(),
    org: z.string(),
    bucket: z.string(),
    token: z.string(),
    /** How often to retry connecting (and to re-check) while InfluxDB is unreachable. */
    connectIntervalMs: positiveInt,
    /** Timeout of one request to InfluxDB. */
    timeoutMs: positiveInt,
    /** Points per write request. */
    batchSize: positiveInt.max(100_000),
    /** Longest a point waits in memory before it is sent. */
    flushIntervalMs: positiveInt.max(60_000),
    /** Write requests to InfluxDB at once. */
    maxInFlight: positiveInt.max(64),
    /** Cap of the on-disk spool used while InfluxDB is unreachable; past it the oldest points are dropped. */
    spoolMaxBytes: z.int().min(1024 * 1024),
  }),
  dataDir: z.string().min(1),
  endpoints: z.strictObject({
    /** How long a queue-mode device stays awake after a registration or update (Leshan's and Zephyr's 93 s). */
    awakeMs: positiveInt,
    /** Pause before trying again while Leshan does not answer at all. */
    retryMs: positiveInt,
    /** Most endpoints remembered at once; past it the longest-offline one with nothing queued is forgotten (counted). */
    maxKnown: positiveInt.max(10_000_000),
    /** An endpoint offline this long with nothing queued is forgotten. */
    forgetAfterMs: positiveInt,
    /**
     * Endpoints operators may queue for before the daemon or Leshan has seen them (a name, or a prefix ending
     * in `*`); any other unseen name is refused with 404 unless the request says `?allowUnseen=true`.
     */
    expected: z.array(z.string().min(1).max(256)),
  }),
  operations: z.strictObject({
    maxAttempts: positiveInt.max(100),
    /** Finished operations older than this are removed from the store. */
    pruneAfterMs: positiveInt,
    /**
     * Paths kept observed: queued as observe operations after each registration (Leshan forgets
     * observations when a device registers again), on the listed endpoints or on every one with the object.
     */
    standingObservations: z.array(
      z.strictObject({
        path: z.string().regex(/^\/?\d{1,5}(\/\d{1,5}){0,3}\/?$/, 'must be an LwM2M path such as /3303/0/5700'),
        endpoints: z.array(z.string().min(1)).optional(),
      }),
    ),
  }),
  firmware: z.strictObject({
    /** How long a firmware update may run before it is FAILED (timed out); at most 20 days (one timer). */
    timeoutMs: positiveInt.max(20 * 24 * 3600 * 1000),
    /** Downloads after the first, for a 5/0/5 result worth another (connection lost, integrity check failure). */
    maxRetries: z.int().min(0).max(20),
    /** Ended updates (and done campaigns) last changed longer ago than this are removed. */
    pruneAfterMs: positiveInt,
  }),
});

export type Config = z.infer<typeof configSchema>;
export type InfluxConfig = Config['influx'];
