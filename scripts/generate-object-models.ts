/*
 * Generates src/lwm2m/generated/omaRegistry.ts, the daemon's table of the OMA LwM2M registry's objects and
 * resources (names, types, operations, multiplicity), from the registry's DDF files (models/*.xml) as Eclipse
 * Leshan publishes them on Maven Central (docs/object-models.md): the whole registry of 2021 in its demo server
 * jar (2.0.0-M4), and newer versions of the core objects 0-7 and 21 in leshan-lwm2m-core 2.0.0-M18.
 *
 *   npx tsx scripts/generate-object-models.ts [--jar <file.jar>]... [--check]
 *
 * The jars default to the two scripts/ensure-leshan.sh caches. `--check` writes nothing and exits 1 when the
 * committed module differs from what the jars give (test/lwm2m/omaRegistry.test.ts does the same). Each DDF is
 * read as Leshan's DDFFileParser reads it (type "" is NONE, operations "" none, version 1.0 when absent); of the
 * versions of one object the newest is kept. Names are trimmed (a few registry names end in a space).
 * Needs nothing but Node (the jars are read with node:zlib); the daemon never runs this.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import * as prettier from 'prettier';
import type { Operations, ResourceRow } from '../src/lwm2m/objectModels.js';
import type { ResourceType } from '../src/lwm2m/value.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
export const OUTPUT = join(ROOT, 'src/lwm2m/generated/omaRegistry.ts');

/** The jars read by default, as scripts/ensure-leshan.sh caches them, with their Maven Central coordinates. */
export const JARS: readonly { path: string; artifact: string }[] = [
  {
    path: 'server/leshan-server-demo-2.0.0-M4-jar-with-dependencies.jar',
    artifact: 'org.eclipse.leshan:leshan-server-demo:2.0.0-M4:jar:jar-with-dependencies',
  },
  { path: 'client/lib/leshan-lwm2m-core-2.0.0-M18.jar', artifact: 'org.eclipse.leshan:leshan-lwm2m-core:2.0.0-M18' },
];

/** The jars scripts/ensure-leshan.sh caches. */
export function defaultJars(): string[] {
  const cache = process.env.LESHAN_CACHE_DIR ?? join(process.env.HOME ?? homedir(), '.cache/lwm2m-backend/leshan');
  return JARS.map((j) => join(cache, j.path));
}

/** One object as a DDF file defines it. */
export interface DdfObject {
  id: number;
  name: string;
  version: string;
  multiple: boolean;
  resources: ResourceRow[];
  file: string;
}

/** The DDF type names, as Leshan's DDFFileParser maps them. */
const TYPES: ReadonlyMap<string, ResourceType> = new Map([
  ['String', 'STRING'],
  ['Integer', 'INTEGER'],
  ['Unsigned Integer', 'UNSIGNED_INTEGER'],
  ['Float', 'FLOAT'],
  ['Boolean', 'BOOLEAN'],
  ['Opaque', 'OPAQUE'],
  ['Time', 'TIME'],
  ['Objlnk', 'OBJLNK'],
  ['Corelnk', 'CORELINK'],
  ['', 'NONE'],
]);
const OPERATIONS: ReadonlySet<string> = new Set<Operations>(['', 'R', 'W', 'RW', 'E']);
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string, where: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const c = ENTITIES[e];
    if (c === undefined) throw new Error(`${where}: unknown entity ${m}`);
    return c;
  });
}

/** CDATA content as escaped text, so that it holds no markup. */
const escapeCdata = (xml: string): string =>
  xml.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));

/** The text of the one child element `tag` of `xml` (a flat element list), '' for `<tag/>`. */
function field(xml: string, tag: string, where: string, optional = false): string | undefined {
  const found = [...xml.matchAll(new RegExp(`<${tag}\\s*(?:/>|>([^<]*)</${tag}\\s*>)`, 'g'))];
  if (found.length === 0 && optional) return undefined;
  if (found.length !== 1) throw new Error(`${where}: ${found.length} <${tag}> elements, expected 1`);
  return decode(found[0]![1] ?? '', `${where} <${tag}>`);
}

function id(text: string, where: string): number {
  if (!/^\s*\d{1,5}\s*$/.test(text) || Number(text) > 65535) throw new Error(`${where}: "${text}" is not an LwM2M id`);
  return Number(text);
}

