/**
 * The Kind driver end to end at its seams: kind and helm are recorded (not on
 * this machine), the API server is the fake one (real client-node over HTTP),
 * and the workstation is a real container made by the real Docker driver.
 * Needs a reachable Docker engine and the labforge/base image, like the
 * Docker driver's suite; fails (does not skip) without them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandOptions, CommandResult, CommandRunner } from '../../lib/environments/kind/command';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { EnvironmentError, LABELS, type EnvironmentSpec, type ProgressStep } from '../../lib/environments/driver';
import { resolveImage } from '../../lib/environments/images/build';
import { KindDriver } from '../../lib/environments/kind/driver';
import { clusterName, kindConfigYaml } from '../../lib/environments/kind/config';
import { environmentSchema } from '../../lib/labs/schema';
import { FakeKubeApi, kubeconfigFor } from './kind-fake-api';
import { requireEngine } from '../support/docker';

const docker = new Dockerode();
const run = randomBytes(3).toString('hex');
const testNet = `lf-test-kindnet-${run}`;
/** The local base image under its concrete tag: stands in for a cluster image such as quay.io/cilium/cilium. */
const BASE = resolveImage('labforge/base');
const dockerDriver = new DockerDriver({ docker });
let api: FakeKubeApi;
let labRoot: string;
let dataDir: string;

