/**
 * Readiness of a fresh cluster: the pure judgements on API objects, and the
 * waits with the real @kubernetes/client-node over real HTTP against a fake
 * API server that serves the fixtures (test/fixtures/kube).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig, V1DaemonSetList, V1DeploymentList, V1NodeList, V1PodList } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../lib/environments/driver';
import { loadKubeConfig } from '../../lib/environments/kind/kube-client';
import { daemonSetProblems, deploymentProblems, nodeProblems, podProblems, waitForNodes, waitForWorkloads } from '../../lib/environments/kind/kube-ready';
import { FakeKubeApi, fixture, kubeconfigFor } from './kind-fake-api';

const nodes = (n: string) => (fixture(n) as V1NodeList).items;
const sets = (n: string) => (fixture(n) as V1DaemonSetList).items;
const deps = (n: string) => (fixture(n) as V1DeploymentList).items;
const CNI =
  'KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

describe('judging API objects', () => {
  it('nodes: NotReady with the kubelet reason, and nodes not yet registered', () => {
    expect(nodeProblems(nodes('nodes-ready'), 3)).toEqual([]);
    expect(nodeProblems(nodes('nodes-notready'), 3)).toEqual([
      `node lf-test-control-plane NotReady (${CNI.slice(0, 159)}…)`,
      `node lf-test-worker NotReady (${CNI.slice(0, 159)}…)`,
      `node lf-test-worker2 NotReady (${CNI.slice(0, 159)}…)`,
    ]);
    expect(nodeProblems(nodes('nodes-two-registered'), 3)).toEqual(['2 of 3 nodes registered']);
  });

  it('DaemonSets: pods ready on every node, rolled out, status current', () => {
    expect(daemonSetProblems(sets('daemonsets-ready'))).toEqual([]);
    expect(daemonSetProblems(sets('daemonsets-rolling'))).toEqual(['DaemonSet kube-system/cilium: 1/3 pods ready']);
    expect(daemonSetProblems(sets('daemonsets-unobserved'))).toEqual(['DaemonSet kube-system/cilium not yet processed by its controller']);
    const halfUpdated = sets('daemonsets-ready');
    halfUpdated[0].status!.updatedNumberScheduled = 2;
    expect(daemonSetProblems(halfUpdated)).toEqual(['DaemonSet kube-system/cilium: 2/3 pods updated']);
  });

  it('Deployments: available replicas, with the controller message', () => {
    expect(deploymentProblems(deps('deployments-ready'))).toEqual([]);
    expect(deploymentProblems(deps('deployments-pending'))).toEqual([
      'Deployment kube-system/coredns: 0/2 available (Deployment does not have minimum availability.)',
      'Deployment local-path-storage/local-path-provisioner: 0/1 available (Deployment does not have minimum availability.)',
    ]);
    expect(deploymentProblems(deps('deployments-new-generation'))).toEqual(['Deployment kube-system/coredns not yet processed by its controller']);
  });

  it('pods: the waiting reason (image pulls, crash loops) or why the scheduler left them pending', () => {
    const pods = (fixture('pods-failing') as V1PodList).items;
    expect(podProblems(pods)).toEqual([
      'pod kube-system/cilium-x7k2p: ImagePullBackOff (Back-off pulling image "quay.io/cilium/cilium:v1.17.6@sha256:1e0896b1c4c188b4812c7e0bed7ec3f5631388ca88325c1391a0ef9172c448da")',
      'pod kube-system/coredns-7c65d6cfc9-8xk2m: not scheduled (0/3 nodes are available: 3 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for…)',
      'pod default/crashy-5d8f7b9c4-abcde: CrashLoopBackOff (back-off 40s restarting failed container=main pod=crashy-5d8f7b9c4-abcde_default(crashy-uid))',
    ]);
  });
});

describe('waiting through the API (real client-node, fake API server)', () => {
  let api: FakeKubeApi;
  let kc: KubeConfig;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lf-kube-'));
  const fast = { minDelayMs: 20, maxDelayMs: 50 };

  beforeAll(async () => {
    api = await new FakeKubeApi().start();
    kc = await loadKubeConfig(api.writeKubeconfig(path.join(dir, 'kubeconfig.yaml')));
  });
  afterEach(() => api.requests.splice(0));
  afterAll(async () => {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits until the nodes turn Ready, looking again after each miss', async () => {
    api.on('GET', '/api/v1/nodes', 'nodes-two-registered', 'nodes-notready', 'nodes-notready', 'nodes-ready');
    const seen: string[][] = [];
    await waitForNodes(kc, 3, { deadline: Date.now() + 10_000, onWaiting: (p) => seen.push(p), ...fast });
    expect(api.calls('GET', '/api/v1/nodes')).toHaveLength(4);
    expect(seen.map((p) => p[0])).toEqual(['2 of 3 nodes registered', `node lf-test-control-plane NotReady (${CNI.slice(0, 159)}…)`, expect.any(String)]);
  });

  it('waits for DaemonSets and Deployments in all namespaces', async () => {
    api.on('GET', '/apis/apps/v1/daemonsets', 'daemonsets-unobserved', 'daemonsets-rolling', 'daemonsets-ready');
    api.on('GET', '/apis/apps/v1/deployments', 'deployments-pending', 'deployments-pending', 'deployments-ready');
    await waitForWorkloads(kc, { deadline: Date.now() + 10_000, ...fast });
    expect(api.calls('GET', '/apis/apps/v1/daemonsets')).toHaveLength(3);
    expect(api.calls('GET', '/apis/apps/v1/deployments')).toHaveLength(3);
  });

  it('on the deadline, says what is still not ready, and which pods fail why', async () => {
    api.on('GET', '/api/v1/pods', 'pods-failing');
    api.on('GET', '/apis/apps/v1/daemonsets', 'daemonsets-rolling');
    api.on('GET', '/apis/apps/v1/deployments', 'deployments-pending');
    const t = Date.now();
    const err = await waitForWorkloads(kc, { deadline: t + 800, what: 'cluster lf-test: system pods', ...fast }).catch((e) => e);
    expect(Date.now() - t).toBeGreaterThanOrEqual(750);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toBe(
      'cluster lf-test: system pods not ready after 1 s: DaemonSet kube-system/cilium: 1/3 pods ready; ' +
        'Deployment kube-system/coredns: 0/2 available (Deployment does not have minimum availability.); ' +
        'Deployment local-path-storage/local-path-provisioner: 0/1 available (Deployment does not have minimum availability.). ' +
        podProblems((fixture('pods-failing') as V1PodList).items).join('; '),
    );
    expect(err.message).toContain('pod kube-system/cilium-x7k2p: ImagePullBackOff (Back-off pulling image');
    expect(err.hint).toMatch(/kubectl get pods -A/);
  });

  it('rides out API server errors while it restarts', async () => {
    api.on('GET', '/api/v1/nodes', { status: 503, body: { kind: 'Status', message: 'etcdserver: leader changed', code: 503 } }, 'nodes-ready');
    await waitForNodes(kc, 3, { deadline: Date.now() + 10_000, ...fast });
    expect(api.calls('GET', '/api/v1/nodes')).toHaveLength(2);
  });

  it('names an API server that never answers', async () => {
    const closed = new FakeKubeApi();
    await closed.start();
    await closed.stop(); // the port is now closed: connection refused
    const file = path.join(dir, 'dead.yaml');
    writeFileSync(file, kubeconfigFor(closed.url, 'lf-dead'));
    const err = await waitForNodes(await loadKubeConfig(file), 1, { deadline: Date.now() + 300, what: 'cluster lf-dead: nodes', ...fast }).catch((e) => e);
    expect(err.message).toMatch(/^cluster lf-dead: nodes not ready after \d+ s: API server did not answer: .*ECONNREFUSED/);
  });

  it('stops waiting when cancelled', async () => {
    api.on('GET', '/api/v1/nodes', 'nodes-notready');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await waitForNodes(kc, 3, { deadline: Date.now() + 60_000, signal: ac.signal, minDelayMs: 5000 }).catch((e) => e);
    expect(err.message).toBe('environment creation was cancelled');
  });
});
