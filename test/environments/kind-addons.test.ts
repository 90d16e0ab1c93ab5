/** Helm addons: Cilium values for kind, the helm argv, order and failure of installs (helm itself is recorded, not run). */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  addonValues,
  expandPlaceholders,
  helmArgs,
  installAddons,
  isCiliumChart,
  localChart,
  mergeValues,
  type AddonContext,
} from '../../lib/environments/kind/addons';
import type { CommandResult } from '../../lib/environments/kind/command';
import { EnvironmentError } from '../../lib/environments/driver';
import { kindAddonSchema, kindClusterSchema, type KindAddon } from '../../lib/labs/schema';

const labRoot = mkdtempSync(path.join(os.tmpdir(), 'lf-addons-'));
afterAll(() => rmSync(labRoot, { recursive: true, force: true }));

const spec = kindClusterSchema.parse({ nodes: [{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker' }] });
const ctx: AddonContext = { cluster: 'lf-abc', spec, kubeconfig: '/data/kube/abc.yaml', labRoot };
const addon = (a: Partial<KindAddon> & Pick<KindAddon, 'name' | 'chart'>): KindAddon => kindAddonSchema.parse({ version: '1.17.6', ...a });

const cilium = addon({
  name: 'cilium',
  chart: 'cilium',
  repo: 'https://helm.cilium.io/',
  values: { extraConfig: { 'multicast-enabled': 'true' }, hubble: { relay: { enabled: true } }, operator: { replicas: 2 } },
});

describe('Cilium values', () => {
  it('adds what kind needs, keeps the lab values, and lets the lab win', () => {
    expect(addonValues(cilium, ctx)).toEqual({
      k8sServiceHost: 'lf-abc-control-plane',
      k8sServicePort: 6443,
      kubeProxyReplacement: true,
      routingMode: 'tunnel',
      tunnelProtocol: 'vxlan',
      ipam: { mode: 'kubernetes' },
      image: { pullPolicy: 'IfNotPresent' },
      operator: { replicas: 2 },
      extraConfig: { 'multicast-enabled': 'true' },
      hubble: { relay: { enabled: true } },
    });
  });

  it('uses tags, not digests, when the lab preloads images into the nodes', () => {
    const v = addonValues(cilium, { ...ctx, spec: { ...spec, images: ['quay.io/cilium/cilium:v1.17.6'] } });
    expect(v.image).toEqual({ useDigest: false, pullPolicy: 'IfNotPresent' });
    expect(v.operator).toEqual({ replicas: 2, image: { useDigest: false, pullPolicy: 'IfNotPresent' } });
    expect(v.hubble).toEqual({
      relay: { enabled: true, image: { useDigest: false, pullPolicy: 'IfNotPresent' } },
      ui: { backend: { image: { useDigest: false, pullPolicy: 'IfNotPresent' } }, frontend: { image: { useDigest: false, pullPolicy: 'IfNotPresent' } } },
    });
  });

  it('keeps kube-proxy replacement off when the cluster runs kube-proxy', () => {
    expect(addonValues(cilium, { ...ctx, spec: { ...spec, kubeProxyMode: 'iptables' } }).kubeProxyReplacement).toBe(false);
  });

  it('recognises Cilium charts by name only', () => {
    for (const c of ['cilium', 'cilium/cilium', 'oci://quay.io/cilium/charts/cilium', './charts/cilium-1.17.6.tgz']) expect(isCiliumChart(c), c).toBe(true);
    for (const c of ['tetragon', 'cilium/tetragon', 'cilium-enterprise', 'my-cilium-dashboards']) expect(isCiliumChart(c), c).toBe(false);
  });

  it('leaves other charts exactly as the lab wrote them', () => {
    const a = addon({ name: 'tetragon', chart: 'tetragon', values: { tetragon: { enabled: true } } });
    expect(addonValues(a, ctx)).toEqual({ tetragon: { enabled: true } });
  });

  it('puts the cluster name where the lab wrote ${CLUSTER_NAME}, and leaves other ${...} alone', () => {
    const a = addon({
      name: 'cilium',
      chart: 'cilium',
      values: { k8sServiceHost: '${CLUSTER_NAME}-control-plane', extraArgs: ['--cluster=${CLUSTER_NAME}', '${HOME}'] },
    });
    const v = addonValues(a, ctx);
    expect(v.k8sServiceHost).toBe('lf-abc-control-plane');
    expect(v.extraArgs).toEqual(['--cluster=lf-abc', '${HOME}']);
    expect(expandPlaceholders({ a: { b: 1, c: null, d: '${CLUSTER_NAME}' } }, { CLUSTER_NAME: 'x' })).toEqual({ a: { b: 1, c: null, d: 'x' } });
  });

  it('merges deeply, replacing arrays', () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
  });
});

describe('helm argv', () => {
  it('installs a repo chart at the pinned version, without waiting', () => {
    expect(helmArgs(cilium, ctx, '/tmp/v.yaml')).toEqual([
      'upgrade',
      '--install',
      'cilium',
      'cilium',
      '--repo',
      'https://helm.cilium.io/',
      '--version',
      '1.17.6',
      '--namespace',
      'kube-system',
      '--create-namespace',
      '--kubeconfig',
      '/data/kube/abc.yaml',
      '--values',
      '/tmp/v.yaml',
    ]);
  });

  it('takes OCI references as they are', () => {
    const a = addon({ name: 'tetragon', chart: 'oci://quay.io/cilium/charts/tetragon', namespace: 'tetragon' });
    expect(helmArgs(a, ctx, 'v.yaml').slice(0, 8)).toEqual([
      'upgrade',
      '--install',
      'tetragon',
      'oci://quay.io/cilium/charts/tetragon',
      '--version',
      '1.17.6',
      '--namespace',
      'tetragon',
    ]);
  });

  it('resolves charts shipped in the lab folder, and refuses paths outside it', () => {
    const a = addon({ name: 'demo', chart: './charts/demo-0.1.0.tgz', repo: 'https://ignored.example' });
    expect(helmArgs(a, ctx, 'v.yaml').slice(0, 5)).toEqual(['upgrade', '--install', 'demo', path.join(labRoot, 'charts/demo-0.1.0.tgz'), '--namespace']);
    expect(localChart('cilium', labRoot)).toBeNull();
    expect(() => localChart('../../etc/chart.tgz', labRoot)).toThrow(/outside the lab folder/);
  });
});

describe('installAddons', () => {
  type Call = { cmd: string; args: string[]; values?: unknown; raw?: string; valuesMode?: number };
  const recorder = (fail?: (args: string[]) => CommandResult | undefined) => {
    const calls: Call[] = [];
    const run = async (cmd: string, args: string[]): Promise<CommandResult> => {
      const file = args[args.indexOf('--values') + 1];
      // The values file must exist while helm runs, private to us.
      const raw = readFileSync(file, 'utf8');
      calls.push({ cmd, args, raw, values: parse(raw), valuesMode: statSync(file).mode & 0o777 });
      return fail?.(args) ?? { code: 0, stdout: `Release "${args[2]}" has been upgraded.`, stderr: '' };
    };
    return { calls, run };
  };
  const steps: string[] = [];
  const hooks = { step: async <T>(name: string, fn: () => Promise<T>) => (steps.push(name), fn()) };
  const addons = [
    cilium,
    addon({ name: 'tetragon', chart: 'tetragon', repo: 'https://helm.cilium.io/' }),
    addon({ name: 'demo', chart: 'oci://example.org/demo' }),
  ];

  it('installs in the lab order, one helm call each, with the merged values, and removes the values files', async () => {
    steps.length = 0;
    const { calls, run } = recorder();
    const preloaded = { ...ctx, spec: { ...spec, images: ['quay.io/cilium/cilium:v1.17.6'] } };
    await installAddons(run, addons, preloaded, hooks);
    expect(calls.map((c) => `${c.cmd} ${c.args[2]}`)).toEqual(['helm cilium', 'helm tetragon', 'helm demo']);
    expect(steps).toEqual(['Installing cilium', 'Installing tetragon', 'Installing demo']);
    expect(calls[0].values).toEqual(addonValues(cilium, preloaded));
    expect(calls[0].valuesMode).toBe(0o600);
    expect(calls[0].raw).not.toMatch(/[&*]a\d/); // no anchors/aliases
    for (const c of calls) expect(existsSync(c.args[c.args.indexOf('--values') + 1])).toBe(false);
  });

  it('stops at the first failing chart and says which, with what helm printed', async () => {
    const { calls, run } = recorder((args) =>
      args[2] === 'tetragon'
        ? {
            code: 1,
            stdout: '',
            stderr:
              'Error: INSTALLATION FAILED: looks like "https://helm.cilium.io/" is not a valid chart repository or cannot be reached: dial tcp: lookup helm.cilium.io: no such host\n',
          }
        : undefined,
    );
    const err = await installAddons(run, addons, ctx, hooks).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toBe(
      'installing tetragon (tetragon 1.17.6) failed (helm exited with 1): Error: INSTALLATION FAILED: looks like "https://helm.cilium.io/" is not a valid chart repository or cannot be reached: dial tcp: lookup helm.cilium.io: no such host',
    );
    expect(err.hint).toMatch(/helm\.cilium\.io.*reachable/);
    expect(calls.map((c) => c.args[2])).toEqual(['cilium', 'tetragon']);
  });
});
