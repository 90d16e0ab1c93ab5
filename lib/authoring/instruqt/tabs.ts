/**
 * Instruqt tabs → ours. terminal, code (our `editor`), service and website exist on both sides;
 * a tab on a machine that was not converted, or of a type Labforge lacks (a virtual browser),
 * is left out and reported at its line, so the imported challenge still lints.
 */
import { z } from 'zod';
import { problemAt, type FieldPath, type Problem, type YamlSource } from '../../labs/positions';
import type { Sandbox } from './config';
import { field, isMapping, reportKeys, type FieldRule, type Mapping } from './source';

export interface Tab {
  title: string;
  type: 'terminal' | 'editor' | 'service' | 'website';
  hostname?: string;
  path?: string;
  port?: number;
  url?: string;
}

const TYPES: Record<string, Tab['type']> = { terminal: 'terminal', code: 'editor', service: 'service', website: 'website' };

const RULES: Record<string, FieldRule> = {
  ...Object.fromEntries(['title', 'type', 'hostname', 'path', 'port', 'url'].map((k) => [k, { convert: true }])),
  new_window: { drop: 'tabs open inside the lab page: dropped' },
  workdir: { drop: "terminals start in the host's workdir (track.yml hosts[].workdir): dropped" },
  cmd: { error: "not converted: a terminal tab runs the host's shell; run the command from a setup script, or let the assignment ask for it" },
  protocol: { drop: "service tabs are proxied over the platform's own HTTP: dropped" },
  custom_request_headers: { error: 'not converted: the service proxy sends no custom headers' },
  custom_response_headers: { error: 'not converted: the service proxy adds no custom headers' },
};

/** A path an Instruqt code tab opens: Labforge's editor opens one file, Instruqt's a folder. */
function looksLikeFolder(p: string): boolean {
  const last = p.replace(/\/+$/, '').split('/').pop() ?? '';
  return p.endsWith('/') || last === '' || last === '~' || (!last.includes('.') && !/^[A-Z][A-Za-z]*file$/.test(last));
}

export function convertTabs(src: YamlSource, raw: unknown, sandbox: Sandbox, problems: Problem[]): Tab[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push(problemAt(src, ['tabs'], 'must be a list: no tab converted'));
    return [];
  }
  return raw.flatMap((item, i) => convertTab(src, ['tabs', i], item, sandbox, problems) ?? []);
}

function convertTab(src: YamlSource, at: FieldPath, item: unknown, sandbox: Sandbox, problems: Problem[]): Tab | undefined {
  if (!isMapping(item)) {
    problems.push(problemAt(src, at, 'a tab must be a mapping (title, type, ...): not converted'));
    return undefined;
  }
  const kind = field(src, item, [...at, 'type'], z.string(), problems);
  const type = kind === undefined ? undefined : TYPES[kind];
  if (!type) {
    const msg = kind === undefined ? 'a tab needs a type' : `tab type "${kind}" has no Labforge equivalent (terminal, code, service, website)`;
    problems.push(problemAt(src, kind === undefined ? at : [...at, 'type'], `${msg}: tab not converted`));
    return undefined;
  }
  reportKeys(src, at, item, RULES, 'tab', problems);
  const tab: Tab = { title: field(src, item, [...at, 'title'], z.string().min(1), problems) ?? type, type };
  if (type !== 'website' && !host(src, at, item, tab, sandbox, problems)) return undefined;
  if (type === 'editor') return editor(src, at, item, tab, problems);
  if (type === 'service') {
    tab.port = field(src, item, [...at, 'port'], z.number().int().min(1).max(65535), problems);
    tab.path = field(src, item, [...at, 'path'], z.string(), problems);
    if (tab.port === undefined) return missing(src, at, 'a service tab needs a port', problems);
  }
  if (type === 'website') {
    tab.url = field(src, item, [...at, 'url'], z.url({ protocol: /^https?$/ }), problems);
    if (!tab.url) return missing(src, at, 'a website tab needs an http(s) url', problems);
  }
  return tab;
}

/** Sets the tab's host to ours; false (and reported) when it names a machine that is not converted. */
function host(src: YamlSource, at: FieldPath, item: Mapping, tab: Tab, sandbox: Sandbox, problems: Problem[]): boolean {
  const name = field(src, item, [...at, 'hostname'], z.string(), problems);
  const ours = name === undefined ? undefined : sandbox.names.get(name);
  if (ours) tab.hostname = ours;
  else if (name !== undefined && sandbox.dropped.has(name))
    problems.push(problemAt(src, [...at, 'hostname'], `"${name}" is a ${sandbox.dropped.get(name)}, which is not converted: tab not converted`));
  else
    problems.push(
      problemAt(
        src,
        [...at, name === undefined ? 'type' : 'hostname'],
        `${name === undefined ? 'no hostname' : `no container "${name}" in config.yml`}: tab not converted`,
      ),
    );
  return Boolean(ours);
}

function editor(src: YamlSource, at: FieldPath, item: Mapping, tab: Tab, problems: Problem[]): Tab | undefined {
  const p = field(src, item, [...at, 'path'], z.string().min(1), problems);
  if (!p) return missing(src, at, 'a code tab needs a path', problems);
  if (looksLikeFolder(p)) {
    const msg = `"${p}" looks like a folder, and Labforge's editor tab opens one file: tab not converted (add an editor tab per file the learner edits)`;
    problems.push(problemAt(src, [...at, 'path'], msg));
    return undefined;
  }
  return { ...tab, path: p.replace(/^~(?=\/)/, '/root') };
}

function missing(src: YamlSource, at: FieldPath, why: string, problems: Problem[]): undefined {
  problems.push(problemAt(src, at, `${why}: tab not converted`));
  return undefined;
}