function name(text: string, where: string): string {
  const n = text.trim();
  // eslint-disable-next-line no-control-regex
  if (n === '' || /[\u0000-\u001f\u007f]/.test(n))
    throw new Error(`${where}: name ${JSON.stringify(text)} is empty or holds control characters`);
  return n;
}

function multiplicity(text: string, where: string): boolean {
  if (text !== 'Single' && text !== 'Multiple') throw new Error(`${where}: MultipleInstances "${text}"`);
  return text === 'Multiple';
}

function parseItem(attributes: string, body: string, where: string): ResourceRow {
  const idText = /\bID\s*=\s*"([^"]*)"/.exec(attributes)?.[1];
  if (idText === undefined) throw new Error(`${where}: <Item> without ID`);
  const rid = id(idText, where);
  const at = `${where} resource ${rid}`;
  const typeText = field(body, 'Type', at)!;
  const type = TYPES.get(typeText);
  if (type === undefined) throw new Error(`${at}: unknown type "${typeText}"`);
  const ops = field(body, 'Operations', at)!;
  if (!OPERATIONS.has(ops)) throw new Error(`${at}: unknown operations "${ops}"`);
  return [rid, name(field(body, 'Name', at)!, at), type, ops as Operations, multiplicity(field(body, 'MultipleInstances', at)!, at)];
}

/** The objects one DDF file defines (the registry's files hold one each). */
export function parseDdf(xml: string, file: string): DdfObject[] {
  const text = escapeCdata(xml.replace(/<!--[\s\S]*?-->/g, ''));
  const objects: DdfObject[] = [];
  for (const m of text.matchAll(/<Object\b[^>]*>([\s\S]*?)<\/Object\s*>/g)) {
    const body = m[1]!;
    const res = /<Resources\s*(?:\/>|>([\s\S]*?)<\/Resources\s*>)/.exec(body);
    if (!res) throw new Error(`${file}: object without <Resources>`);
    const own = body.slice(0, res.index) + body.slice(res.index + res[0].length);
    const oid = id(field(own, 'ObjectID', file)!, file);
    const where = `${file} object ${oid}`;
    const resources: ResourceRow[] = [];
    for (const item of (res[1] ?? '').matchAll(/<Item\b([^>]*)>([\s\S]*?)<\/Item\s*>/g)) {
      const row = parseItem(item[1]!, item[2]!, where);
      if (resources.some((r) => r[0] === row[0])) throw new Error(`${where}: resource ${row[0]} defined twice`);
      resources.push(row);
    }
    const version = field(own, 'ObjectVersion', where, true)?.trim() || '1.0';
    if (!/^\d+\.\d+$/.test(version)) throw new Error(`${where}: ObjectVersion "${version}"`);
    resources.sort((a, b) => a[0] - b[0]);
    const multiple = multiplicity(field(own, 'MultipleInstances', where)!, where);
    objects.push({ id: oid, name: name(field(own, 'Name', where)!, where), version, multiple, resources, file });
  }
  if (objects.length === 0) throw new Error(`${file}: no <Object>`);
  return objects;
}

const versionKey = (v: string): [number, number] => v.split('.').map(Number) as [number, number];

const sameDefinition = (a: DdfObject, b: DdfObject): boolean =>
  JSON.stringify([a.name, a.multiple, a.resources]) === JSON.stringify([b.name, b.multiple, b.resources]);

/** `a` is a newer object version than `b`. */
export function newer(a: string, b: string): boolean {
  const [am, an] = versionKey(a);
  const [bm, bn] = versionKey(b);
  return am !== bm ? am > bm : an > bn;
}

