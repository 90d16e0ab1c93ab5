/**
 * Offline validation of Kubernetes manifests for lab tests (and the Helm chart's, test/deploy/): no API server can run on this
 * machine, and kubectl validates only against a server (`--dry-run=client` still needs
 * discovery and the server's OpenAPI document).
 *
 * Built-in kinds are checked against the models of @kubernetes/client-node, which are generated
 * from Kubernetes' OpenAPI spec: every field must exist at its place with the model's type
 * (unknown fields are errors, as with `kubectl apply --validate=strict`), and fields that the
 * model's .d.ts declares non-optional must be there. A few rules the API server adds on top are
 * checked too (names, label syntax, selectors that match their template, file modes).
 *
 * Custom resources are checked against the openAPIV3Schema of their CRD by a small validator for
 * the keywords structural CRD schemas use. A keyword it does not know is reported as a problem,
 * never skipped, so a schema can't pass by being misunderstood.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';

type Json = unknown;
type Obj = Record<string, unknown>;
interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}
interface Model {
  attributeTypeMap: Attribute[];
}

const require = createRequire(import.meta.url);
const MODELS_DIR = path.join(path.dirname(require.resolve('@kubernetes/client-node')), 'gen', 'models');

/** apiVersion group of each built-in kind the labs (and deploy/helm's chart) use; anything else is reported, not guessed. */
const BUILTIN_GROUPS: Record<string, string> = {
  Pod: '',
  ConfigMap: '',
  Secret: '',
  Service: '',
  ServiceAccount: '',
  PersistentVolumeClaim: '',
  Namespace: '',
  Deployment: 'apps',
  DaemonSet: 'apps',
  StatefulSet: 'apps',
  Job: 'batch',
  Ingress: 'networking.k8s.io',
  Role: 'rbac.authorization.k8s.io',
  RoleBinding: 'rbac.authorization.k8s.io',
  ClusterRole: 'rbac.authorization.k8s.io',
  ClusterRoleBinding: 'rbac.authorization.k8s.io',
  CustomResourceDefinition: 'apiextensions.k8s.io',
};
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);

function model(name: string): Model | undefined {
  const m = (k8s as unknown as Record<string, unknown>)[name];
  return typeof m === 'function' && Array.isArray((m as unknown as Model).attributeTypeMap) ? (m as unknown as Model) : undefined;
}

const requiredCache = new Map<string, Set<string>>();
/** JSON names of the fields the model's .d.ts declares without `?`. */
function requiredFields(name: string, m: Model): Set<string> {
  let req = requiredCache.get(name);
  if (req) return req;
  const dts = readFileSync(path.join(MODELS_DIR, `${name}.d.ts`), 'utf8');
  const byTsName = new Map(m.attributeTypeMap.map((a) => [a.name, a.baseName]));
  req = new Set<string>();
  for (const match of dts.matchAll(/^\s+'([^']+)':/gm)) {
    const base = byTsName.get(match[1]);
    if (base) req.add(base);
  }
  requiredCache.set(name, req);
  return req;
}

