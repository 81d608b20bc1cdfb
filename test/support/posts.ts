/** The posts this project's Leshan server makes to the daemon (docs/leshan-posts.md), for tests. */

/** A singleResource node. */
export const singleResource = (id: number, type: string, value: unknown) => ({ kind: 'singleResource', id, type, value });

export interface RegistrationPostOptions {
  /** 0 registered (default), 2 updated. */
  resource?: 0 | 2;
  /** The registration date, ms. */
  date: number;
  queueMode?: boolean;
  /** 10240/0/6; `UQ` in queue mode, `U` otherwise, by default. */
  binding?: string;
  /** 10240/0/7, the registration's links in CoRE link format. */
  links?: string;
  /** 10240/0/8, seconds; left out when undefined. */
  lifetime?: number;
}

/** The registration (or update) composite: object 10240 instance 0 with resources 0 (or 2), 5, 6, 7 and 8. */
export function registrationPost(ep: string, o: RegistrationPostOptions): { ep: string; val: Record<string, unknown> } {
  const queueMode = o.queueMode ?? true;
  const resources = [
    singleResource(o.resource ?? 0, 'TIME', o.date),
    singleResource(5, 'BOOLEAN', queueMode),
    singleResource(6, 'STRING', o.binding ?? (queueMode ? 'UQ' : 'U')),
  ];
  if (o.links !== undefined) resources.push(singleResource(7, 'STRING', o.links));
  if (o.lifetime !== undefined) resources.push(singleResource(8, 'INTEGER', o.lifetime));
  return { ep, val: { '/10240': { kind: 'obj', id: 10240, instances: [{ kind: 'instance', id: 0, resources }] } } };
}
