/*
 * Lookup of the object models: every object of the OMA LwM2M registry (generated/omaRegistry.ts, generated from the
 * registry's DDF files, docs/object-models.md) and the custom registration-events object 10240 (objectModels.ts),
 * built once at import with resource definitions shared between objects that define them alike; then, learned at
 * run time, the models Leshan reports for objects outside those (a vendor's, leshan/objectSpecs.ts), bounded.
 * Lookups are two or three Map reads.
 */
import { REGISTRY_OBJECTS, REGISTRY_RESOURCES } from './generated/omaRegistry.js';
import { CUSTOM_OBJECTS, type ObjectRow, type Operations, type ResourceRow } from './objectModels.js';
import type { ResourceType } from './value.js';

export type { Operations } from './objectModels.js';

/** One resource definition of an object model. */
export interface ResourceModel {
  id: number;
  name: string;
  type: ResourceType;
  /** true for multi-instance resources */
  multiple: boolean;
  operations: Operations;
}

/** One object definition. */
export interface ObjectModel {
  id: number;
  name: string;
  /** true when the object may have several instances */
  multiple: boolean;
  /** the object version the definition was taken from, e.g. "1.1" */
  version: string;
  resources: ReadonlyMap<number, ResourceModel>;
}

function resource(row: ResourceRow): ResourceModel {
  const [id, name, type, operations, multiple] = row;
  return Object.freeze({ id, name, type, multiple, operations });
}

function object(id: number, name: string, multiple: boolean, version: string, resources: ResourceModel[]): ObjectModel {
  return Object.freeze({ id, name, multiple, version, resources: new Map(resources.map((r) => [r.id, r])) });
}

const MODELS = new Map<number, ObjectModel>();

function addRows(rows: readonly ObjectRow[]): void {
  for (const o of rows) MODELS.set(o.id, object(o.id, o.name, o.multiple, o.version, o.resources.map(resource)));
}

const shared = REGISTRY_RESOURCES.map(resource);
for (const [id, name, multiple, version, indexes] of REGISTRY_OBJECTS) {
  const resources = indexes.map((i) => {
    const r = shared[i];
    if (r === undefined) throw new Error(`object model ${id}: resource row ${i} is not defined`);
    return r;
  });
  MODELS.set(id, object(id, name, multiple, version, resources));
}
addRows(CUSTOM_OBJECTS); // after the registry: the project's own 10240 wins over any registry object of that id

/** At most this many objects are learned at run time; more are not kept. */
export const MAX_LEARNED_OBJECTS = 256;
const LEARNED = new Map<number, ObjectModel>();

/** What learnObjectModel did: kept it, had a model of that id already (the first one stays), or is full. */
export type LearnOutcome = 'learned' | 'known' | 'full';

/**
 * Keeps the model of an object neither the registry nor 10240 defines (a vendor's, as Leshan reports it), for
 * the rest of the process. The first definition of an id stays, so that name tags do not change between points.
 */
export function learnObjectModel(row: ObjectRow): LearnOutcome {
  if (MODELS.has(row.id) || LEARNED.has(row.id)) return 'known';
  if (LEARNED.size >= MAX_LEARNED_OBJECTS) return 'full';
  LEARNED.set(row.id, object(row.id, row.name, row.multiple, row.version, row.resources.map(resource)));
  return 'learned';
}

/** How many object models were learned at run time. */
export const learnedObjectCount = (): number => LEARNED.size;

/** The model of object `objectId`, or `undefined` when it is not one the daemon knows. */
export function objectModel(objectId: number): ObjectModel | undefined {
  return MODELS.get(objectId) ?? LEARNED.get(objectId);
}

/** The model of resource `resourceId` of object `objectId`, or `undefined` when unknown. */
export function resourceModel(objectId: number, resourceId: number): ResourceModel | undefined {
  return objectModel(objectId)?.resources.get(resourceId);
}

/** Every object model of the registry and 10240 (not those learned at run time), by ascending id. */
export function listObjectModels(): ObjectModel[] {
  return [...MODELS.values()].sort((a, b) => a.id - b.id);
}