/** Checks `value` against the client-node type named `type` (a model, array, map or primitive). */
function checkType(value: Json, type: string, format: string, at: string, out: string[]): void {
  if (value === null) return; // null means "unset" to the API server
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return void out.push(`${at}: expected a list, got ${describe(value)}`);
    value.forEach((v, i) => checkType(v, array[1], '', `${at}[${i}]`, out));
  } else if (map) {
    if (!isObj(value)) return void out.push(`${at}: expected a map, got ${describe(value)}`);
    for (const [k, v] of Object.entries(value)) checkType(v, map[1], '', `${at}.${k}`, out);
  } else if (type === 'string' || type === 'Date') {
    if (typeof value !== 'string') out.push(`${at}: expected a string, got ${describe(value)}`);
  } else if (type === 'number') {
    if (typeof value !== 'number') out.push(`${at}: expected a number, got ${describe(value)}`);
    else if ((format === 'int32' || format === 'int64') && !isInt(value)) out.push(`${at}: expected an integer, got ${value}`);
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') out.push(`${at}: expected true or false, got ${describe(value)}`);
  } else if (type === 'IntOrString') {
    if (typeof value !== 'string' && !isInt(value)) out.push(`${at}: expected an integer or a string, got ${describe(value)}`);
  } else if (type === 'any' || type === 'object') {
    // free-form (e.g. JSONSchemaProps.items, RawExtension)
  } else {
    const m = model(type);
    if (!m) return void out.push(`${at}: the validator does not know the type ${type}`);
    if (!isObj(value)) return void out.push(`${at}: expected an object (${type}), got ${describe(value)}`);
    const attrs = new Map(m.attributeTypeMap.map((a) => [a.baseName, a]));
    for (const [k, v] of Object.entries(value)) {
      const a = attrs.get(k);
      if (!a) out.push(`${at}.${k}: unknown field${suggest(k, [...attrs.keys()])}`);
      else checkType(v, a.type, a.format, `${at}.${k}`, out);
    }
    for (const r of requiredFields(type, m)) if (!(r in value)) out.push(`${at}.${r}: required`);
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isObj(v)) return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function suggest(key: string, keys: string[]): string {
  const near = keys.find((k) => k.toLowerCase() === key.toLowerCase());
  return near ? ` (did you mean ${near}?)` : '';
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function checkLabels(labels: unknown, at: string, out: string[]): void {
  if (!isObj(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf('/');
    const prefix = slash >= 0 ? k.slice(0, slash) : '';
    const name = k.slice(slash + 1);
    if ((prefix && (!DNS_SUBDOMAIN.test(prefix) || prefix.length > 253)) || !LABEL_NAME.test(name) || name.length > 63)
      out.push(`${at}.${k}: not a valid label key`);
    if (typeof v === 'string' && (!LABEL_VALUE.test(v) || v.length > 63)) out.push(`${at}.${k}: "${v}" is not a valid label value`);
  }
}

/** What the API server checks beyond the schema, for the fields the labs use. */
function apiServerRules(doc: Obj, kind: string, out: string[]): void {
  const meta = isObj(doc.metadata) ? doc.metadata : {};
  const name = meta.name;
  if (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name) || name.length > 253) out.push(`metadata.name: "${String(name)}" is not a valid name`);
  if (CLUSTER_SCOPED.has(kind) && meta.namespace !== undefined) out.push(`metadata.namespace: a ${kind} is cluster-scoped`);
  if (typeof meta.namespace === 'string' && !DNS_LABEL.test(meta.namespace)) out.push(`metadata.namespace: "${meta.namespace}" is not valid`);
  checkLabels(meta.labels, 'metadata.labels', out);

  const spec = isObj(doc.spec) ? doc.spec : {};
  const template = isObj(spec.template) ? spec.template : undefined;
  if (template) {
    const tLabels = (isObj(template.metadata) && isObj(template.metadata.labels) ? template.metadata.labels : {}) as Obj;
    checkLabels(tLabels, 'spec.template.metadata.labels', out);
    const match = isObj(spec.selector) && isObj(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
    for (const [k, v] of Object.entries(match))
      if (tLabels[k] !== v) out.push(`spec.selector.matchLabels.${k}: the pod template's labels do not match the selector`);
  }
  const podSpec = kind === 'Pod' ? spec : isObj(template?.spec) ? template.spec : undefined;
  if (podSpec) {
    const containers = [...(Array.isArray(podSpec.containers) ? podSpec.containers : []), ...(Array.isArray(podSpec.initContainers) ? podSpec.initContainers : [])];
    const names = new Set<string>();
    containers.forEach((c, i) => {
      const n = isObj(c) ? c.name : undefined;
      if (typeof n !== 'string' || !DNS_LABEL.test(n)) out.push(`containers[${i}].name: "${String(n)}" is not a valid container name`);
      else if (names.has(n)) out.push(`containers[${i}].name: "${n}" is used twice`);
      else names.add(n);
    });
    const volumes = Array.isArray(podSpec.volumes) ? podSpec.volumes : [];
    const volumeNames = new Set(volumes.map((v) => (isObj(v) ? v.name : undefined)));
    for (const [i, v] of volumes.entries()) {
      const src = isObj(v) ? (v.configMap ?? v.secret) : undefined;
      const mode = isObj(src) ? src.defaultMode : undefined;
      if (mode !== undefined && (!isInt(mode) || (mode as number) < 0 || (mode as number) > 0o777))
        out.push(`volumes[${i}]: defaultMode ${String(mode)} is outside 0..511 (0777); YAML 1.1 reads 0555 as octal, YAML 1.2 as decimal`);
    }
    containers.forEach((c, i) => {
      const mounts = isObj(c) && Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
      for (const m of mounts) if (isObj(m) && !volumeNames.has(m.name)) out.push(`containers[${i}].volumeMounts: no volume named "${String(m.name)}"`);
    });
  }
}

/** Problems of one built-in object, or undefined when its kind is not a built-in the validator covers. */
export function validateBuiltin(doc: Obj): string[] | undefined {
  const kind = String(doc.kind);
  const [group, version] = String(doc.apiVersion).includes('/') ? String(doc.apiVersion).split('/') : ['', String(doc.apiVersion)];
  const want = BUILTIN_GROUPS[kind];
  if (want === undefined) return undefined;
  if (group !== want) return [`apiVersion: ${kind} belongs to the group "${want || 'core'}", not "${group || 'core'}"`];
  const name = `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
  if (!model(name)) return [`apiVersion: ${doc.apiVersion} has no ${kind} (no model ${name})`];
  const out: string[] = [];
  checkType(doc, name, '', kind, out);
  apiServerRules(doc, kind, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// CRD schemas (OpenAPI v3, structural)

const SCHEMA_KEYS = new Set([
  'type', 'description', 'properties', 'required', 'items', 'additionalProperties', 'enum', 'pattern', 'format',
  'minItems', 'maxItems', 'minLength', 'maxLength', 'minimum', 'maximum', 'default', 'nullable', 'title', 'example',
  'x-kubernetes-list-type', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string',
]);
const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const FORMATS: Record<string, (v: unknown) => boolean> = {
  ipv4: (v) => typeof v === 'string' && IPV4.test(v),
  int32: (v) => isInt(v),
  int64: (v) => isInt(v),
  'date-time': (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
};

/** Problems of a CRD's own schema: structural (every node typed), keywords this validator knows. */
export function checkSchema(schema: unknown, at = 'openAPIV3Schema', out: string[] = []): string[] {
  if (!isObj(schema)) return [...out, `${at}: not a schema`];
  for (const k of Object.keys(schema)) if (!SCHEMA_KEYS.has(k)) out.push(`${at}.${k}: keyword not supported by this validator`);
  const free = schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true;
  if (!free && typeof schema.type !== 'string') out.push(`${at}: no type (structural schemas type every node)`);
  if (typeof schema.format === 'string' && !FORMATS[schema.format]) out.push(`${at}.format: "${schema.format}" not supported by this validator`);
  if (typeof schema.pattern === 'string') {
    try {
      new RegExp(schema.pattern);
    } catch (e) {
      out.push(`${at}.pattern: ${(e as Error).message}`);
    }
  }
  if (isObj(schema.properties)) for (const [k, v] of Object.entries(schema.properties)) checkSchema(v, `${at}.properties.${k}`, out);
  if (schema.items !== undefined) checkSchema(schema.items, `${at}.items`, out);
  if (isObj(schema.additionalProperties)) checkSchema(schema.additionalProperties, `${at}.additionalProperties`, out);
  if (Array.isArray(schema.required) && isObj(schema.properties))
    for (const r of schema.required) if (!(String(r) in schema.properties)) out.push(`${at}.required: "${String(r)}" is not a property`);
  return out;
}

/** Problems of `value` against a structural schema (the API server's checks, without CEL). */
export function validateSchema(value: unknown, schema: Obj, at: string, out: string[] = []): string[] {
  if (value === null) {
    if (schema.nullable !== true) out.push(`${at}: must not be null`);
    return out;
  }
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (typeof value !== 'string' && !isInt(value)) out.push(`${at}: expected an integer or a string`);
    return out;
  }
  const type = schema.type;
  const typeOk =
    type === undefined ||
    (type === 'object' && isObj(value)) ||
    (type === 'array' && Array.isArray(value)) ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'integer' && isInt(value)) ||
    (type === 'number' && typeof value === 'number') ||
    (type === 'boolean' && typeof value === 'boolean');
  if (!typeOk) return [...out, `${at}: expected ${String(type)}, got ${describe(value)}`];

  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    out.push(`${at}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) out.push(`${at}: "${value}" does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) out.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) out.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeof schema.format === 'string' && FORMATS[schema.format] && !FORMATS[schema.format](value))
    out.push(`${at}: ${JSON.stringify(value)} is not a valid ${schema.format}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) out.push(`${at}: less than ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) out.push(`${at}: more than ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) out.push(`${at}: needs at least ${schema.minItems} item(s)`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) out.push(`${at}: at most ${schema.maxItems} item(s)`);
    if (schema['x-kubernetes-list-type'] === 'set') {
      const seen = new Set<string>();
      value.forEach((v, i) => {
        const key = JSON.stringify(v);
        if (seen.has(key)) out.push(`${at}[${i}]: duplicate ${key} in a set`);
        seen.add(key);
      });
    }
    if (isObj(schema.items)) value.forEach((v, i) => validateSchema(v, schema.items as Obj, `${at}[${i}]`, out));
  }
  if (isObj(value) && type === 'object') {
    const props = isObj(schema.properties) ? schema.properties : {};
    for (const r of Array.isArray(schema.required) ? schema.required : []) if (!(String(r) in value)) out.push(`${at}.${String(r)}: required`);
    for (const [k, v] of Object.entries(value)) {
      if (isObj(props[k])) validateSchema(v, props[k] as Obj, `${at}.${k}`, out);
      else if (isObj(schema.additionalProperties)) validateSchema(v, schema.additionalProperties, `${at}.${k}`, out);
      else if (schema.additionalProperties !== true && schema['x-kubernetes-preserve-unknown-fields'] !== true) out.push(`${at}.${k}: unknown field`);
    }
  }
  return out;
}

