/**
 * Creating a Kind environment (KindDriver.create): the claim, the cluster with its images, the
 * lab's addons and manifests, readiness through the Kubernetes API, then the workstations (made
 * by the Docker driver) joined to kind's network with the cluster's internal kubeconfig.
 * A failure anywhere removes everything the owner has (KindDriver.destroyOwner).
 */
import { promises as fs } from 'node:fs';
import { KIND_RESERVED_HOST, type KindCluster } from '../../labs/schema';
import { log as rootLog } from '../../base/log';
import { EnvironmentError, checkOwner, progressSteps, type Environment, type EnvironmentSpec, type Problem, type ProgressFn } from '../driver';
import type { DockerDriver } from '../docker/driver';
import { engineReason } from '../docker/errors';
import { installAddons } from './addons';
import { writeClaim } from './claims';
import { mustRun, type CommandRunner } from './command';
import { clusterName, kindConfigYaml } from './config';
import { engineOf, loadClusterImages, prepareClusterImages } from './images';
import { applyManifests, readManifests } from './kube-apply';
import { loadKubeConfig } from './kube-client';
import { waitForNodes, waitForWorkloads } from './kube-ready';

const log = rootLog.child({ module: 'kind' });

export const WORKSTATION_KUBECONFIG = '/root/.kube/config';

/** What creation needs from the Kind driver. */
export interface KindCreateDeps {
  driver: string;
  docker: DockerDriver;
  run: CommandRunner;
  instance?: string;
  readyTimeoutMs: number;
  /** The Docker network kind puts its nodes on; workstations join it. */
  network: string;
  apiAccess: 'host' | 'network';
  which: (binary: string) => string | null;
  /** What this lab's cluster needs from the host and the host lacks (cluster-needs.ts): refused before anything runs. */
  hostProblems: (cluster: KindCluster) => Promise<Problem[]>;
  files(owner: string): { kubeconfig: string; claim: string };
  destroyOwner(owner: string): Promise<void>;
}