const environment = (over: Record<string, unknown> = {}, hosts?: unknown[]) =>
  kindEnvironment({
    driver: 'kind',
    cluster: {
      nodes: [{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker' }],
      images: [BASE, 'labforge/base'],
      addons: [
        {
          name: 'cilium',
          chart: 'cilium',
          repo: 'https://helm.cilium.io/',
          version: '1.17.6',
          values: { k8sServiceHost: '${CLUSTER_NAME}-control-plane', extraConfig: { 'multicast-enabled': 'true' } },
        },
      ],
      manifests: ['manifests/fleet.yaml'],
      ...over,
    },
    hosts: hosts ?? [
      {
        name: 'workstation',
        image: 'labforge/base',
        resources: { memory: '128Mi', cpus: 0.5, pids: 128 },
        files: [{ from: 'assets/hello.txt', to: '/root/hello.txt' }],
      },
    ],
  });
function kindEnvironment(raw: unknown) {
  const env = environmentSchema.parse(raw);
  if (env.driver !== 'kind') throw new Error('not a kind environment');
  return env;
}
const spec = (owner: string, env = environment()): EnvironmentSpec => ({ owner, lab: 'kind-driver-test', labRoot, environment: env });

/** Plays kind and helm: records every call, writes the kubeconfig kind would write. */
function fakeTools(fail: { helm?: string } = {}) {
  const calls: { cmd: string; args: string[]; stdin?: string; values?: string }[] = [];
  const clusters = new Set<string>();
  const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
  const runner: CommandRunner = async (cmd: string, args: string[], o?: CommandOptions) => {
    const call: (typeof calls)[number] = { cmd, args, stdin: o?.stdin };
    calls.push(call);
    const name = args[args.indexOf('--name') + 1];
    if (cmd === 'kind' && args[0] === 'create') {
      writeFileSync(args[args.indexOf('--kubeconfig') + 1], api.kubeconfigYaml(name));
      clusters.add(name);
      o?.onLine?.(`Creating cluster "${name}" ...`, 'stderr');
      o?.onLine?.(' ✓ Ensuring node image (kindest/node:v1.31.0) 🖼', 'stderr');
      return ok();
    }
    if (cmd === 'kind' && args[0] === 'get' && args[1] === 'kubeconfig') return ok(kubeconfigFor(`https://${name}-control-plane:6443`, name));
    if (cmd === 'kind' && args[0] === 'get' && args[1] === 'clusters') return ok([...clusters].map((c) => `${c}\n`).join(''));
    if (cmd === 'kind' && args[0] === 'delete') {
      const had = clusters.delete(name);
      return had ? ok() : { code: 1, stdout: '', stderr: `ERROR: failed to delete cluster "${name}": cluster "${name}" doesn't exist\n` };
    }
    if (cmd === 'helm') {
      call.values = readFileSync(args[args.indexOf('--values') + 1], 'utf8');
      if (fail.helm) return { code: 1, stdout: '', stderr: fail.helm };
    }
    return ok();
  };
  return { calls, runner, clusters };
}

const newDriver = (runner: CommandRunner, over: Partial<ConstructorParameters<typeof KindDriver>[0]> = {}) =>
  new KindDriver({
    docker: dockerDriver,
    run: runner,
    dataDir,
    network: testNet,
    readyTimeoutMs: 20_000,
    // A host fit for the multicast lab whatever this machine is: its own kernel and cgroups are kind-prereqs.test.ts's business.
    probes: { which: (b) => `/usr/local/bin/${b}`, kernelRelease: () => '6.1.0-18-amd64', fileExists: async () => true },
    ...over,
  });

async function containersOf(owner: string) {
  return docker.listContainers({ all: true, filters: { label: [`${LABELS.session}=${owner}`] } });
}

let hadLatestTag = true;

beforeAll(async () => {
  hadLatestTag = await docker
    .getImage('labforge/base:latest')
    .inspect()
    .then(
      () => true,
      () => false,
    );
  await requireEngine(docker);
  await dockerDriver.images.ensure('labforge/base');
  await docker.createNetwork({ Name: testNet, Driver: 'bridge', Labels: { 'labforge.test': 'kind-driver' } });
  labRoot = mkdtempSync(path.join(os.tmpdir(), 'lf-kindlab-'));
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'lf-kinddata-'));
  mkdirSync(path.join(labRoot, 'manifests'));
  mkdirSync(path.join(labRoot, 'assets'));
  writeFileSync(path.join(labRoot, 'assets/hello.txt'), 'hello from the lab\n');
  writeFileSync(
    path.join(labRoot, 'manifests/fleet.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fleet, namespace: yavin}\ndata: {size: "7"}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: yavin}\n',
  );
  api = await new FakeKubeApi().start();
  const echo = (req: { body: string }) => ({ body: JSON.parse(req.body) });
  api.on('GET', '/apis/apps/v1/daemonsets', 'daemonsets-rolling', 'daemonsets-ready');
  api.on('GET', '/apis/apps/v1/deployments', 'deployments-ready');
  api.on('GET', '/api/v1', 'discovery-v1');
  api.handle('PATCH', '/api/v1/namespaces/yavin', echo);
  api.handle('PATCH', '/api/v1/namespaces/yavin/configmaps/fleet', echo);
}, 900_000);

afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.lab}=kind-driver-test`] } })) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => {});
  }
  await dockerDriver.destroyOwner(`test-${run}-kind`).catch(() => {});
  await docker
    .getNetwork(testNet)
    .remove()
    .catch(() => {});
  // Only the tag this suite added; the image itself stays.
  if (!hadLatestTag)
    await docker
      .getImage('labforge/base:latest')
      .remove({ noprune: true })
      .catch(() => {});
  await api?.stop();
  for (const d of [labRoot, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('KindDriver.create', () => {
  it('creates the cluster, loads images, installs addons, waits, applies, then starts a connected workstation', async () => {
    api.on('GET', '/api/v1/nodes', 'nodes-notready', 'nodes-ready');
    const owner = `test-${run}-kind`;
    const name = clusterName(owner);
    const kubeconfig = path.join(dataDir, 'kube', `${owner}.yaml`);
    const tools = fakeTools();
    const driver = newDriver(tools.runner);
    const progress: ProgressStep[] = [];
    const env = await driver.create(spec(owner), (p) => progress.push(p));

    // The exact command sequence, in order.
    expect(tools.calls.map((c) => [c.cmd, ...c.args].join(' '))).toEqual([
      `kind create cluster --name ${name} --config - --kubeconfig ${kubeconfig}`,
      `kind load docker-image ${BASE} --name ${name}`,
      // A built-in image is loaded under the name the lab's pods use (tagged :latest locally).
      `kind load docker-image labforge/base --name ${name}`,
      `kind get kubeconfig --internal --name ${name}`,
      expect.stringMatching(
        new RegExp(
          `^helm upgrade --install cilium cilium --repo https://helm.cilium.io/ --version 1.17.6 --namespace kube-system --create-namespace --kubeconfig ${kubeconfig} --values /\\S+/cilium-values.yaml$`,
        ),
      ),
    ]);
    expect(tools.calls[0].stdin).toBe(kindConfigYaml(name, environment().cluster));
    expect(tools.calls[4].values).toContain(`k8sServiceHost: ${name}-control-plane\n`);
    expect(tools.calls[4].values).toContain('multicast-enabled: "true"');
    expect((await docker.getImage('labforge/base:latest').inspect()).Id).toBe((await docker.getImage(BASE).inspect()).Id);

    // Progress: steps with durations, in order, and kind's own lines as details.
    const mine = [
      'Preparing cluster images',
      'Creating cluster',
      'Loading images',
      'Installing cilium',
      'Waiting for nodes',
      'Waiting for system pods',
      'Applying manifests',
      'Connecting hosts to the cluster',
    ];
    const done = progress.filter((p) => p.status === 'done');
    expect(done.map((p) => p.step).filter((s) => mine.includes(s))).toEqual(mine);
    for (const p of done) expect(typeof p.ms).toBe('number');
    expect(progress).toContainEqual({ step: 'Creating cluster', status: 'running', detail: ' ✓ Ensuring node image (kindest/node:v1.31.0) 🖼' });
    expect(progress.find((p) => p.step === 'Waiting for nodes' && p.detail)?.detail).toMatch(/^node lf-test-control-plane NotReady/);
    expect(progress.find((p) => p.step === 'Waiting for system pods' && p.detail)?.detail).toBe('DaemonSet kube-system/cilium: 1/3 pods ready');

    // The manifests went through server-side apply.
    expect(api.calls('PATCH', '/api/v1/namespaces/yavin/configmaps/fleet')[0].query.get('fieldManager')).toBe('labforge');

    // The environment record and the workstation.
    expect(env).toMatchObject({ driver: 'kind', owner, lab: 'kind-driver-test', meta: { cluster: name, kubeconfig, clusterNetwork: testNet } });
    expect(env.hosts.map((h) => h.name)).toEqual(['workstation']);
    const info = await docker.getContainer(env.hosts[0].ref).inspect();
    expect(Object.keys(info.NetworkSettings.Networks).sort()).toEqual([`lf-${owner}`, testNet].sort());
    expect(info.Config.Labels).toMatchObject({ [LABELS.managed]: '1', [LABELS.session]: owner, [LABELS.host]: 'workstation' });
    expect((await driver.readFile(env, 'workstation', '/root/.kube/config')).toString()).toBe(kubeconfigFor(`https://${name}-control-plane:6443`, name));
    const st = await driver.exec(env, 'workstation', ['sh', '-c', 'stat -c %a /root/.kube/config; cat /root/hello.txt']);
    expect(st.stdout).toBe('600\nhello from the lab\n');

    // Found again by list(), healthy only with kind node containers (there are none here).
    expect(await driver.list()).toEqual([{ owner, lab: 'kind-driver-test', resources: [`kind:${name}`, env.hosts[0].ref] }]);
    expect(await driver.health(env)).toEqual({ ok: false, detail: `cluster ${name} is gone (no kind node containers)` });
    expect(existsSync(kubeconfig)).toBe(true);

    await driver.destroy(env);
    expect(tools.calls.at(-1)).toMatchObject({ cmd: 'kind', args: ['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfig] });
    expect(await containersOf(owner)).toEqual([]);
    expect(existsSync(kubeconfig)).toBe(false);
    expect(existsSync(path.join(dataDir, 'kube', `${owner}.json`))).toBe(false);
    expect(await driver.list()).toEqual([]);
  });

  it('cleans up everything when an addon fails, and says what helm said', async () => {
    const owner = `test-${run}-helmfail`;
    const tools = fakeTools({ helm: 'Error: INSTALLATION FAILED: chart "cilium" version "9.9.9" not found in https://helm.cilium.io/ repository\n' });
    const progress: ProgressStep[] = [];
    const err = await newDriver(tools.runner)
      .create(spec(owner), (p) => progress.push(p))
      .catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toBe(
      'installing cilium (cilium 1.17.6) failed (helm exited with 1): Error: INSTALLATION FAILED: chart "cilium" version "9.9.9" not found in https://helm.cilium.io/ repository',
    );
    expect(progress).toContainEqual(expect.objectContaining({ step: 'Installing cilium', status: 'failed' }));
    expect(tools.calls.at(-1)!.args.slice(0, 4)).toEqual(['delete', 'cluster', '--name', clusterName(owner)]);
    expect(tools.clusters.size).toBe(0);
    expect(await containersOf(owner)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'kube', `${owner}.json`))).toBe(false);
  });

  it('gives up at the readiness deadline naming what is not ready, and removes the cluster', async () => {
    api.on('GET', '/api/v1/nodes', 'nodes-notready');
    const owner = `test-${run}-slow`;
    const tools = fakeTools();
    const err = await newDriver(tools.runner, { readyTimeoutMs: 1000 })
      .create(spec(owner, environment({ images: [], addons: [], manifests: [] })), () => {})
      .catch((e) => e);
    expect(err.message).toMatch(
      new RegExp(
        `^cluster ${clusterName(owner)}: nodes not ready after 1 s: node lf-test-control-plane NotReady \\(KubeletNotReady: container runtime network not ready`,
      ),
    );
    expect(tools.calls.map((c) => c.args[0])).toEqual(['create', 'get', 'delete']);
    expect(tools.clusters.size).toBe(0);
  });

  it('refuses, before running anything, hosts named like kind nodes, missing tools and missing images', async () => {
    const tools = fakeTools();
    const reserved = { ...environment(), hosts: [{ ...environment().hosts[0], name: 'control-plane' }] };
    await expect(newDriver(tools.runner).create(spec(`test-${run}-x`, reserved), () => {})).rejects.toThrow(
      'host name "control-plane" is taken by a kind node container: rename the host in track.yml',
    );
    await expect(newDriver(tools.runner, { probes: { which: () => null } }).create(spec(`test-${run}-x`), () => {})).rejects.toThrow(
      'kind and helm not found on PATH: this Labforge server cannot start Kind labs',
    );
    await expect(
      newDriver(tools.runner).create({ ...spec(`test-${run}-x`), environment: { driver: 'docker', hosts: environment().hosts } }, () => {}),
    ).rejects.toThrow('the kind driver cannot create a "docker" environment');
    expect(tools.calls).toEqual([]);

    const err = await newDriver(tools.runner)
      .create(spec(`test-${run}-noimg`, environment({ images: ['labforge/not-here:none'] })), () => {})
      .catch((e) => e);
    expect(err.message).toBe('cluster image not in the local Docker engine: labforge/not-here:none');
    expect(err.hint).toMatch(/docker pull/);
    expect(tools.calls.filter((c) => c.args[0] === 'create')).toEqual([]);
  });
});

