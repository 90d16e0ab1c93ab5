/**
 * The Kind driver: a kind cluster per owner (`lf-<owner>`), the lab's Helm
 * addons and manifests, and workstation containers (the lab's `hosts`) beside
 * it. The workstations are made by the Docker driver (same labels, same exec,
 * files and terminals), joined to the `kind` Docker network, and get the
 * cluster's internal kubeconfig as /root/.kube/config.
 *
 * kind and helm run through one injectable CommandRunner; the readiness wait
 * and manifests talk to the API server with @kubernetes/client-node.
 * A claim file `<dataDir>/kube/<owner>.json` is written before the cluster is
 * created: kind clusters carry no labels, so that file is how list() knows
 * which `lf-*` clusters this server made (and for which owner).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type * as pty from 'node-pty';
import { loadConfig } from '../../base/config';
import { KIND_RESERVED_HOST } from '../../labs/schema';
import { log as rootLog } from '../../base/log';
import { installAddons } from './addons';
import { mustRun, spawnRunner, tail, type CommandRunner } from './command';
import { DockerDriver } from '../docker/driver';
import { resolveImage } from '../images/build';
import {
  EnvironmentError,
  LABELS,
  type Environment,
  type EnvironmentDriver,
  type EnvironmentSpec,
  type ExecOptions,
  type ExecResult,
  type FoundEnvironment,
  type HostHandle,
  type HostState,
  type Problem,
  type ProgressFn,
  type TerminalOptions,
  type Datagrams,
  type ReadOptions,
} from '../driver';
import { clusterName, kindConfigYaml } from './config';
import { which as whichOnPath } from '../../base/which';
import { defaultProbes, kindPrerequisites, type PrereqProbes } from './prereqs';
import { applyManifests, readManifests } from './kube-apply';
import { parsePodSource, sendFromPod } from './kube-inject';
import { loadKubeConfig } from './kube-client';
import { waitForNodes, waitForWorkloads } from './kube-ready';

const log = rootLog.child({ module: 'kind' });

const ownerSchema = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'must be letters, digits, _ . - (max 63)');
const claimSchema = z.object({ owner: z.string(), lab: z.string(), cluster: z.string(), instance: z.string().optional(), createdAt: z.string() });
type Claim = z.infer<typeof claimSchema>;

/** kind's label on its node containers. */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
export const WORKSTATION_KUBECONFIG = '/root/.kube/config';

export interface KindDriverOptions {
  /** Makes and reaches the workstation containers; shared with the server's Docker driver. */
  docker?: DockerDriver;
  run?: CommandRunner;
  /** Kubeconfigs and claim files go to `<dataDir>/kube/`. */
  dataDir?: string;
  instance?: string;
  probes?: Partial<PrereqProbes>;
  /** Nodes and system pods must be ready within this (after the addons). Default 10 min. */
  readyTimeoutMs?: number;
  /** The Docker network kind puts its nodes on; workstations join it. */
  network?: string;
  /**
   * How this server reaches the API servers: `host` uses kind's kubeconfig
   * (127.0.0.1:<port>, Labforge on the Docker host); `network` the internal one
   * (`<cluster>-control-plane:6443`, Labforge in a container joined to the kind network).
   */
  apiAccess?: 'host' | 'network';
}

export class KindDriver implements EnvironmentDriver {
  readonly name = 'kind';
  readonly docker: DockerDriver;
  readonly instance?: string;
  private readonly run: CommandRunner;
  private readonly kubeDir: string;
  private readonly readyTimeoutMs: number;
  private readonly network: string;
  private readonly apiAccess: 'host' | 'network';
  private readonly probes?: Partial<PrereqProbes>;

  /** Spawns nothing and connects to nothing: safe to construct on a machine without kind. */
  constructor(opts: KindDriverOptions = {}) {
    this.instance = opts.instance;
    this.docker = opts.docker ?? new DockerDriver({ instance: opts.instance });
    this.run = opts.run ?? spawnRunner;
    this.kubeDir = path.join(opts.dataDir ?? loadConfig().dataDir, 'kube');
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 10 * 60_000;
    this.network = opts.network ?? process.env.KIND_EXPERIMENTAL_DOCKER_NETWORK ?? 'kind';
    this.apiAccess = opts.apiAccess ?? 'host';
    this.probes = opts.probes;
  }

  /** `<dataDir>/kube/<owner>.yaml` (kubeconfig for this server) and `<owner>.json` (the claim). */
  paths(owner: string) {
    return { kubeconfig: path.join(this.kubeDir, `${owner}.yaml`), claim: path.join(this.kubeDir, `${owner}.json`) };
  }

