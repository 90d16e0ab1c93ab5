/**
 * The Docker driver: one private bridge network and one container per host,
 * all labelled so the reconciler can find them after a crash; behind the host
 * boundary of docker/boundary.ts (capabilities, firewall, disk). Talks to the
 * Engine API (dockerode); only terminals use the `docker` CLI, because a pty
 * needs a real local process (node-pty) to attach to.
 */
import Dockerode from 'dockerode';
import * as pty from 'node-pty';
import { z } from 'zod';
import { sizeBytes, type DockerHost } from '../../labs/schema';
import { log as rootLog } from '../../base/log';
import { which } from '../../base/which';
import {
  EnvironmentError,
  LABELS,
  SANDBOX,
  TOOLBOX_DIR,
  hostOf,
  type Environment,
  type EnvironmentDriver,
  type EnvironmentSpec,
  type ExecOptions,
  type ExecResult,
  type FoundEnvironment,
  type Datagrams,
  type HostHandle,
  type HostState,
  type Problem,
  type ProgressFn,
  type ReadOptions,
  type TerminalOptions,
} from '../driver';
import { killMarked, runExec } from './exec';
import { copyHostFiles, readContainerFile, writeContainerFile } from './files';
import { ImageBuilder } from '../images/build';
import { Toolbox, toolboxMount } from './toolbox';
import { sendFromHost } from './inject';
import { engineStartedAt, inspectHosts, startHost } from './hosts';
import { readHostLimits, stopHost } from './disk';
import { bridgeName, DEFAULT_CAPABILITIES, diskLimitSupported, ensureHostFirewall, type FirewallMode } from './boundary';

const log = rootLog.child({ module: 'docker' });

/**
 * Only toolbox programs run with the platform's full capabilities (the one capability more than
 * learners have is what keeps running checks out of their reach, docs/security.md). Anything
 * else, `sh` or `/usr/bin/ss` alike, may be the learner's own program: it runs sandboxed, as a
 * learner process would, so even a planted binary can never trace a check.
 */
export function withinBoundary(argv: string[]): string[] {
  return argv[0].startsWith(`${TOOLBOX_DIR}/`) ? argv : [SANDBOX, ...argv];
}

/** `require`: refuse to create hosts whose disk cannot be limited; `best-effort`: warn; `off`: do not limit. */
export type DiskLimits = 'require' | 'best-effort' | 'off';

/** Owners end up in container and network names. */
const ownerSchema = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'must be letters, digits, _ . - (max 63)');
const terminalSchema = z.object({
  cols: z.number().int().min(1).max(1000),
  rows: z.number().int().min(1).max(1000),
  terminalId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ or - (max 64)'),
});

export const networkName = (owner: string) => `lf-${owner}`;
export const containerName = (owner: string, host: string) => `lf-${owner}-${host}`;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}
/** The engine's own message, without dockerode's "(HTTP code 404) no such container -" prefix. */
function reason(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return e.json?.message ?? e.message ?? String(err);
}
const ignoreGone = (err: unknown) => {
  if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
};

