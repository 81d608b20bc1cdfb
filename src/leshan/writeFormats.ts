/*
 * The content format of each endpoint's writes, chosen from what its registration says the device supports.
 *
 * A LwM2M 1.1 registration's root link (`</>;rt="oma.lwm2m";ct="60 110 112 11542 11543"`) lists the content
 * formats the device supports besides the mandatory ones (TEXT, OPAQUE); events.ts reads them into
 * `Registration.contentFormats`.
 *
 * The choice, per endpoint: the configured `leshan.writeFormat` when the device lists it, lists nothing, or the
 * configured format is TEXT (mandatory, so never listed); otherwise the first of WRITE_FORMAT_PREFERENCE the device
 * lists; otherwise (it lists none Leshan writes in) the configured one.
 */
import type { LogSink } from '../log/logger.js';
import type { Registration } from './events.js';
import type { WriteFormat } from './requests.js';

/** What a registration says of formats: its endpoint and the formats its root link lists (events.ts). */
export type RegistrationFormats = Pick<Registration, 'endpoint' | 'contentFormats'>;

/** CoAP Content-Format numbers of the formats Leshan writes in. */
export const FORMAT_CODES: Readonly<Record<WriteFormat, number>> = {
  TEXT: 0,
  CBOR: 60,
  SENML_JSON: 110,
  SENML_CBOR: 112,
  TLV: 11542,
  JSON: 11543,
};

/**
 * When a device does not list the configured format: SenML CBOR (compact, and encodes every node and composite
 * writes), TLV (compact, LwM2M 1.0's mandatory format), SenML JSON, then OMA JSON (deprecated), then CBOR (one
 * resource value only).
 */
export const WRITE_FORMAT_PREFERENCE: readonly WriteFormat[] = ['SENML_CBOR', 'TLV', 'SENML_JSON', 'JSON', 'CBOR'];

/** The format of writes to a device that lists `listed` (undefined: lists nothing), `configured` being the default. */
export function chooseWriteFormat(configured: WriteFormat, listed: readonly number[] | undefined): WriteFormat {
  if (!listed || listed.length === 0 || configured === 'TEXT' || listed.includes(FORMAT_CODES[configured])) return configured;
  return WRITE_FORMAT_PREFERENCE.find((f) => listed.includes(FORMAT_CODES[f])) ?? configured;
}

/**
 * Each registered endpoint's write format, learnt from its registrations. Only endpoints whose format is not the
 * configured one are kept (forgotten at deregistration, or when Leshan's list no longer has them).
 */
export class WriteFormats {
  private readonly differing = new Map<string, WriteFormat>();

  constructor(
    readonly configured: WriteFormat,
    private readonly log?: LogSink,
  ) {}

  /** The format of the next write to `ep`. */
  for(ep: string): WriteFormat {
    return this.differing.get(ep) ?? this.configured;
  }

  /** A new registration: its root link says what the device supports (nothing listed: the configured format). */
  registered(r: RegistrationFormats): void {
    this.learn(r.endpoint, r.contentFormats);
  }

  /**
   * An update, or a registration in Leshan's list: learnt only when its root link lists formats. (A real client
   * that re-sends its links in an update sends the root link without `ct`; its formats did not change.)
   */
  updated(r: RegistrationFormats): void {
    if (r.contentFormats) this.learn(r.endpoint, r.contentFormats);
  }

  deregistered(ep: string): void {
    this.differing.delete(ep);
  }

  /** Leshan's whole registration list (after a reconnection): endpoints not in it are forgotten. */
  reconciled(registrations: readonly Registration[]): void {
    const listed = new Set(registrations.map((r) => r.endpoint));
    for (const ep of this.differing.keys()) if (!listed.has(ep)) this.differing.delete(ep);
    for (const r of registrations) this.updated(r);
  }

  /** How many endpoints write in another format than the configured one. */
  get size(): number {
    return this.differing.size;
  }

  private learn(ep: string, listed: number[] | undefined): void {
    const format = chooseWriteFormat(this.configured, listed);
    const before = this.for(ep);
    if (format === this.configured) this.differing.delete(ep);
    else this.differing.set(ep, format);
    if (format !== before) {
      this.log?.info(
        { ep, listed, format, configured: this.configured },
        format === this.configured
          ? 'writes in the configured content format again'
          : 'the device does not list the configured write format',
      );
    }
  }
}
