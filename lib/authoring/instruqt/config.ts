/**
 * Instruqt's config.yml (the sandbox) → our Docker hosts. Containers become hosts, in order;
 * everything else an Instruqt sandbox can hold (virtual machines, cloud accounts, secrets,
 * virtual browsers) has no Labforge equivalent and is reported at its line. The names of
 * machines left out are kept, so their scripts and tabs are reported as such, not as typos.
 */
import { z } from 'zod';
import { hostName } from '../../labs/schema';
import { problemAt, type FieldPath, type Problem, type YamlSource } from '../../labs/positions';
import { field, isMapping, reportKeys, type FieldRule, type Mapping } from './source';

export interface HostPlan {
  /** Our host name (Instruqt's, unless it had to change). */
  name: string;
  instruqtName: string;
  /** As config.yml names it, until images.ts decides what runs. */
  image: string;
  /** Where the container is in config.yml, for problems about it. */
  at: FieldPath;
  shell?: string;
  env: Record<string, string>;
  memory?: string;
  cpus?: number;
}

export interface Sandbox {
  hosts: HostPlan[];
  /** Instruqt machine name → our host name, for every converted container. */
  names: Map<string, string>;
  /** Machines that are not converted, by Instruqt name, with what they were ("virtual machine"). */
  dropped: Map<string, string>;
}

const NOT_RUN = "Labforge hosts run `sleep infinity`, not their image's command: start what it started from track_scripts/setup-<host>";
const CONTAINER_RULES: Record<string, FieldRule> = {
  ...Object.fromEntries(['name', 'image', 'shell', 'memory', 'cpus', 'environment'].map((k) => [k, { convert: true }])),
  ports: { drop: 'hosts of a session reach each other on every port, and service tabs name their own: dropped' },
  entrypoint: { error: `not converted: ${NOT_RUN}` },
  cmd: { error: `not converted: ${NOT_RUN}` },
  privileged: { error: 'not converted: no Labforge host is privileged (add capabilities: to the host if it needs one, e.g. NET_ADMIN)' },
};

/** Sections of config.yml that cannot become hosts: what each item is, and why it stays out. */
const UNCONVERTIBLE: Record<string, { what: string; why: string }> = {
  virtualmachines: { what: 'virtual machine', why: 'Labforge runs containers only; its scripts and tabs are left out too' },
  gcp_projects: { what: 'Google Cloud project', why: 'Labforge makes no cloud accounts; scripts that use it will fail' },
  aws_accounts: { what: 'AWS account', why: 'Labforge makes no cloud accounts; scripts that use it will fail' },
  azure_subscriptions: { what: 'Azure subscription', why: 'Labforge makes no cloud accounts; scripts that use it will fail' },
  secrets: { what: 'secret', why: 'Labforge has no secret store: declare a variable in track.yml (variables:) and name the scripts that get it' },
  virtualbrowsers: { what: 'virtual browser', why: 'Labforge has website tabs (an iframe of a URL) only' },
};

const RULES: Record<string, FieldRule> = {
  version: { ignore: true },
  containers: { convert: true },
  ...Object.fromEntries(Object.keys(UNCONVERTIBLE).map((k) => [k, { ignore: true }])),
};

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export function convertConfig(src: YamlSource, data: Mapping, problems: Problem[]): Sandbox {
  const sandbox: Sandbox = { hosts: [], names: new Map(), dropped: new Map() };
  reportKeys(src, [], data, RULES, 'config.yml', problems);
  for (const [section, { what, why }] of Object.entries(UNCONVERTIBLE)) {
    for (const [i, item] of list(src, data, section, problems).entries()) {
      const name = isMapping(item) && typeof item.name === 'string' ? item.name : undefined;
      const image = isMapping(item) && typeof item.image === 'string' ? ` (image ${item.image})` : '';
      problems.push(problemAt(src, [section, i], `${what} ${name ? `"${name}"` : `#${i + 1}`}${image} is not converted: ${why}`));
      if (name) sandbox.dropped.set(name, what);
    }
  }
  for (const [i, item] of list(src, data, 'containers', problems).entries()) {
    const host = convertContainer(src, ['containers', i], item, sandbox, problems);
    if (host) {
      sandbox.hosts.push(host);
      sandbox.names.set(host.instruqtName, host.name);
    }
  }
  if (!sandbox.hosts.length) problems.push(problemAt(src, ['containers'], 'no container could be converted: a Labforge lab needs at least one host'));
  return sandbox;
}

function list(src: YamlSource, data: Mapping, key: string, problems: Problem[]): unknown[] {
  const v = data[key];
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  problems.push(problemAt(src, [key], 'must be a list: not converted'));
  return [];
}

function convertContainer(src: YamlSource, at: FieldPath, item: unknown, sandbox: Sandbox, problems: Problem[]): HostPlan | undefined {
  if (!isMapping(item)) {
    problems.push(problemAt(src, at, 'a container must be a mapping (name, image, ...): not converted'));
    return undefined;
  }
  reportKeys(src, at, item, CONTAINER_RULES, 'container', problems);
  const instruqtName = field(src, item, [...at, 'name'], z.string().min(1), problems);
  const image = field(src, item, [...at, 'image'], z.string().min(1), problems);
  if (!instruqtName || !image) {
    problems.push(problemAt(src, at, `container ${instruqtName ? `"${instruqtName}" ` : ''}needs a name and an image: not converted`));
    return undefined;
  }
  if (sandbox.names.has(instruqtName)) {
    problems.push(problemAt(src, [...at, 'name'], `"${instruqtName}" is declared twice: the second is not converted`));
    return undefined;
  }
  const name = ourHostName(instruqtName, new Set(sandbox.names.values()));
  if (name !== instruqtName)
    problems.push(
      problemAt(
        src,
        [...at, 'name'],
        `"${instruqtName}" is not a Labforge host name (lowercase letters, digits, dashes, max 31): renamed "${name}" (scripts and tabs follow; names inside scripts do not)`,
        'warning',
      ),
    );
  const host: HostPlan = { name, instruqtName, image, at, env: field(src, item, [...at, 'environment'], z.record(z.string(), scalar), problems) ?? {} };
  host.shell = field(src, item, [...at, 'shell'], z.string().startsWith('/'), problems);
  const mb = field(src, item, [...at, 'memory'], z.number().int().positive(), problems);
  if (mb !== undefined) host.memory = `${mb}Mi`; // Instruqt counts memory in MB
  host.cpus = field(src, item, [...at, 'cpus'], z.number().positive().max(16), problems);
  return host;
}

/** Instruqt's name when it is one of ours; otherwise the closest valid name not taken. */
function ourHostName(name: string, taken: Set<string>): string {
  if (hostName.safeParse(name).success && !taken.has(name)) return name;
  let base = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 28)
    .replace(/-+$/, '');
  if (!base) base = 'host';
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}
