/**
 * Grafana's file provisioning (data sources and dashboard providers) read the way Grafana reads it, written
 * from Grafana's source, pkg/services/provisioning:
 *
 * - `datasources/types.go` (configsV1, upsertDataSourceFromConfigV1, deleteDatasourceConfigV1) and
 *   `dashboards/types.go` (configV1, configs): the YAML keys of the apiVersion 1 format.
 * - `values/values.go`: every scalar is read as a string, `$VAR` / `${VAR}` are expanded from Grafana's
 *   environment (`$$` is a literal `$`), then parsed: integers with strconv.Atoi / ParseInt, booleans with
 *   strconv.ParseBool (`1 t T TRUE true True 0 f F FALSE false False`; `yes` fails).
 * - `datasources/config_reader.go`: apiVersion > 0 selects this format (missing or 0: the deprecated v0
 *   keys); orgId 0 means 1; access "" means proxy, and any value but proxy or direct is replaced by proxy
 *   with a warning; more than one isDefault in an org fails the whole provisioning.
 * - `dashboards/config_reader.go`: provider names must be unique; type "" means file;
 *   updateIntervalSeconds 0 means 10. `dashboards/file_reader.go`: options.path must be a string ("path
 *   param is not a string"); foldersFromFilesStructure with both folder and folderUid set fails; the reader
 *   loads every `*.json` under the path, and a dashboard without a title is refused.
 *   `dashboards/validator.go`: a dashboard uid used twice in an org blocks the providers involved.
 * - `util.IsValidShortUID` / `IsShortUIDTooLong`: a uid matches `^[a-zA-Z0-9\-_]*$` and has at most 40
 *   characters.
 *
 * Stricter than Grafana on purpose: Grafana's YAML decoding ignores unknown keys, so a misspelled key
 * (`isdefault`, `jsondata`) would vanish without a word; here it is an error, and so is an access value
 * Grafana would only warn about.
 */
import { parse } from 'yaml';
import { z } from 'zod';

export type Env = Readonly<Record<string, string | undefined>>;

/** os.ExpandEnv on each part between `$$`, the parts joined by `$` (values.go interpolateValue). */
export function expandEnv(raw: string, env: Env): string {
  return raw
    .split('$$')
    .map((part) => part.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a?: string, b?: string) => env[(a ?? b)!] ?? ''))
    .join('$');
}

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const PARSE_BOOL = new Map([
  ...['1', 't', 'T', 'TRUE', 'true', 'True'].map((s) => [s, true] as const),
  ...['0', 'f', 'F', 'FALSE', 'false', 'False'].map((s) => [s, false] as const),
]);
const UID = /^[a-zA-Z0-9\-_]*$/;

function values(env: Env) {
  const str = scalar.transform((v) => expandEnv(String(v), env));
  const int = scalar.transform((v, ctx) => {
    const s = expandEnv(String(v), env);
    if (s === '') return 0; // values.go: an empty value leaves the field unset
    if (!/^[+-]?\d+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not an integer (strconv.Atoi)` });
      return z.NEVER;
    }
    return Number(s);
  });
  const bool = scalar.transform((v, ctx) => {
    const b = PARSE_BOOL.get(expandEnv(String(v), env));
    if (b === undefined) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a boolean (strconv.ParseBool)` });
      return z.NEVER;
    }
    return b;
  });
  const uid = str.refine((s) => UID.test(s) && s.length <= 40, 'a uid is at most 40 of a-z A-Z 0-9 - _');
  const expandDeep = (v: unknown): unknown =>
    typeof v === 'string'
      ? expandEnv(v, env)
      : Array.isArray(v)
        ? v.map(expandDeep)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandDeep(x)]))
          : v;
  const json = z.record(z.string(), z.unknown()).transform((o) => expandDeep(o) as Record<string, unknown>);
  const stringMap = z.record(z.string(), str);
  return { str, int, bool, uid, json, stringMap };
}

const apiVersion1 = scalar.refine((v) => Number(v) >= 1, 'apiVersion must be 1 (0 or missing is the deprecated v0 format)');

export function datasourcesSchema(env: Env) {
  const v = values(env);
  const datasource = z.strictObject({
    orgId: v.int.optional(),
    orgName: v.str.optional(),
    version: v.int.optional(),
    name: v.str.pipe(z.string().min(1, 'name is required')),
    type: v.str.pipe(z.string().min(1, 'type is required')),
    access: v.str.pipe(z.enum(['proxy', 'direct'], 'access is proxy or direct (Grafana replaces anything else by proxy)')).optional(),
    url: v.str.optional(),
    user: v.str.optional(),
    database: v.str.optional(),
    basicAuth: v.bool.optional(),
    basicAuthUser: v.str.optional(),
    withCredentials: v.bool.optional(),
    isDefault: v.bool.optional(),
    correlations: z.array(z.record(z.string(), z.unknown())).optional(),
    jsonData: v.json.optional(),
    secureJsonData: v.stringMap.optional(),
    editable: v.bool.optional(),
    uid: v.uid.optional(),
  });
  const deletion = z.strictObject({ orgId: v.int.optional(), orgName: v.str.optional(), name: v.str });
  return z.strictObject({
    apiVersion: apiVersion1,
    datasources: z.array(datasource).optional(),
    deleteDatasources: z.array(deletion).optional(),
  });
}

