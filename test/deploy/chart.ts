/**
 * `helm template`, offline, for deploy/helm/labforge: the chart's values merged with overrides as
 * Helm merges them, checked against values.schema.json (as `helm install` does), every template
 * rendered (gotemplate.ts) and its documents read as Kubernetes reads YAML (1.1). Not a test
 * file itself: helm-chart.test.ts renders and validates with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { parseTemplates, renderFile } from './gotemplate';

export const CHART_DIR = path.resolve(import.meta.dirname, '../../deploy/helm/labforge');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's coalescing: maps merge key by key, anything else (lists too) replaces, null removes. */
export function mergeValues(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = isObj(v) && isObj(out[k]) ? mergeValues(out[k] as Obj, v) : v;
  }
  return out;
}

export interface Rendered {
  /** Every object, in file order. */
  objects: Obj[];
  /** The text of each rendered file (NOTES.txt included). */
  files: Record<string, string>;
}

export function loadChart(dir = CHART_DIR) {
  const chart = YAML.parse(fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8')) as Obj;
  const values = YAML.parse(fs.readFileSync(path.join(dir, 'values.yaml'), 'utf8')) as Obj;
  const schema = JSON.parse(fs.readFileSync(path.join(dir, 'values.schema.json'), 'utf8')) as Obj;
  const sources: Record<string, string> = {};
  for (const f of fs.readdirSync(path.join(dir, 'templates')).sort()) sources[f] = fs.readFileSync(path.join(dir, 'templates', f), 'utf8');
  return { chart, values, schema, sources, templates: parseTemplates(sources) };
}

export type Chart = ReturnType<typeof loadChart>;

/** Problems of the merged values against the chart's schema (`helm install` refuses on any). */
export function schemaProblems(chart: Chart, values: Obj): string[] {
  const validate = new Ajv({ allErrors: true, strict: true }).compile(chart.schema);
  if (validate(values)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/** Renders the chart as `helm template <release> --namespace <ns> -f overrides` would, strictly (a missing value is an error). */
export function renderChart(chart: Chart, overrides: Obj = {}, release = { name: 'labforge', namespace: 'labs' }): Rendered {
  const values = mergeValues(chart.values, overrides);
  const problems = schemaProblems(chart, values);
  if (problems.length) throw new Error(`values do not match values.schema.json:\n${problems.join('\n')}`);
  const root = {
    Values: values,
    Release: { Name: release.name, Namespace: release.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 },
    Chart: { Name: chart.chart.name, Version: chart.chart.version, AppVersion: chart.chart.appVersion },
    Template: { BasePath: `${chart.chart.name}/templates` },
  };
  const objects: Obj[] = [];
  const files: Record<string, string> = {};
  for (const name of Object.keys(chart.sources)) {
    // Helm renders every file but those starting with `_`; NOTES.txt is printed, not applied.
    if (name.startsWith('_')) continue;
    const text = renderFile(chart.templates, name, root, { strict: true });
    files[name] = text;
    if (!/\.ya?ml$/.test(name)) continue;
    for (const doc of YAML.parseAllDocuments(text, { version: '1.1' })) {
      if (doc.errors.length) throw new Error(`${name}: ${doc.errors.map((e) => e.message).join('; ')}\n${text}`);
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) continue;
      if (!isObj(value)) throw new Error(`${name}: a document that is not an object`);
      objects.push(value);
    }
  }
  return { objects, files };
}
