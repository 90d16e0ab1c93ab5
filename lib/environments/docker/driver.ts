/**
 * The Docker driver: one private bridge network and one container per host,
 * all labelled so the reconciler can find them after a crash; behind the host
 * boundary of docker/boundary.ts (capabilities, firewall, disk). Talks to the
 * Engine API (dockerode), terminals too (docker/terminal.ts: an exec with a TTY).
 * Creation is docker/create.ts; this class holds what outlives one call: the
 * engine client, the image builder and the boundary check.
 */
import Dockerode from 'dockerode';
import { log as rootLog } from '../../base/log';
import {
  EnvironmentError,
  SANDBOX,
  TOOLBOX_DIR,
  hostOf,
  type CaptureSink,
  type Datagrams,
  type Environment,
  type EnvironmentDriver,
  type EnvironmentSpec,
  type ExecOptions,
  type ExecResult,
  type FoundEnvironment,
  type HostHandle,
  type HostState,
  type PacketCapture,
  type Problem,
  type ProgressFn,
  type ReadOptions,
  type TerminalOptions,
  type TerminalProcess,
} from '../driver';
import { runExec } from './exec';
import { readContainerFile, writeContainerFile } from './files';
import { ImageBuilder } from '../images/build';
import { Toolbox } from './toolbox';
import { sendFromHost } from './inject';
import { engineStartedAt, healthOf, inspectHosts, startHost } from './hosts';
import { readHostLimits, stopHost } from './disk';
import { diskLimitSupported, ensureHostFirewall, type FirewallMode } from './boundary';
import { createEnvironment } from './create';
import { hostError } from './errors';
import { engineLoad, listOwners, ownerLabels, removeOwner, removeResources, type EngineLoad } from './resources';
import { closeTerminal, openTerminal } from './terminal';
import { startCapture } from './capture';
import { hasSsh, startSshd } from './ssh';

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

  constructor(
    opts: {
      docker?: Dockerode;
      images?: ImageBuilder;
      instance?: string;
      firewall?: FirewallMode;
      diskLimits?: DiskLimits;
      /** For the default image builder: its scratch space and lock (the server's data dir), the Debian mirror and the download mirror. */
      dataDir?: string;
      debianMirror?: string;
      downloadMirror?: string;
      /** A fleet's other engines, to copy a missing image from (images/build.ts). */
      imagePeers?: () => Array<{ name: string; docker: Dockerode }>;
    } = {},
  ) {
    this.docker = opts.docker ?? new Dockerode();
    this.images =
      opts.images ??
      new ImageBuilder({ docker: this.docker, dataDir: opts.dataDir, mirror: opts.debianMirror, downloadMirror: opts.downloadMirror, peers: opts.imagePeers });
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
      problems.push({ what: `Docker engine not reachable at ${this.address()}`, fix: 'install docker.io and start dockerd' });
    }
    return problems;
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  /** Where the engine is reached, for messages: its socket path or host:port. */
  address(): string {
    const m = this.docker.modem as { socketPath?: string; host?: string; port?: number; protocol?: string };
    if (m.socketPath) return m.socketPath;
    return m.host ? `${m.protocol ?? 'http'}://${m.host}:${m.port ?? ''}` : 'DOCKER_HOST';
  }

  create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal): Promise<Environment> {
    return createEnvironment(this, this.name, spec, progress, signal);
  }

  /** The toolbox volume (toolbox.ts), built from labforge/base the first time. */
  async ensureToolbox(progress: ProgressFn = () => {}): Promise<string> {
    const base = await this.images.ensure('labforge/base', progress);
    return this.toolbox.ensure(base, progress);
  }

  private container(env: Environment, host: string): Dockerode.Container {
    return this.docker.getContainer(hostOf(env, host).ref);
  }

  async exec(env: Environment, host: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (!argv.length) throw new EnvironmentError('exec needs a command');
    try {
      return await runExec(this.docker, this.container(env, host), withinBoundary(argv), opts);
    } catch (err) {
      throw hostError(err, host, `running ${argv[0]}`);
    }
  }

  async readFile(env: Environment, host: string, file: string, opts: ReadOptions = {}): Promise<Buffer> {
    let data: Buffer | undefined;
    try {
      data = await readContainerFile(this.container(env, host), file, opts);
    } catch (err) {
      throw hostError(err, host, `reading ${file}`);
    }
    if (!data) throw new EnvironmentError(`no file ${file} in host ${host}`);
    return data;
  }

  async writeFile(env: Environment, host: string, file: string, content: Buffer | string, mode = 0o644): Promise<void> {
    try {
      await writeContainerFile(this.docker, this.container(env, host), file, content, mode);
    } catch (err) {
      throw hostError(err, host, `writing ${file}`);
    }
  }

  openTerminal(env: Environment, host: string, opts: TerminalOptions): Promise<TerminalProcess> {
    return openTerminal(this.docker, env, host, opts);
  }

  closeTerminal(env: Environment, host: string, terminalId: string): Promise<void> {
    return closeTerminal(this.docker, env, host, terminalId);
  }

  async inject(env: Environment, host: string, datagrams: Datagrams): Promise<void> {
    const h = hostOf(env, host);
    try {
      await sendFromHost(this.docker, h.ref, await this.images.ensure('labforge/base'), ownerLabels(env.owner, env.lab, this.instance), datagrams);
    } catch (err) {
      throw hostError(err, host, `sending to ${datagrams.address}:${datagrams.port}`);
    }
  }

  /** A tcpdump sidecar on the session network (docker/capture.ts). */
  async capture(env: Environment, sink: CaptureSink): Promise<PacketCapture> {
    return startCapture(this.docker, env, await this.images.ensure('labforge/base'), this.instance, sink);
  }

  health(env: Environment): Promise<{ ok: boolean; detail?: string }> {
    return healthOf(this.docker, env);
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
      return await startHost(
        this.docker,
        env,
        host,
        () => this.ensureBoundary(),
        // Processes do not survive a stop: a host with the lab's SSH gets its sshd back.
        (c) => (hasSsh(env, host) ? startSshd(this.docker, c, host) : Promise.resolve()),
      );
    } catch (err) {
      throw hostError(err, host, 'restarting');
    }
  }

  async destroy(env: Environment): Promise<void> {
    // Everything with the owner's label first, including what the record does not know about
    // (a Traffic capture sidecar keeps the network busy until it is gone); then the record's own refs.
    await this.destroyOwner(env.owner);
    const networks = env.meta.networkId ? [env.meta.networkId] : [];
    await removeResources(
      this.docker,
      env.hosts.map((h) => h.ref),
      networks,
    );
  }

  destroyOwner(owner: string): Promise<void> {
    return removeOwner(this.docker, owner);
  }

  /** Limit counters and disk use of every host: one engine call plus one cgroup read per host (docker/disk.ts). */
  limits(env: Environment) {
    return readHostLimits(this.docker, env);
  }
  containHost(env: Environment, host: string) {
    return stopHost(this.docker, env, host);
  }

  list(): Promise<FoundEnvironment[]> {
    return listOwners(this.docker, this.instance);
  }

  /** CPUs, memory and running lab containers of this engine (a fleet places by it). */
  load(): Promise<EngineLoad> {
    return engineLoad(this.docker);
  }
}
