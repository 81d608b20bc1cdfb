/*
 * Lookup of the static object models (data in objectModels.ts): OMA objects 0-7, IPSO 3300-3350 and the
 * custom registration-events object 10240. Built once at import; lookups are two Map reads.
 */
import {
  CUSTOM_OBJECTS,
  IPSO_OBJECTS,
  IPSO_RESOURCES,
  OMA_OBJECTS,
  type ObjectRow,
  type Operations,
  type ResourceRow,
} from './objectModels.js';
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

addRows(OMA_OBJECTS);
const reusable = new Map(IPSO_RESOURCES.map((row) => [row[0], resource(row)]));
for (const [id, name, multiple, version, resourceIds] of IPSO_OBJECTS) {
  const resources = resourceIds.map((rid) => {
    const r = reusable.get(rid);
    if (r === undefined) throw new Error(`object model ${id}: reusable resource ${rid} is not defined`);
    return r;
  });
  MODELS.set(id, object(id, name, multiple, version, resources));
}
addRows(CUSTOM_OBJECTS);

/** The model of object `objectId`, or `undefined` when it is not one the daemon knows. */
export function objectModel(objectId: number): ObjectModel | undefined {
  return MODELS.get(objectId);
}

/** The model of resource `resourceId` of object `objectId`, or `undefined` when unknown. */
export function resourceModel(objectId: number, resourceId: number): ResourceModel | undefined {
  return MODELS.get(objectId)?.resources.get(resourceId);
}

/** Every known object model, by ascending id. */
export function listObjectModels(): ObjectModel[] {
  return [...MODELS.values()].sort((a, b) => a.id - b.id);
}