/** Like Promise.all, but waits for every task, so nothing is still being created while we clean up. */
async function allSettledOrThrow<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export class DockerDriver implements EnvironmentDriver {
  readonly name = 'docker';
  readonly docker: Dockerode;
  readonly images: ImageBuilder;
  private readonly toolbox: Toolbox;
  /** Set by a server: labels what it creates, and limits list() to those (see LABELS.instance). */
  readonly instance?: string;

  private readonly firewall: FirewallMode;
  private readonly diskLimits: DiskLimits;
  private boundary?: Promise<{ diskLimit: boolean }>;
  /** The engine start the boundary was checked under: a restarted engine gets it checked again. */
  private boundaryEngine?: number;

  constructor(opts: { docker?: Dockerode; images?: ImageBuilder; instance?: string; firewall?: FirewallMode; diskLimits?: DiskLimits } = {}) {
    this.docker = opts.docker ?? new Dockerode();
    this.images = opts.images ?? new ImageBuilder({ docker: this.docker });
    this.toolbox = new Toolbox(this.docker);
    this.instance = opts.instance;
    this.firewall = opts.firewall ?? 'on';
    this.diskLimits = opts.diskLimits ?? 'best-effort';
  }

  /**
   * The host firewall for lab bridges and whether disks can be limited: checked once per
   * driver, before the first environment (docker/boundary.ts). A failure is not cached.
   */
  async ensureBoundary(): Promise<{ diskLimit: boolean }> {
    // Docker rebuilds its own iptables chains when it starts; whether ours survived is checked
    // again (idempotently) after every engine start, before a host is created or restarted.
    const engine = (await this.engineStartedAt())?.getTime();
    if (engine !== this.boundaryEngine) {
      this.boundary = undefined;
      this.boundaryEngine = engine;
    }
    this.boundary ??= (async () => {
      const base = await this.images.ensure('labforge/base');
      if (this.firewall === 'on') await ensureHostFirewall(this.docker, base);
      const diskLimit = this.diskLimits !== 'off' && (await diskLimitSupported(this.docker, base));
      if (!diskLimit && this.diskLimits === 'require')
        throw new EnvironmentError(
          "this Docker engine cannot limit a host's disk (it needs overlay2 on XFS mounted with pquota)",
          'run scripts/setup-machine.sh on a kernel with XFS quotas (it gives dockerd such a data root), or set LABFORGE_DISK_LIMITS=best-effort',
        );
      if (!diskLimit && this.diskLimits === 'best-effort')
        log.warn("learner hosts' disk is not limited: Docker needs overlay2 on XFS with pquota (docs/security.md)");
      return { diskLimit };
    })();
    this.boundary.catch(() => (this.boundary = undefined));
    return this.boundary;
  }

  async prerequisites(): Promise<Problem[]> {
    const problems: Problem[] = [];
    try {
      await this.docker.ping();
    } catch {
      problems.push({ what: 'Docker engine not reachable at /var/run/docker.sock', fix: 'install docker.io and start dockerd' });
    }
    if (!which('docker')) {
      problems.push({ what: 'docker CLI not found on PATH (terminals run `docker exec -it`)', fix: 'install docker.io (or docker-ce-cli)' });
    }
    return problems;
  }

  async create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal): Promise<Environment> {
    if (spec.environment.driver !== 'docker') {
      throw new EnvironmentError(`the docker driver cannot create a "${spec.environment.driver}" environment`);
    }
    const owner = ownerSchema.safeParse(spec.owner);
    if (!owner.success) throw new EnvironmentError(`invalid environment owner "${spec.owner}": ${owner.error.issues[0].message}`);
    const hosts = spec.environment.hosts;
    const net = networkName(spec.owner);
    const created: { containers: string[]; network?: string } = { containers: [] };
    const labels = (host?: string) => ({
      [LABELS.managed]: '1',
      [LABELS.session]: spec.owner,
      [LABELS.lab]: spec.lab,
      ...(this.instance ? { [LABELS.instance]: this.instance } : {}),
      ...(host ? { [LABELS.host]: host } : {}),
    });
    const checkAbort = () => {
      if (signal?.aborted) throw new EnvironmentError('environment creation was cancelled');
    };
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      checkAbort();
      const t = Date.now();
      progress({ step: name, status: 'running' });
      try {
        const out = await fn();
        progress({ step: name, status: 'done', ms: Date.now() - t });
        return out;
      } catch (err) {
        progress({ step: name, status: 'failed', ms: Date.now() - t, detail: (err as Error).message });
        throw err;
      }
    };

    const started = Date.now();
    try {
      const images = await step('Preparing images', () => this.ensureImages(hosts, progress));
      const toolbox = await this.ensureToolbox(progress);
      const { diskLimit } = await this.ensureBoundary();
      const network = await step('Creating network', async () => {
        try {
          return await this.docker.createNetwork({
            Name: net,
            Driver: 'bridge',
            CheckDuplicate: true,
            Labels: labels(),
            // The bridge's name puts it under the host firewall rules (docker/boundary.ts): no way
            // to the platform machine, and none out of the lab unless it asks for egress.
            Options: { 'com.docker.network.bridge.name': bridgeName(spec.owner, spec.environment.driver === 'docker' && !!spec.environment.network?.egress) },
          });
        } catch (err) {
          throw new EnvironmentError(
            statusOf(err) === 409
              ? `network ${net} already exists: owner "${spec.owner}" already has an environment`
              : `creating network ${net} failed: ${reason(err)}`,
          );
        }
      });
      created.network = network.id;

      const containers = await step(`Creating ${hosts.length} host${hosts.length === 1 ? '' : 's'}`, () =>
        allSettledOrThrow(
          hosts.map(async (h) => {
            const c = await this.createContainer(
              spec.owner,
              h,
              images.get(h.image)!,
              net,
              labels(h.name),
              toolbox,
              diskLimit ? String(sizeBytes(h.resources.disk)) : null,
            ).catch((err) => {
              throw new EnvironmentError(`creating host ${h.name} failed: ${reason(err)}`);
            });
            created.containers.push(c.id);
            return c;
          }),
        ),
      );

      const handles = await step(`Starting ${hosts.length} host${hosts.length === 1 ? '' : 's'}`, () =>
        allSettledOrThrow(
          containers.map(async (c, i): Promise<HostHandle> => {
            await c.start().catch((err) => {
              throw new EnvironmentError(`starting host ${hosts[i].name} failed: ${reason(err)}`);
            });
            const info = await c.inspect();
            return { name: hosts[i].name, ref: c.id, address: info.NetworkSettings.Networks[net]?.IPAddress || undefined, spec: hosts[i] };
          }),
        ),
      );

      if (hosts.some((h) => h.files.length)) {
        await step('Copying files', () =>
          allSettledOrThrow(
            containers.map((c, i) =>
              copyHostFiles(this.docker, c, hosts[i], spec.labRoot).catch((err) => {
                throw new EnvironmentError(`copying files into host ${hosts[i].name} failed: ${(err as Error).message}`);
              }),
            ),
          ),
        );
      }
      checkAbort();
      log.info({ owner: spec.owner, lab: spec.lab, hosts: hosts.length, ms: Date.now() - started }, 'environment created');
      return { driver: this.name, owner: spec.owner, lab: spec.lab, hosts: handles, meta: { network: net, networkId: network.id } };
    } catch (err) {
      log.warn({ owner: spec.owner, err: (err as Error).message }, 'environment creation failed, cleaning up');
      await this.removeResources(created.containers, created.network ? [created.network] : []).catch((e) =>
        log.error({ owner: spec.owner, err: String(e) }, 'cleanup after failed create also failed'),
      );
      if (err instanceof EnvironmentError) throw err;
      throw new EnvironmentError(`creating the environment failed: ${reason(err)}`);
    }
  }

  /** Each distinct image once; a missing image names the hosts that need it. */
  private async ensureImages(hosts: DockerHost[], progress: ProgressFn): Promise<Map<string, string>> {
    const refs = new Map<string, string>();
    for (const image of new Set(hosts.map((h) => h.image))) {
      try {
        refs.set(image, await this.images.ensure(image, progress));
      } catch (err) {
        const users = hosts
          .filter((h) => h.image === image)
          .map((h) => h.name)
          .join(', ');
        const e = err as EnvironmentError;
        throw new EnvironmentError(`host ${users}: ${e.message}`, e.hint);
      }
    }
    return refs;
  }

  /** The toolbox volume (toolbox.ts), built from labforge/base the first time. */
  async ensureToolbox(progress: ProgressFn = () => {}): Promise<string> {
    const base = await this.images.ensure('labforge/base', progress);
    return this.toolbox.ensure(base, progress);
  }

  /** `diskSize`: the engine's StorageOpt size for this host, when the engine can limit disks. */
  private createContainer(owner: string, h: DockerHost, image: string, net: string, labels: Record<string, string>, toolbox: string, diskSize: string | null) {
    const env = { LANG: 'C.UTF-8', TERM: 'xterm-256color', ...h.env };
    const memory = sizeBytes(h.resources.memory);
    return this.docker.createContainer({
      name: containerName(owner, h.name),
      Hostname: h.name,
      Image: image,
      Cmd: ['sleep', 'infinity'],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: h.workdir,
      Labels: labels,
      HostConfig: {
        NetworkMode: net,
        Memory: memory,
        MemorySwap: memory,
        NanoCpus: Math.round(h.resources.cpus * 1e9),
        PidsLimit: h.resources.pids,
        // docker-init reaps orphans: lab scripts leave plenty behind.
        Init: true,
        Mounts: [toolboxMount(toolbox)],
        CapDrop: ['ALL'],
        CapAdd: [...new Set([...DEFAULT_CAPABILITIES, ...h.capabilities])],
        SecurityOpt: ['no-new-privileges'],
        ...(diskSize ? { StorageOpt: { size: diskSize } } : {}),
        RestartPolicy: { Name: 'no' },
      },
      NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: [h.name] } } },
    });
  }

  private container(env: Environment, host: string): Dockerode.Container {
    return this.docker.getContainer(hostOf(env, host).ref);
  }

  /** Turns engine errors about the container into messages naming the host. */
  private hostError(err: unknown, host: string, what: string): EnvironmentError {
    if (err instanceof EnvironmentError) return err;
    if (statusOf(err) === 404) return new EnvironmentError(`host ${host} is gone (its container was removed)`, 'start the lab again');
    if (statusOf(err) === 409) return new EnvironmentError(`host ${host} is not running`, `press Restart ${host} on the lab page`);
    return new EnvironmentError(`${what} in host ${host} failed: ${reason(err)}`);
  }

  async exec(env: Environment, host: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (!argv.length) throw new EnvironmentError('exec needs a command');
    try {
      return await runExec(this.docker, this.container(env, host), withinBoundary(argv), opts);
    } catch (err) {
      throw this.hostError(err, host, `running ${argv[0]}`);
    }
  }

  async readFile(env: Environment, host: string, file: string, opts: ReadOptions = {}): Promise<Buffer> {
    let data: Buffer | undefined;
    try {
      data = await readContainerFile(this.container(env, host), file, opts);
    } catch (err) {
      throw this.hostError(err, host, `reading ${file}`);
    }
    if (!data) throw new EnvironmentError(`no file ${file} in host ${host}`);
    return data;
  }

  async writeFile(env: Environment, host: string, file: string, content: Buffer | string, mode = 0o644): Promise<void> {
    try {
      await writeContainerFile(this.docker, this.container(env, host), file, content, mode);
    } catch (err) {
      throw this.hostError(err, host, `writing ${file}`);
    }
  }

  openTerminal(env: Environment, host: string, opts: TerminalOptions): pty.IPty {
    const parsed = terminalSchema.safeParse(opts);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new EnvironmentError(`invalid terminal options: ${issue.path.join('.')} ${issue.message}`);
    }
    const o = parsed.data;
    const h = hostOf(env, host);
    const docker = which('docker');
    if (!docker) throw new EnvironmentError('docker CLI not found on PATH', 'install docker.io (or docker-ce-cli)');
    // The marker variable lets closeTerminal find the shell and all it started; lf-sandbox makes
    // it a learner process (docs/security.md: learner processes cannot reach running checks).
    const args = [
      'exec',
      '-it',
      '-e',
      'TERM=xterm-256color',
      '-e',
      `LABFORGE_TERMINAL=${o.terminalId}`,
      '-w',
      h.spec.workdir,
      h.ref,
      SANDBOX,
      h.spec.shell,
      '-l',
    ];
    return pty.spawn(docker, args, {
      name: 'xterm-256color',
      cols: o.cols,
      rows: o.rows,
      cwd: process.cwd(),
      env: process.env as Record<string, string>,
      // Output as Buffers: no UTF-8 decode + re-encode per read, and bytes pass through exactly
      // (a read may end mid-character; the browser's xterm decodes the stream).
      encoding: null,
    });
  }

  async closeTerminal(env: Environment, host: string, terminalId: string): Promise<void> {
    const check = terminalSchema.shape.terminalId.safeParse(terminalId);
    if (!check.success) throw new EnvironmentError(`invalid terminal id "${terminalId}"`);
    const id = check.data;
    try {
      await killMarked(this.docker, this.container(env, host), `LABFORGE_TERMINAL=${id}`);
    } catch (err) {
      const e = this.hostError(err, host, 'closing a terminal');
      // Nothing left to end when the host itself is gone or stopped.
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw e;
    }
  }

  async inject(env: Environment, host: string, datagrams: Datagrams): Promise<void> {
    const h = hostOf(env, host);
    const labels = {
      [LABELS.managed]: '1',
      [LABELS.session]: env.owner,
      [LABELS.lab]: env.lab,
      ...(this.instance ? { [LABELS.instance]: this.instance } : {}),
    };
    try {
      await sendFromHost(this.docker, h.ref, await this.images.ensure('labforge/base'), labels, datagrams);
    } catch (err) {
      throw this.hostError(err, host, `sending to ${datagrams.address}:${datagrams.port}`);
    }
  }

  async health(env: Environment): Promise<{ ok: boolean; detail?: string }> {
    const states = await Promise.all(
      env.hosts.map(async (h) => {
        try {
          const info = await this.docker.getContainer(h.ref).inspect();
          return { host: h.name, status: info.State.Status };
        } catch (err) {
          if (statusOf(err) === 404) return { host: h.name, status: 'gone' };
          throw err;
        }
      }),
    );
    const bad = states.find((s) => s.status !== 'running');
    return bad ? { ok: false, detail: `host ${bad.host} is ${bad.status}` } : { ok: true };
  }

  /** When the engine last started (docker/hosts.ts). */
  engineStartedAt(): Promise<Date | undefined> {
    return engineStartedAt(this.docker);
  }

  hosts(env: Environment): Promise<HostState[]> {
    return inspectHosts(this.docker, env);
  }

  /** Starts a stopped host again with the firewall verified first (docker/hosts.ts). */
  async restartHost(env: Environment, host: string): Promise<HostHandle> {
    try {
      return await startHost(this.docker, env, host, () => this.ensureBoundary());
    } catch (err) {
      if (statusOf(err) === 404) throw new EnvironmentError(`host ${host} is gone (its container was removed)`, 'start the lab again');
      throw this.hostError(err, host, 'restarting');
    }
  }

  async destroy(env: Environment): Promise<void> {
    // Everything with the owner's label first, including what the record does not know about
    // (a Traffic capture sidecar keeps the network busy until it is gone); then the record's own refs.
    await this.destroyOwner(env.owner);
    const networks = env.meta.networkId ? [env.meta.networkId] : [];
    await this.removeResources(
      env.hosts.map((h) => h.ref),
      networks,
    );
  }

  async destroyOwner(owner: string): Promise<void> {
    const filters = { label: [`${LABELS.managed}=1`, `${LABELS.session}=${owner}`] };
    const [containers, networks] = await Promise.all([this.docker.listContainers({ all: true, filters }), this.docker.listNetworks({ filters })]);
    await this.removeResources(
      containers.map((c) => c.Id),
      networks.map((n) => n.Id),
    );
  }

  /** Limit counters and disk use of every host: one engine call plus one cgroup read per host (docker/disk.ts). */
  limits(env: Environment) {
    return readHostLimits(this.docker, env);
  }
  containHost(env: Environment, host: string) {
    return stopHost(this.docker, env, host);
  }

  /** Containers first (a network with endpoints cannot go), in parallel; already gone is fine. */
  private async removeResources(containers: string[], networks: string[]): Promise<void> {
    await Promise.all(containers.map((id) => this.docker.getContainer(id).remove({ force: true, v: true }).catch(ignoreGone)));
    await Promise.all(
      networks.map(async (id) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await this.docker.getNetwork(id).remove();
          } catch (err) {
            if (statusOf(err) === 404) return;
            // 403 "has active endpoints" while a concurrent container removal finishes.
            if (attempt >= 10) throw new EnvironmentError(`removing network ${id.slice(0, 12)} failed: ${reason(err)}`);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }),
    );
  }

  async list(): Promise<FoundEnvironment[]> {
    const filters = { label: [`${LABELS.managed}=1`, ...(this.instance ? [`${LABELS.instance}=${this.instance}`] : [])] };
    const [containers, networks] = await Promise.all([this.docker.listContainers({ all: true, filters }), this.docker.listNetworks({ filters })]);
    const byOwner = new Map<string, FoundEnvironment>();
    const add = (labels: Record<string, string> | undefined, id: string) => {
      const owner = labels?.[LABELS.session];
      if (!owner) return;
      const found = byOwner.get(owner) ?? { owner, lab: labels?.[LABELS.lab] ?? '', resources: [] };
      found.resources.push(id);
      byOwner.set(owner, found);
    };
    containers.forEach((c) => add(c.Labels, c.Id));
    networks.forEach((n) => add(n.Labels, n.Id));
    return [...byOwner.values()];
  }
}
