/** kind cluster names and the generated kind `Cluster` config, with the schema rules that protect them. */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { parse } from 'yaml';
import { apiServerHost, clusterName, KIND_NAME_MAX, KIND_NAME_RE, kindConfigYaml } from '../../lib/environments/kind/config';
import { environmentSchema, kindClusterSchema, type KindCluster } from '../../lib/labs/schema';

const cluster = (c: z.input<typeof kindClusterSchema>): KindCluster => kindClusterSchema.parse(c);

describe('clusterName', () => {
  it('is lf-<owner> for session ids and pool owners', () => {
    expect(clusterName('k3x9qz0abcde2f')).toBe('lf-k3x9qz0abcde2f');
    expect(clusterName('pool-7')).toBe('lf-pool-7');
  });

  it('keeps to kind rules (lowercase [a-z0-9.-], at most 50) for any owner the Docker driver accepts', () => {
    for (const owner of ['Test_Upper', 'a'.repeat(63), 'x.y_z-', 'A', `test-${'9'.repeat(58)}`]) {
      const name = clusterName(owner);
      expect(name, owner).toMatch(KIND_NAME_RE);
      expect(name.length, owner).toBeLessThanOrEqual(KIND_NAME_MAX);
      expect(name.startsWith('lf-'), owner).toBe(true);
      expect(clusterName(owner)).toBe(name); // deterministic: destroyOwner finds it again
    }
  });

  it('never maps two owners to one cluster', () => {
    expect(clusterName('Abc')).not.toBe(clusterName('abc'));
    expect(clusterName('a_b')).not.toBe(clusterName('a-b'));
    expect(clusterName(`${'a'.repeat(60)}1`)).not.toBe(clusterName(`${'a'.repeat(60)}2`));
  });
});

describe('kindConfigYaml', () => {
  it('writes nodes, roles, labels, node image and networking for the Cilium lab shape', () => {
    const spec = cluster({
      nodes: [{ role: 'control-plane' }, { role: 'worker', labels: { zone: 'rebels' } }, { role: 'worker' }],
      nodeImage: 'kindest/node:v1.31.0',
    });
    expect(kindConfigYaml('lf-abc', spec)).toBe(
      [
        'kind: Cluster',
        'apiVersion: kind.x-k8s.io/v1alpha4',
        'name: lf-abc',
        'nodes:',
        '  - role: control-plane',
        '    image: kindest/node:v1.31.0',
        '  - role: worker',
        '    image: kindest/node:v1.31.0',
        '    labels:',
        '      zone: rebels',
        '  - role: worker',
        '    image: kindest/node:v1.31.0',
        'networking:',
        '  disableDefaultCNI: true',
        '  kubeProxyMode: none',
        '',
      ].join('\n'),
    );
  });

  it("leaves kind's defaults out: iptables proxy, default CNI, kind's node image", () => {
    const doc = parse(kindConfigYaml('lf-x', cluster({ nodes: [{ role: 'control-plane' }], disableDefaultCNI: false, kubeProxyMode: 'iptables' })));
    expect(doc).toEqual({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'lf-x', nodes: [{ role: 'control-plane' }] });
  });

  it('passes other proxy modes through', () => {
    const doc = parse(kindConfigYaml('lf-x', cluster({ nodes: [{ role: 'control-plane' }], kubeProxyMode: 'ipvs' })));
    expect(doc.networking).toEqual({ disableDefaultCNI: true, kubeProxyMode: 'ipvs' });
  });
});

describe('where the API server answers', () => {
  it('is the control plane node', () => {
    const c = { nodes: [{ role: 'control-plane' as const }, { role: 'worker' as const }, { role: 'worker' as const }] };
    expect(apiServerHost('lf-a', c)).toBe('lf-a-control-plane');
  });

  it('is the load balancer for several control planes', () => {
    const c = { nodes: [{ role: 'control-plane' as const }, { role: 'control-plane' as const }, { role: 'worker' as const }] };
    expect(apiServerHost('lf-a', c)).toBe('lf-a-external-load-balancer');
  });
});

describe('schema rules for kind environments', () => {
  const env = (over: Record<string, unknown> = {}, hosts: unknown[] = [{ name: 'workstation', image: 'labforge/base' }]) =>
    environmentSchema.safeParse({ driver: 'kind', cluster: { nodes: [{ role: 'control-plane' }], ...over }, hosts });
  const messages = (r: ReturnType<typeof env>) => (r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));

  it('accepts the minimal form and fills defaults', () => {
    const r = env();
    expect(r.success).toBe(true);
    if (r.success && r.data.driver === 'kind') {
      expect(r.data.cluster).toMatchObject({ disableDefaultCNI: true, kubeProxyMode: 'none', images: [], addons: [], manifests: [] });
      expect(r.data.cluster.nodes[0].labels).toEqual({});
    }
  });

  it('rejects host names that are kind node container names', () => {
    expect(messages(env({}, [{ name: 'worker2', image: 'labforge/base' }]))).toEqual([
      'hosts.0.name: "worker2" is the name of a kind node container: pick another host name',
    ]);
  });

  it('needs a control-plane node', () => {
    expect(messages(env({ nodes: [{ role: 'worker' }] }))).toEqual(['cluster.nodes: needs at least one control-plane node']);
  });

  it('checks addon release names and namespaces', () => {
    const r = env({ addons: [{ name: 'Cilium_1', chart: 'cilium', version: '1.17.6', namespace: 'Kube System' }] });
    expect(messages(r)).toEqual([
      'cluster.addons.0.name: must be a Helm release name: lowercase letters, digits and dashes (max 53)',
      'cluster.addons.0.namespace: must be a Kubernetes namespace name (lowercase, digits, dashes)',
    ]);
  });
});