describe('KindDriver.list / destroyOwner', () => {
  it('reports claims left behind without a cluster, so the reconciler can clear them', async () => {
    const tools = fakeTools();
    const driver = newDriver(tools.runner, { instance: 'me' });
    mkdirSync(path.join(dataDir, 'kube'), { recursive: true });
    const claim = (owner: string, instance: string) =>
      writeFileSync(
        path.join(dataDir, 'kube', `${owner}.json`),
        JSON.stringify({ owner, lab: 'l', cluster: clusterName(owner), instance, createdAt: new Date().toISOString() }),
      );
    claim(`test-${run}-stale`, 'me');
    claim(`test-${run}-theirs`, 'someone-else');
    expect(await driver.list()).toEqual([{ owner: `test-${run}-stale`, lab: 'l', resources: [] }]);
    await driver.destroyOwner(`test-${run}-stale`);
    expect(existsSync(path.join(dataDir, 'kube', `test-${run}-stale.json`))).toBe(false);
    expect(await driver.list()).toEqual([]);
  });

  it('keeps the claim when kind cannot delete a cluster whose nodes still exist', async () => {
    const owner = `test-${run}-stuck`;
    const name = clusterName(owner);
    // A container with kind's node label stands in for a node kind failed to remove.
    const node = await docker.createContainer({ Image: BASE, Cmd: ['true'], Labels: { 'io.x-k8s.kind.cluster': name, [LABELS.lab]: 'kind-driver-test' } });
    try {
      const failing: CommandRunner = async () => ({
        code: 1,
        stdout: '',
        stderr: 'ERROR: failed to delete cluster: error deleting nodes: permission denied\n',
      });
      const driver = newDriver(failing);
      mkdirSync(path.join(dataDir, 'kube'), { recursive: true });
      writeFileSync(path.join(dataDir, 'kube', `${owner}.json`), JSON.stringify({ owner, lab: 'l', cluster: name, createdAt: new Date().toISOString() }));
      await expect(driver.destroyOwner(owner)).rejects.toThrow(
        `removing the kind environment of ${owner} failed: kind delete cluster ${name}: ERROR: failed to delete cluster: error deleting nodes: permission denied`,
      );
      expect(existsSync(path.join(dataDir, 'kube', `${owner}.json`))).toBe(true);
    } finally {
      await node.remove({ force: true });
      rmSync(path.join(dataDir, 'kube', `${owner}.json`), { force: true });
    }
  });
});