/** The newest version of each object, by ascending id. */
export function newestVersions(objects: readonly DdfObject[]): DdfObject[] {
  const byId = new Map<number, DdfObject>();
  for (const o of objects) {
    const seen = byId.get(o.id);
    if (seen && seen.version === o.version && !sameDefinition(seen, o)) {
      throw new Error(`object ${o.id} version ${o.version} differs between ${seen.file} and ${o.file}`);
    }
    if (!seen || newer(o.version, seen.version)) byId.set(o.id, o);
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** The generated module's text, before formatting. */
export function renderModule(objects: readonly DdfObject[], sources: readonly string[], versions: number): string {
  const rows = new Map<string, ResourceRow>();
  for (const o of objects) for (const r of o.resources) rows.set(JSON.stringify(r), r);
  const shared = [...rows.entries()].sort(([ka, a], [kb, b]) => a[0] - b[0] || (ka < kb ? -1 : ka > kb ? 1 : 0));
  const index = new Map(shared.map(([k], i) => [k, i]));
  const resourceLines = shared.map(([, r]) => `  ${JSON.stringify(r)},`);
  const objectLines = objects.map((o) => {
    const refs = o.resources.map((r) => index.get(JSON.stringify(r))!);
    return `  [${o.id}, ${JSON.stringify(o.name)}, ${o.multiple}, ${JSON.stringify(o.version)}, ${JSON.stringify(refs)}],`;
  });
  return [
    '/*',
    ' * GENERATED FILE, do not edit: `npx tsx scripts/generate-object-models.ts` writes it (docs/object-models.md).',
    " * Source: the OMA LwM2M registry's DDF files models/*.xml in these jars of Maven Central:",
    ...sources.map((s) => ` *   ${s}`),
    ` * ${versions} object versions; the newest version of each of ${objects.length} objects is kept, with`,
    ` * ${shared.length} distinct resource definitions.`,
    ' */',
    "import type { RegistryObjectRow, ResourceRow } from '../objectModels.js';",
    '',
    '/** Resource definitions, shared by the objects that define a resource alike: [id, name, type, operations, multiple]. */',
    'export const REGISTRY_RESOURCES: readonly ResourceRow[] = [',
    ...resourceLines,
    '];',
    '',
    '/** Objects: [id, name, multiple instances, object version, indexes into REGISTRY_RESOURCES]. */',
    'export const REGISTRY_OBJECTS: readonly RegistryObjectRow[] = [',
    ...objectLines,
    '];',
    '',
  ].join('\n');
}

/**
 * Every `models/*.xml` of a jar (a zip file): [file name, text], by name. Reads the zip's central directory
 * (stored and deflated entries; a jar needs no ZIP64 below 4 GiB) with node:zlib, so nothing but Node is needed.
 */
export function readJarModels(jar: string): [string, string][] {
  const zip = readFileSync(jar);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${jar}: not a zip file (no end of central directory)`);
  const count = zip.readUInt16LE(eocd + 10);
  const models: [string, string][] = [];
  for (let at = zip.readUInt32LE(eocd + 16), n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${jar}: bad central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const m = /^models\/([^/]+\.xml)$/.exec(name);
    if (!m) continue;
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`${jar}: bad local header of ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    if (method !== 0 && method !== 8) throw new Error(`${jar}: ${name} is compressed with method ${method}`);
    models.push([m[1]!, (method === 8 ? inflateRawSync(data) : data).toString('utf8')]);
  }
  return models.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const artifactOf = (jar: string): string => JARS.find((j) => basename(j.path) === basename(jar))?.artifact ?? basename(jar);

/** The module's text as generated from `jars`, formatted as the repository's Prettier settings want it. */
export async function generate(jars: readonly string[]): Promise<string> {
  const all: DdfObject[] = [];
  const sources: string[] = [];
  for (const jar of jars) {
    const files = readJarModels(jar);
    all.push(...files.flatMap(([file, xml]) => parseDdf(xml, `${basename(jar)}!models/${file}`)));
    sources.push(`${artifactOf(jar)} (${files.length} files)`);
  }
  const text = renderModule(newestVersions(all), sources, all.length);
  const options = (await prettier.resolveConfig(OUTPUT)) ?? {};
  return prettier.format(text, { ...options, filepath: OUTPUT });
}

async function main(argv: string[]): Promise<number> {
  const given: string[] = [];
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') check = true;
    else if (argv[i] === '--jar' && argv[i + 1] !== undefined) given.push(argv[++i]!);
    else {
      console.error('usage: generate-object-models.ts [--jar <file.jar>]... [--check]');
      return 2;
    }
  }
  const jars = given.length > 0 ? given : defaultJars();
  const text = await generate(jars);
  if (check) {
    let committed = '';
    try {
      committed = readFileSync(OUTPUT, 'utf8');
    } catch {
      // a missing file differs
    }
    if (committed === text) return 0;
    console.error(`${OUTPUT} differs from what ${jars.join(', ')} give: run npx tsx scripts/generate-object-models.ts`);
    return 1;
  }
  writeFileSync(OUTPUT, text);
  console.log(`wrote ${OUTPUT} from ${jars.join(', ')}`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