export interface CrdIndex {
  /** `group/version Kind` -> the version's openAPIV3Schema. */
  schemas: Map<string, Obj>;
  namespaced: Map<string, boolean>;
}

export function indexCrds(docs: Obj[]): CrdIndex {
  const index: CrdIndex = { schemas: new Map(), namespaced: new Map() };
  for (const d of docs) {
    if (d.kind !== 'CustomResourceDefinition' || !isObj(d.spec)) continue;
    const spec = d.spec as { group: string; scope: string; names: { kind: string }; versions: Array<{ name: string; served: boolean; schema?: { openAPIV3Schema?: Obj } }> };
    for (const v of spec.versions) {
      if (!v.served || !v.schema?.openAPIV3Schema) continue;
      const key = `${spec.group}/${v.name} ${spec.names.kind}`;
      index.schemas.set(key, v.schema.openAPIV3Schema);
      index.namespaced.set(key, spec.scope === 'Namespaced');
    }
  }
  return index;
}

/** Problems of a custom resource against its CRD; undefined when no CRD in the index serves it. */
export function validateCustom(doc: Obj, crds: CrdIndex): string[] | undefined {
  const key = `${String(doc.apiVersion)} ${String(doc.kind)}`;
  const schema = crds.schemas.get(key);
  if (!schema) return undefined;
  const out: string[] = [];
  const { metadata, ...rest } = doc;
  // The API server validates metadata as ObjectMeta whatever the CRD says about it.
  checkType(metadata ?? {}, 'V1ObjectMeta', '', 'metadata', out);
  apiServerRules(doc, String(doc.kind), out);
  if (crds.namespaced.get(key) === false && isObj(metadata) && metadata.namespace !== undefined) out.push('metadata.namespace: this resource is cluster-scoped');
  validateSchema({ ...rest, metadata: {} }, schema, String(doc.kind), out);
  return out;
}

/** JSONPath `.a.b` of a printer column resolves to a property of the schema. */
export function schemaHasPath(schema: Obj, jsonPath: string): boolean {
  let node: unknown = schema;
  for (const part of jsonPath.replace(/^\./, '').split('.')) {
    if (!isObj(node) || !isObj(node.properties) || !isObj(node.properties[part])) return false;
    node = node.properties[part];
  }
  return true;
}
