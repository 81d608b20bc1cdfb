/*
 * The shapes of the static object model data, and the one object kept by hand: 10240, the seed backend's custom
 * registration-events object (0-2), with this project's presence and registration details (3-8,
 * docs/leshan-posts.md). The OMA registry's objects are generated from its DDF files into
 * generated/omaRegistry.ts (scripts/generate-object-models.ts, docs/object-models.md).
 * Executable resources have type NONE, as in Leshan. Empty operations ('') are resources only a
 * bootstrap server may touch (object 0) or that the DDF leaves without operations (1/13-20).
 */
import type { ResourceType } from './value.js';

/** Operations as written in the DDF files. */
export type Operations = 'R' | 'W' | 'RW' | 'E' | '';

/** [id, name, type, operations, multiple instances] */
export type ResourceRow = readonly [number, string, ResourceType, Operations, boolean];

/** An object with its own resource definitions. */
export interface ObjectRow {
  readonly id: number;
  readonly name: string;
  readonly multiple: boolean;
  readonly version: string;
  readonly resources: readonly ResourceRow[];
}

/** A generated registry object: [id, name, multiple instances, object version, indexes into its resource rows]. */
export type RegistryObjectRow = readonly [number, string, boolean, string, readonly number[]];

/** The seed backend's registration lifecycle object: each resource holds the registration date in ms. */
export const CUSTOM_OBJECTS: readonly ObjectRow[] = [
  {
    id: 10240,
    name: 'Registration Events',
    multiple: false,
    version: '1.0',
    resources: [
      [0, 'Registered', 'TIME', 'R', false],
      [1, 'Deregistered', 'TIME', 'R', false],
      [2, 'Updated', 'TIME', 'R', false],
      [3, 'Awake', 'TIME', 'R', false],
      [4, 'Sleeping', 'TIME', 'R', false],
      [5, 'Queue Mode', 'BOOLEAN', 'R', false],
      [6, 'Binding', 'STRING', 'R', false],
      [7, 'Object Links', 'STRING', 'R', false],
      [8, 'Lifetime', 'INTEGER', 'R', false],
    ],
  },
];