export function dashboardProvidersSchema(env: Env) {
  const v = values(env);
  const provider = z
    .strictObject({
      name: v.str.pipe(z.string().min(1, 'name is required')),
      type: v.str.optional(),
      orgId: v.int.optional(),
      folder: v.str.optional(),
      folderUid: v.uid.optional(),
      editable: v.bool.optional(),
      options: v.json.optional(),
      disableDeletion: v.bool.optional(),
      updateIntervalSeconds: v.int.optional(),
      allowUiUpdates: v.bool.optional(),
    })
    .superRefine((p, ctx) => {
      const type = p.type || 'file';
      if (type !== 'file') ctx.addIssue({ code: 'custom', message: `type ${type}: only file providers are read from disk` });
      const path = p.options?.path ?? p.options?.folder;
      if (typeof path !== 'string' || path === '') ctx.addIssue({ code: 'custom', message: 'options.path must be a string' });
      if (p.options?.foldersFromFilesStructure === true && p.folder && p.folderUid)
        ctx.addIssue({ code: 'custom', message: "'folder' and 'folderUID' should be empty using 'foldersFromFilesStructure' option" });
    });
  return z.strictObject({ apiVersion: apiVersion1, providers: z.array(provider) });
}

export type DatasourcesFile = z.output<ReturnType<typeof datasourcesSchema>>;
export type ProvidersFile = z.output<ReturnType<typeof dashboardProvidersSchema>>;
export type ProvisionedDatasource = NonNullable<DatasourcesFile['datasources']>[number];
export type Provider = ProvidersFile['providers'][number];

/** A provisioning file: its name (Grafana reads only `*.yaml` and `*.yml`) and text. */
export interface ProvisioningFile {
  name: string;
  text: string;
}

const isYaml = (f: ProvisioningFile) => f.name.endsWith('.yaml') || f.name.endsWith('.yml');

function parseFile<T>(f: ProvisioningFile, schema: z.ZodType<T>): T {
  const result = schema.safeParse(parse(f.text));
  if (!result.success) throw new Error(`${f.name}: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** The data sources of a provisioning/datasources directory, or an Error naming the file and the problem. */
export function loadDatasources(files: ProvisioningFile[], env: Env = {}): ProvisionedDatasource[] {
  const all = files.filter(isYaml).flatMap((f) => parseFile(f, datasourcesSchema(env)).datasources ?? []);
  const defaults = new Map<number, number>();
  for (const ds of all) {
    const org = ds.orgId || 1;
    if (ds.isDefault) defaults.set(org, (defaults.get(org) ?? 0) + 1);
    if ((defaults.get(org) ?? 0) > 1) throw new Error(`Only one datasource per organization can be marked as default (org ${org})`);
  }
  return all;
}

/** The providers of a provisioning/dashboards directory, or an Error naming the file and the problem. */
export function loadProviders(files: ProvisioningFile[], env: Env = {}): Provider[] {
  const all = files.filter(isYaml).flatMap((f) => parseFile(f, dashboardProvidersSchema(env)).providers);
  const seen = new Set<string>();
  for (const p of all) {
    if (seen.has(p.name)) throw new Error(`dashboard name ${JSON.stringify(p.name)} is not unique`);
    seen.add(p.name);
  }
  return all;
}

/** The path a provider reads dashboards from (options.path, or the deprecated options.folder). */
export const providerPath = (p: Provider): string => (p.options?.path ?? p.options?.folder) as string;

/** A dashboard model as far as provisioning and data source references go. */
export interface DashboardModel {
  title?: unknown;
  uid?: unknown;
  __inputs?: unknown;
  templating?: { list?: { type?: string; name?: string; query?: unknown; current?: { value?: unknown } }[] };
}

/**
 * What a file provider does with the `*.json` files of its path, and what then breaks in the dashboards: a
 * missing title (refused), a uid used twice (blocked), an invalid uid, and data source references that only
 * resolve on a UI import (`${DS_...}` input placeholders) or that name a variable that is not a data source
 * variable. Returns the dashboards by file name.
 */
export function loadDashboards(files: ProvisioningFile[]): Map<string, DashboardModel> {
  const out = new Map<string, DashboardModel>();
  const uids = new Set<string>();
  for (const f of files.filter((x) => x.name.endsWith('.json'))) {
    const d = JSON.parse(f.text) as DashboardModel;
    const what = `${f.name}:`;
    if (typeof d.title !== 'string' || d.title === '') throw new Error(`${what} dashboard title cannot be empty`);
    if (d.uid !== undefined) {
      if (typeof d.uid !== 'string' || !UID.test(d.uid) || d.uid.length > 40)
        throw new Error(`${what} invalid uid ${JSON.stringify(d.uid)}`);
      if (uids.has(d.uid)) throw new Error(`${what} the same UID is used more than once: ${d.uid}`);
      uids.add(d.uid);
    }
    if (d.__inputs !== undefined) throw new Error(`${what} __inputs are asked for by a UI import only; provisioning does not fill them`);
    const dsVars = new Set((d.templating?.list ?? []).filter((v) => v.type === 'datasource').map((v) => v.name));
    JSON.stringify(d, (key, value: unknown) => {
      if (key !== 'datasource' || value === null || typeof value !== 'object') return value;
      const uid = (value as { uid?: unknown }).uid;
      if (typeof uid !== 'string') return value;
      const ref = /^\$\{(\w+)\}$|^\$(\w+)$/.exec(uid);
      if (/\$\{DS_/.test(uid)) throw new Error(`${what} data source ${uid} is an import placeholder: unresolved when provisioned`);
      if (ref && !dsVars.has((ref[1] ?? ref[2])!)) throw new Error(`${what} data source ${uid} is not a data source variable`);
      return value;
    });
    out.set(f.name, d);
  }
  return out;
}
