/**
 * The Kind driver: a kind cluster per owner (`lf-<owner>`), the lab's Helm
 * addons and manifests, and workstation containers (the lab's `hosts`) beside
 * it. The workstations are made by the Docker driver (same labels, same exec,
 * files and terminals), joined to the `kind` Docker network, and get the
 * cluster's internal kubeconfig as /root/.kube/config (kind/create.ts).
 *
 * kind and helm run through one injectable CommandRunner; the readiness wait
 * and manifests talk to the API server with @kubernetes/client-node.
 * A claim file per owner under `<dataDir>/kube/` (kind/claims.ts) is how list()
 * knows which clusters this server made. The driver reads no configuration of
 * its own: createDrivers (environments/index.ts) hands it what it needs.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { log as rootLog } from '../../base/log';
import { tail, spawnRunner, type CommandRunner } from './command';
import { DockerDriver } from '../docker/driver';
import { managedFilters } from '../docker/resources';
import {
  EnvironmentError,
  LABELS,
  type Datagrams,
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
  type ReadOptions,
  type TerminalOptions,
  type TerminalProcess,
} from '../driver';
import type { KindCluster, LabEnvironment } from '../../labs/schema';
import { ownerFiles, readClaims } from './claims';
import { clusterPrerequisites } from './cluster-needs';
import { clusterName } from './config';
import { createKindEnvironment } from './create';
import { which as whichOnPath } from '../../base/which';
import { defaultProbes, kindPrerequisites, type PrereqProbes } from './prereqs';
import { parsePodSource, sendFromPod } from './kube-inject';
import { nodeContainersExist, nodeStates, nodesHealth } from './nodes';

const log = rootLog.child({ module: 'kind' });

export interface KindDriverOptions {
  /** Kubeconfigs and claim files go to `<dataDir>/kube/`. */
  dataDir: string;
  /** Makes and reaches the workstation containers; shared with the server's Docker driver. */
  docker?: DockerDriver;
  run?: CommandRunner;
  instance?: string;
  probes?: Partial<PrereqProbes>;
  /** Nodes and system pods must be ready within this (after the addons). Default 10 min. */
  readyTimeoutMs?: number;
  /** The Docker network kind puts its nodes on (kind's KIND_EXPERIMENTAL_DOCKER_NETWORK); workstations join it. Default `kind`. */
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
  constructor(opts: KindDriverOptions) {
    this.instance = opts.instance;
    this.docker = opts.docker ?? new DockerDriver({ instance: opts.instance, dataDir: opts.dataDir });
    this.run = opts.run ?? spawnRunner;
    this.kubeDir = path.join(opts.dataDir, 'kube');
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 10 * 60_000;
    this.network = opts.network ?? 'kind';
    this.apiAccess = opts.apiAccess ?? 'host';
    this.probes = opts.probes;
  }

  /** `<dataDir>/kube/<owner>.yaml` (kubeconfig for this server) and `<owner>.json` (the claim). */
  paths(owner: string) {
    return ownerFiles(this.kubeDir, owner);
  }

  /** The driver's own needs, and with a lab's environment what that lab's cluster needs beyond them (cluster-needs.ts). */
  async prerequisites(environment?: LabEnvironment): Promise<Problem[]> {
    const probes = this.allProbes();
    const problems = await kindPrerequisites(probes);
    if (environment?.driver === 'kind') problems.push(...(await clusterPrerequisites(environment.cluster, probes)));
    return problems;
  }

  private allProbes(): PrereqProbes {
    return { ...defaultProbes(() => this.docker.prerequisites()), ...this.probes };
  }

  create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal): Promise<Environment> {
    const deps = {
      driver: this.name,
      docker: this.docker,
      run: this.run,
      instance: this.instance,
      readyTimeoutMs: this.readyTimeoutMs,
      network: this.network,
      apiAccess: this.apiAccess,
      which: this.probes?.which ?? ((b: string) => whichOnPath(b)),
      hostProblems: (cluster: KindCluster) => clusterPrerequisites(cluster, this.allProbes()),
      files: (owner: string) => this.paths(owner),
      destroyOwner: (owner: string) => this.destroyOwner(owner),
    };
    return createKindEnvironment(deps, spec, progress, signal);
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

  openTerminal(env: Environment, host: string, opts: TerminalOptions): Promise<TerminalProcess> {
    return this.docker.openTerminal(env, host, opts);
  }
  closeTerminal(env: Environment, host: string, terminalId: string): Promise<void> {
    return this.docker.closeTerminal(env, host, terminalId);
  }

  /** Workstations running, and every kind node container of the cluster running. */
  async health(env: Environment): Promise<{ ok: boolean; detail?: string }> {
    const hosts = await this.docker.health(env);
    if (!hosts.ok) return hosts;
    return nodesHealth(this.docker.docker, env.meta.cluster ?? clusterName(env.owner));
  }

  /** Workstations as the Docker driver sees them (a stopped one can be restarted), and every kind node container (kind/nodes.ts). */
  async hosts(env: Environment): Promise<HostState[]> {
    const workstations = await this.docker.hosts(env);
    return [...workstations, ...(await nodeStates(this.docker.docker, env.meta.cluster ?? clusterName(env.owner)))];
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
    const clusterGone = r.code === 0 || !(await nodeContainersExist(this.docker.docker, cluster));
    if (!clusterGone) failures.push(r.code === 127 ? `kind not found on PATH, so cluster ${cluster} stays` : `kind delete cluster ${cluster}: ${tail(r)}`);
    await this.docker.destroyOwner(owner).catch((e: Error) => failures.push(`removing the workstations: ${e.message}`));
    if (clusterGone) await Promise.all([fs.rm(files.kubeconfig, { force: true }), fs.rm(files.claim, { force: true })]);
    if (failures.length) throw new EnvironmentError(`removing the kind environment of ${owner} failed: ${failures.join('; ')}`);
  }

  /** Owners this server claimed (claim files), with their cluster if kind still has it and their workstation containers. */
  async list(): Promise<FoundEnvironment[]> {
    const claims = await readClaims(this.kubeDir, this.instance);
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
    const containers = await this.docker.docker.listContainers({ all: true, filters: managedFilters(this.instance) });
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
