/*
 * Lookup of the static object models: every object of the OMA LwM2M registry (generated/omaRegistry.ts, generated
 * from the registry's DDF files, docs/object-models.md) and the custom registration-events object 10240
 * (objectModels.ts). Built once at import, resource definitions shared between objects that define them alike;
 * lookups are two Map reads.
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