export async function createKindEnvironment(deps: KindCreateDeps, spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal): Promise<Environment> {
  const envSpec = spec.environment;
  if (envSpec.driver !== 'kind') throw new EnvironmentError(`the kind driver cannot create a "${envSpec.driver}" environment`);
  checkOwner(spec.owner);
  const clash = envSpec.hosts.find((h) => KIND_RESERVED_HOST.test(h.name));
  if (clash) throw new EnvironmentError(`host name "${clash.name}" is taken by a kind node container: rename the host in track.yml`);
  const cluster = envSpec.cluster;
  // Say it plainly and early, instead of failing on a spawn after the workstation image build.
  const missing = ['kind', ...(cluster.addons.length ? ['helm'] : [])].filter((b) => !deps.which(b));
  if (missing.length) {
    throw new EnvironmentError(
      `${missing.join(' and ')} not found on PATH: this Labforge server cannot start Kind labs`,
      'install kind (https://kind.sigs.k8s.io) and Helm 3 (https://helm.sh) on the Labforge host',
    );
  }
  // A kernel too old for the lab's multicast, or cgroup v1 under kube-proxy replacement, would
  // cost a whole cluster creation and then fail a challenge: say it now.
  const unmet = await deps.hostProblems(cluster);
  if (unmet.length) {
    throw new EnvironmentError(`this host cannot run the lab: ${unmet.map((p) => p.what).join('; ')}`, unmet.map((p) => p.fix).join('; '));
  }
  const { docker, run } = deps;
  const name = clusterName(spec.owner);
  const files = deps.files(spec.owner);
  const started = Date.now();
  const step = progressSteps(progress, signal);
  const detail = (stepName: string) => (line: string) => progress({ step: stepName, status: 'running', detail: line });

  // Workstation images (maybe a local build) get ready while the cluster comes up.
  const hostImages = Promise.all([...new Set(envSpec.hosts.map((h) => h.image))].map((i) => docker.images.ensure(i, progress)));
  hostImages.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled

  try {
    // Read the manifests now: a typo should not cost a cluster creation first.
    const manifests = await readManifests(spec.labRoot, cluster.manifests);
    if (cluster.images.length) await step('Preparing cluster images', () => prepareClusterImages(engineOf(docker), cluster.images, progress));
    await writeClaim(files.claim, { owner: spec.owner, lab: spec.lab, cluster: name, instance: deps.instance, createdAt: new Date().toISOString() });

    await step('Creating cluster', () =>
      mustRun(
        run,
        `creating kind cluster ${name}`,
        'kind',
        ['create', 'cluster', '--name', name, '--config', '-', '--kubeconfig', files.kubeconfig],
        { stdin: kindConfigYaml(name, cluster), signal, onLine: detail('Creating cluster') },
        'see `docker ps -a --filter label=io.x-k8s.kind.cluster`; a node image that cannot be pulled is a common cause',
      ),
    );
    if (cluster.images.length) await step('Loading images', () => loadClusterImages(run, name, cluster.images, { progress, signal }));
    const internalKubeconfig = (
      await mustRun(run, `reading the kubeconfig of ${name}`, 'kind', ['get', 'kubeconfig', '--internal', '--name', name], { signal })
    ).stdout;
    if (deps.apiAccess === 'network') await fs.writeFile(files.kubeconfig, internalKubeconfig, { mode: 0o600 });

    const ctx = { cluster: name, spec: cluster, kubeconfig: files.kubeconfig, labRoot: spec.labRoot };
    await installAddons(run, cluster.addons, ctx, { step, signal });

    const kc = await loadKubeConfig(files.kubeconfig);
    const deadline = Date.now() + deps.readyTimeoutMs;
    const waiting = (stepName: string) => (problems: string[]) => progress({ step: stepName, status: 'running', detail: problems[0] });
    await step('Waiting for nodes', () =>
      waitForNodes(kc, cluster.nodes.length, { deadline, signal, what: `cluster ${name}: nodes`, onWaiting: waiting('Waiting for nodes') }),
    );
    await step('Waiting for system pods', () =>
      waitForWorkloads(kc, { deadline, signal, what: `cluster ${name}: system pods`, onWaiting: waiting('Waiting for system pods') }),
    );
    if (cluster.manifests.length) {
      await step('Applying manifests', () =>
        applyManifests(kc, manifests, {
          deadline: Date.now() + 120_000,
          signal,
          onApplied: (m) => detail('Applying manifests')(`${m.object.kind} ${m.object.metadata?.name}`),
        }),
      );
    }

    // A failed image is reported again by the Docker driver below, naming the hosts that need it.
    await hostImages.catch(() => undefined);
    const hosts = await docker.create({ ...spec, environment: { driver: 'docker', hosts: envSpec.hosts } }, progress, signal);
    await step('Connecting hosts to the cluster', () => connectHosts(docker, deps.network, hosts, internalKubeconfig));
    log.info({ owner: spec.owner, lab: spec.lab, cluster: name, ms: Date.now() - started }, 'kind environment created');
    return {
      driver: deps.driver,
      owner: spec.owner,
      lab: spec.lab,
      hosts: hosts.hosts,
      meta: { ...hosts.meta, cluster: name, kubeconfig: files.kubeconfig, clusterNetwork: deps.network },
    };
  } catch (err) {
    log.warn({ owner: spec.owner, cluster: name, err: (err as Error).message }, 'kind environment creation failed, cleaning up');
    await deps.destroyOwner(spec.owner).catch((e) => log.error({ owner: spec.owner, err: String(e) }, 'cleanup after failed create also failed'));
    if (err instanceof EnvironmentError) throw err;
    throw new EnvironmentError(`creating the kind environment failed: ${(err as Error).message}`);
  }
}

/** Joins each workstation to kind's network (no alias: that network is shared by every cluster) and hands it the kubeconfig. */
async function connectHosts(docker: DockerDriver, networkName: string, env: Environment, kubeconfig: string): Promise<void> {
  const network = docker.docker.getNetwork(networkName);
  for (const h of env.hosts) {
    try {
      await network.connect({ Container: h.ref });
    } catch (err) {
      throw new EnvironmentError(`joining host ${h.name} to the Docker network "${networkName}" failed: ${engineReason(err)}`);
    }
    await docker.writeFile(env, h.name, WORKSTATION_KUBECONFIG, kubeconfig, 0o600);
  }
}