  async prerequisites(): Promise<Problem[]> {
    return kindPrerequisites({ ...defaultProbes(() => this.docker.prerequisites()), ...this.probes });
  }

  async create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal): Promise<Environment> {
    const envSpec = spec.environment;
    if (envSpec.driver !== 'kind') throw new EnvironmentError(`the kind driver cannot create a "${envSpec.driver}" environment`);
    const owner = ownerSchema.safeParse(spec.owner);
    if (!owner.success) throw new EnvironmentError(`invalid environment owner "${spec.owner}": ${owner.error.issues[0].message}`);
    const clash = envSpec.hosts.find((h) => KIND_RESERVED_HOST.test(h.name));
    if (clash) throw new EnvironmentError(`host name "${clash.name}" is taken by a kind node container: rename the host in track.yml`);
    const cluster = envSpec.cluster;
    // Say it plainly and early, instead of failing on a spawn after the workstation image build.
    const which = this.probes?.which ?? whichOnPath;
    const missing = ['kind', ...(cluster.addons.length ? ['helm'] : [])].filter((b) => !which(b));
    if (missing.length) {
      throw new EnvironmentError(
        `${missing.join(' and ')} not found on PATH: this Labforge server cannot start Kind labs`,
        'install kind (https://kind.sigs.k8s.io) and Helm 3 (https://helm.sh) on the Labforge host',
      );
    }
    const name = clusterName(spec.owner);
    const files = this.paths(spec.owner);
    const started = Date.now();

    const step = async <T>(stepName: string, fn: () => Promise<T>): Promise<T> => {
      if (signal?.aborted) throw new EnvironmentError('environment creation was cancelled');
      const t = Date.now();
      progress({ step: stepName, status: 'running' });
      try {
        const out = await fn();
        progress({ step: stepName, status: 'done', ms: Date.now() - t });
        return out;
      } catch (err) {
        progress({ step: stepName, status: 'failed', ms: Date.now() - t, detail: (err as Error).message });
        throw err;
      }
    };
    const detail = (stepName: string) => (line: string) => progress({ step: stepName, status: 'running', detail: line });

    // Workstation images (maybe a local build) get ready while the cluster comes up.
    const hostImages = Promise.all([...new Set(envSpec.hosts.map((h) => h.image))].map((i) => this.docker.images.ensure(i, progress)));
    hostImages.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled

    try {
      // Read the manifests now: a typo should not cost a cluster creation first.
      const manifests = await readManifests(spec.labRoot, cluster.manifests);
      if (cluster.images.length) await step('Preparing cluster images', () => this.prepareClusterImages(cluster.images, progress));
      await this.writeClaim(files.claim, { owner: spec.owner, lab: spec.lab, cluster: name, instance: this.instance, createdAt: new Date().toISOString() });

      await step('Creating cluster', () =>
        mustRun(
          this.run,
          `creating kind cluster ${name}`,
          'kind',
          ['create', 'cluster', '--name', name, '--config', '-', '--kubeconfig', files.kubeconfig],
          { stdin: kindConfigYaml(name, cluster), signal, onLine: detail('Creating cluster') },
          'see `docker ps -a --filter label=io.x-k8s.kind.cluster`; a node image that cannot be pulled is a common cause',
        ),
      );
      if (cluster.images.length) {
        await step('Loading images', async () => {
          for (const image of cluster.images) {
            progress({ step: 'Loading images', status: 'running', detail: image });
            await mustRun(this.run, `loading image ${image} into ${name}`, 'kind', ['load', 'docker-image', image, '--name', name], { signal });
          }
        });
      }
      const internalKubeconfig = (
        await mustRun(this.run, `reading the kubeconfig of ${name}`, 'kind', ['get', 'kubeconfig', '--internal', '--name', name], { signal })
      ).stdout;
      if (this.apiAccess === 'network') await fs.writeFile(files.kubeconfig, internalKubeconfig, { mode: 0o600 });

      const ctx = { cluster: name, spec: cluster, kubeconfig: files.kubeconfig, labRoot: spec.labRoot };
      await installAddons(this.run, cluster.addons, ctx, { step, signal });

      const kc = await loadKubeConfig(files.kubeconfig);
      const deadline = Date.now() + this.readyTimeoutMs;
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
      const hosts = await this.docker.create({ ...spec, environment: { driver: 'docker', hosts: envSpec.hosts } }, progress, signal);
      await step('Connecting hosts to the cluster', () => this.connectHosts(hosts, internalKubeconfig));
      log.info({ owner: spec.owner, lab: spec.lab, cluster: name, ms: Date.now() - started }, 'kind environment created');
      return {
        driver: this.name,
        owner: spec.owner,
        lab: spec.lab,
        hosts: hosts.hosts,
        meta: { ...hosts.meta, cluster: name, kubeconfig: files.kubeconfig, clusterNetwork: this.network },
      };
    } catch (err) {
      log.warn({ owner: spec.owner, cluster: name, err: (err as Error).message }, 'kind environment creation failed, cleaning up');
      await this.destroyOwner(spec.owner).catch((e) => log.error({ owner: spec.owner, err: String(e) }, 'cleanup after failed create also failed'));
      if (err instanceof EnvironmentError) throw err;
      throw new EnvironmentError(`creating the kind environment failed: ${(err as Error).message}`);
    }
  }

  /**
   * Every cluster image on the local engine under the exact name the lab uses, since
   * its pods refer to it so: built-in images (labforge/base, ...) are built if needed
   * and tagged `<name>:latest`; any other image must already be there (sessions pull
   * nothing). Fails before the slow cluster creation.
   */
  private async prepareClusterImages(images: string[], progress: ProgressFn): Promise<void> {
    const missing: string[] = [];
    for (const image of images) {
      const ref = resolveImage(image);
      if (ref === image) {
        if (!(await this.docker.images.imageExists(image))) missing.push(image);
        continue;
      }
      await this.docker.images.ensure(image, progress);
      await this.docker.docker.getImage(ref).tag({ repo: image, tag: 'latest' });
    }
    if (missing.length) {
      throw new EnvironmentError(
        `cluster image${missing.length > 1 ? 's' : ''} not in the local Docker engine: ${missing.join(', ')}`,
        `pull or load ${missing.length > 1 ? 'them' : 'it'} first (docker pull / docker load); they are loaded into the kind nodes so sessions pull nothing`,
      );
    }
  }

  /** Joins each workstation to kind's network (no alias: that network is shared by every cluster) and hands it the kubeconfig. */
  private async connectHosts(env: Environment, kubeconfig: string): Promise<void> {
    const network = this.docker.docker.getNetwork(this.network);
    for (const h of env.hosts) {
      try {
        await network.connect({ Container: h.ref });
      } catch (err) {
        const msg = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
        throw new EnvironmentError(`joining host ${h.name} to the Docker network "${this.network}" failed: ${msg}`);
      }
      await this.docker.writeFile(env, h.name, WORKSTATION_KUBECONFIG, kubeconfig, 0o600);
    }
  }

  private async writeClaim(file: string, claim: Claim): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.writeFile(file, JSON.stringify(claim, null, 2), { mode: 0o600 });
  }

  private async readClaims(): Promise<Claim[]> {
    const names = await fs.readdir(this.kubeDir).catch(() => [] as string[]);
    const claims: Claim[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      try {
        claims.push(claimSchema.parse(JSON.parse(await fs.readFile(path.join(this.kubeDir, n), 'utf8'))));
      } catch (err) {
        log.warn({ file: n, err: (err as Error).message }, 'ignoring unreadable kind claim file');
      }
    }
    return claims.filter((c) => !this.instance || !c.instance || c.instance === this.instance);
  }

  exec(env: Environment, host: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.docker.exec(env, host, argv, opts);
  }
  readFile(env: Environment, host: string, file: string, opts?: ReadOptions): Promise<Buffer> {
    return this.docker.readFile(env, host, file, opts);
  }
  writeFile(env: Environment, host: string, file: string, content: Buffer | string, mode?: number): Promise<void> {
    return this.docker.writeFile(env, host, file, content, mode);
  }
  /** `pod/NAME`: through the Kubernetes API; a workstation: the Docker driver's sidecar. */
  inject(env: Environment, source: string, datagrams: Datagrams): Promise<void> {
    const pod = parsePodSource(source);
    if (!pod) return this.docker.inject(env, source, datagrams);
    const kubeconfig = env.meta.kubeconfig ?? this.paths(env.owner).kubeconfig;
    return sendFromPod(kubeconfig, pod, datagrams);
  }

  openTerminal(env: Environment, host: string, opts: TerminalOptions): pty.IPty {
    return this.docker.openTerminal(env, host, opts);
  }
  closeTerminal(env: Environment, host: string, terminalId: string): Promise<void> {
    return this.docker.closeTerminal(env, host, terminalId);
  }

  /** Workstations running, and every kind node container of the cluster running. */
  async health(env: Environment): Promise<{ ok: boolean; detail?: string }> {
    const hosts = await this.docker.health(env);
    if (!hosts.ok) return hosts;
    const name = env.meta.cluster ?? clusterName(env.owner);
    const nodes = await this.docker.docker.listContainers({ all: true, filters: { label: [`${KIND_CLUSTER_LABEL}=${name}`] } });
    if (!nodes.length) return { ok: false, detail: `cluster ${name} is gone (no kind node containers)` };
    const down = nodes.find((n) => n.State !== 'running');
    return down ? { ok: false, detail: `kind node ${down.Names[0]?.replace(/^\//, '')} is ${down.State}` } : { ok: true };
  }

  /**
   * Workstations as the Docker driver sees them (a stopped one can be restarted), and every kind
   * node container: a node that is not running is reported `gone`. Starting a node container
   * again does not bring its cluster back in a state we can vouch for (kubelet, CNI and
   * certificates are kind's business), so the session fails with the reason instead.
   */
  async hosts(env: Environment): Promise<HostState[]> {
    const workstations = await this.docker.hosts(env);
    const name = env.meta.cluster ?? clusterName(env.owner);
    const nodes = await this.docker.docker.listContainers({ all: true, filters: { label: [`${KIND_CLUSTER_LABEL}=${name}`] } });
    if (!nodes.length) return [...workstations, { host: name, state: 'gone', reason: `cluster ${name} is gone (no kind node containers)` }];
    const nodeStates = nodes.map((n): HostState => {
      const node = n.Names[0]?.replace(/^\//, '') ?? n.Id.slice(0, 12);
      if (n.State === 'running') return { host: node, state: 'running' };
      return {
        host: node,
        state: 'gone',
        reason: `kind node ${node} is ${n.State}${n.Status ? ` (${n.Status})` : ''}; a cluster node cannot be restarted safely`,
      };
    });
    return [...workstations, ...nodeStates];
  }

  /** Workstations only (they keep their kind network and kubeconfig across a restart); nodes: see hosts(). */
  restartHost(env: Environment, host: string): Promise<HostHandle> {
    return this.docker.restartHost(env, host);
  }

  async destroy(env: Environment): Promise<void> {
    await this.destroyOwner(env.owner, env.meta.cluster);
  }

  /**
   * Deletes the cluster, the workstations (Docker driver, by label) and the files.
   * The claim stays when the cluster could not be deleted, so the reconciler tries again.
   */
  async destroyOwner(owner: string, cluster = clusterName(owner)): Promise<void> {
    const files = this.paths(owner);
    const failures: string[] = [];
    const r = await this.run('kind', ['delete', 'cluster', '--name', cluster, '--kubeconfig', files.kubeconfig]);
    // Newer kind fails with `cluster "x" doesn't exist`, older kind succeeds: what counts is that no node is left.
    const clusterGone = r.code === 0 || !(await this.nodeContainersExist(cluster));
    if (!clusterGone) failures.push(r.code === 127 ? `kind not found on PATH, so cluster ${cluster} stays` : `kind delete cluster ${cluster}: ${tail(r)}`);
    await this.docker.destroyOwner(owner).catch((e: Error) => failures.push(`removing the workstations: ${e.message}`));
    if (clusterGone) await Promise.all([fs.rm(files.kubeconfig, { force: true }), fs.rm(files.claim, { force: true })]);
    if (failures.length) throw new EnvironmentError(`removing the kind environment of ${owner} failed: ${failures.join('; ')}`);
  }

  private async nodeContainersExist(cluster: string): Promise<boolean> {
    try {
      const nodes = await this.docker.docker.listContainers({ all: true, filters: { label: [`${KIND_CLUSTER_LABEL}=${cluster}`] } });
      return nodes.length > 0;
    } catch {
      return true; // cannot tell: keep the claim so a later pass retries
    }
  }

  /** Owners this server claimed (claim files), with their cluster if kind still has it and their workstation containers. */
  async list(): Promise<FoundEnvironment[]> {
    const claims = await this.readClaims();
    if (!claims.length) return [];
    const r = await this.run('kind', ['get', 'clusters']);
    if (r.code !== 0) log.warn({ code: r.code, out: tail(r) }, 'kind get clusters failed; listing claims and containers only');
    const clusters = new Set(
      r.code === 0
        ? r.stdout
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
    );
    const filters = { label: [`${LABELS.managed}=1`, ...(this.instance ? [`${LABELS.instance}=${this.instance}`] : [])] };
    const containers = await this.docker.docker.listContainers({ all: true, filters });
    return claims.map((c) => ({
      owner: c.owner,
      lab: c.lab,
      resources: [
        ...(clusters.has(c.cluster) ? [`kind:${c.cluster}`] : []),
        ...containers.filter((x) => x.Labels?.[LABELS.session] === c.owner).map((x) => x.Id),
      ],
    }));
  }
}
