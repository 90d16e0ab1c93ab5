/**
 * Installing a lab's Helm charts, in the order the lab lists them. Helm does
 * not wait (readiness is checked afterwards through the API, with a deadline
 * and a message naming what is not ready). Cilium gets the values a kind
 * cluster needs, which depend on the cluster's name; the lab's values win.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { KindAddon, KindCluster } from '../../labs/schema';
import { mustRun, type CommandRunner } from './command';
import { EnvironmentError } from '../driver';
import { API_SERVER_PORT, apiServerHost } from './config';

export interface AddonContext {
  /** kind cluster name. */
  cluster: string;
  spec: KindCluster;
  /** Kubeconfig helm uses (reaches the API server from this machine). */
  kubeconfig: string;
  labRoot: string;
}

type Values = Record<string, unknown>;
const isPlainObject = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge of plain objects; arrays and scalars of `over` replace those of `base`. */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeValues(out[k] as Values, v) : v;
  return out;
}

/** `cilium`, `cilium/cilium`, `oci://…/cilium`, `./charts/cilium-1.17.6.tgz`. */
export function isCiliumChart(chart: string): boolean {
  return /(^|\/)cilium(-\d[\w.+-]*)?(\.tgz)?$/.test(chart);
}

/**
 * What Cilium needs on kind (REFERENCE §2): with no kube-proxy it must reach the
 * API server by name (`<cluster>-control-plane:6443`, resolvable on the kind
 * network); VXLAN tunnelling (multicast needs VXLAN, not Geneve); no pulls of
 * images that were loaded into the nodes. One operator replica, because the
 * default two are spread over two nodes and a one-node cluster never gets the
 * second. Labs add their own (e.g. `extraConfig: {multicast-enabled: "true"}`).
 */
export function ciliumDefaults(ctx: Pick<AddonContext, 'cluster' | 'spec'>): Values {
  const values: Values = {
    k8sServiceHost: apiServerHost(ctx.cluster, ctx.spec),
    k8sServicePort: API_SERVER_PORT,
    kubeProxyReplacement: ctx.spec.kubeProxyMode === 'none',
    routingMode: 'tunnel',
    tunnelProtocol: 'vxlan',
    ipam: { mode: 'kubernetes' },
    operator: { replicas: 1 },
    image: { pullPolicy: 'IfNotPresent' },
  };
  if (ctx.spec.images.length) {
    // Images loaded with `kind load` lose their registry digest, so references by
    // digest would be pulled again (kind#4028): use the tags instead.
    const noDigest = { useDigest: false, pullPolicy: 'IfNotPresent' };
    Object.assign(values, {
      image: noDigest,
      operator: { replicas: 1, image: noDigest },
      envoy: { image: noDigest },
      hubble: { relay: { image: noDigest }, ui: { backend: { image: noDigest }, frontend: { image: noDigest } } },
    });
  }
  return values;
}

/**
 * `${CLUSTER_NAME}` in any string value becomes the kind cluster's name (labs cannot
 * know it: it is per session), e.g. `k8sServiceHost: ${CLUSTER_NAME}-control-plane`.
 * Other `${...}` are left alone.
 */
export function expandPlaceholders(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return value.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (m, k: string) => vars[k] ?? m);
  if (Array.isArray(value)) return value.map((v) => expandPlaceholders(v, vars));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandPlaceholders(v, vars)]));
  return value;
}

export function addonValues(addon: KindAddon, ctx: Pick<AddonContext, 'cluster' | 'spec'>): Values {
  const lab = expandPlaceholders(addon.values, { CLUSTER_NAME: ctx.cluster }) as Values;
  return isCiliumChart(addon.chart) ? mergeValues(ciliumDefaults(ctx), lab) : lab;
}

/** A chart path inside the lab folder (`./x`, `../x`, `x.tgz`), or null for repo / OCI charts. */
export function localChart(chart: string, labRoot: string): string | null {
  if (!(chart.startsWith('./') || chart.startsWith('../') || chart.endsWith('.tgz'))) return null;
  const abs = path.resolve(labRoot, chart);
  if (abs !== labRoot && !abs.startsWith(labRoot + path.sep)) throw new EnvironmentError(`addon chart ${chart} is outside the lab folder`);
  return abs;
}

/** `helm upgrade --install` argv. No `--wait`: helm 3 does not wait by default, and helm 4 changed the flag's type. */
export function helmArgs(addon: KindAddon, ctx: AddonContext, valuesFile: string): string[] {
  const local = localChart(addon.chart, ctx.labRoot);
  const args = ['upgrade', '--install', addon.name, local ?? addon.chart];
  if (!local && addon.repo) args.push('--repo', addon.repo);
  if (!local) args.push('--version', addon.version);
  args.push('--namespace', addon.namespace, '--create-namespace', '--kubeconfig', ctx.kubeconfig, '--values', valuesFile);
  return args;
}

export interface InstallHooks {
  /** Wraps each install as a progress step (`Installing cilium`). */
  step: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

/** Installs the addons one after the other; the values go through a private temp file, removed afterwards. */
export async function installAddons(run: CommandRunner, addons: KindAddon[], ctx: AddonContext, hooks: InstallHooks): Promise<void> {
  for (const addon of addons) {
    await hooks.step(`Installing ${addon.name}`, async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labforge-helm-'));
      try {
        const file = path.join(dir, `${addon.name}-values.yaml`);
        // No YAML anchors for shared objects: plain values are easier to read in a failed install.
        await fs.writeFile(file, stringify(addonValues(addon, ctx), { aliasDuplicateObjects: false }), { mode: 0o600 });
        await mustRun(
          run,
          `installing ${addon.name} (${addon.chart} ${addon.version})`,
          'helm',
          helmArgs(addon, ctx, file),
          { signal: hooks.signal, onLine: hooks.onLine && ((l) => hooks.onLine!(l)) },
          addon.repo ? `check that ${addon.repo} is reachable from this machine, or ship the chart in the lab folder` : undefined,
        );
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  }
}
