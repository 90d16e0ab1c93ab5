/**
 * The EnvironmentDriver seam. Everything above it (checks, sessions, terminals)
 * is driver-agnostic; a new backend is one new file implementing this interface.
 * Every host a driver creates carries the toolbox at /.labforge (toolbox.ts): lifecycle
 * scripts and terminals start through it.
 */
import { z } from 'zod';
import type { DockerHost, LabEnvironment } from '../labs/schema';
import type { TerminalProcess } from './terminal-process';

export type { TerminalExit, TerminalProcess } from './terminal-process';

/** Labels put on every resource a driver creates, so the reconciler can find them. */
export const LABELS = {
  managed: 'labforge.managed',
  session: 'labforge.session',
  host: 'labforge.host',
  lab: 'labforge.lab',
  role: 'labforge.role',
  /** Which Labforge platform made it (its database's instance name, shared by its replicas): a reconciler only touches its own. */
  instance: 'labforge.instance',
} as const;

/** Where every host carries the toolbox (toolbox.ts): trusted static tools, read-only. */
export const TOOLBOX_DIR = '/.labforge';
export const TOOLBOX_BIN = `${TOOLBOX_DIR}/bin`;
/** The learner-side launcher in the toolbox (see toolbox-sandbox.ts). */
export const SANDBOX = `${TOOLBOX_BIN}/lf-sandbox`;

export interface EnvironmentSpec {
  /** Owner of the environment: a session id, or `pool-<id>` for a warm-pool member. */
  owner: string;
  lab: string;
  /** Absolute path of the lab folder, for host `files:`. */
  labRoot: string;
  environment: LabEnvironment;
}

export interface HostHandle {
  name: string;
  /** Driver-specific reference (a container id for Docker). */
  ref: string;
  address?: string;
  spec: DockerHost;
}

/** Everything needed to reach an environment again, also after a server restart (stored as JSON). */
export interface Environment {
  driver: string;
  owner: string;
  lab: string;
  hosts: HostHandle[];
  /** Driver-specific extras (network id, cluster name, ...). */
  meta: Record<string, string>;
}

export interface ProgressStep {
  step: string;
  status: 'running' | 'done' | 'failed';
  ms?: number;
  detail?: string;
}
export type ProgressFn = (p: ProgressStep) => void;

/**
 * Runs creation steps the way every driver reports them: `running`, then `done` or `failed` with
 * the time taken; a cancelled `signal` stops before the next step starts.
 */
export function progressSteps(progress: ProgressFn, signal?: AbortSignal) {
  return async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    if (signal?.aborted) throw new EnvironmentError('environment creation was cancelled');
    const t = Date.now();
    progress({ step, status: 'running' });
    try {
      const out = await fn();
      progress({ step, status: 'done', ms: Date.now() - t });
      return out;
    } catch (err) {
      progress({ step, status: 'failed', ms: Date.now() - t, detail: (err as Error).message });
      throw err;
    }
  };
}

/** Owners end up in resource names (containers, networks, clusters, claim files): one rule for every driver. */
const ownerSchema = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'must be letters, digits, _ . - (max 63)');

export function checkOwner(owner: string): void {
  const parsed = ownerSchema.safeParse(owner);
  if (!parsed.success) throw new EnvironmentError(`invalid environment owner "${owner}": ${parsed.error.issues[0].message}`);
}

export interface ExecOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  user?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export interface ReadOptions {
  /**
   * Refuse (FileRefusedError, too_big) a file larger than this, before its content is read and
   * while it streams. Default READ_LIMIT_BYTES.
   */
  maxBytes?: number;
}

/** What readFile accepts when the caller names no limit. */
export const READ_LIMIT_BYTES = 16 * 1024 * 1024;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
  /** The engine could not start argv[0] at all (no such program, no such user): stderr says why. */
  notStarted?: boolean;
}

/** UDP datagrams sent from a host's own address (see EnvironmentDriver.inject). */
export interface Datagrams {
  address: string;
  port: number;
  payload: Buffer;
  count: number;
  intervalMs: number;
}

/** Where a capture's output goes (EnvironmentDriver.capture). */
export interface CaptureSink {
  /**
   * One line as `tcpdump -l -n -tt -v` prints the environment network's multicast and IGMP
   * packets (lib/traffic/parse.ts reads it): first what the capture kept from before, then live.
   */
  onLine(line: string): void;
  /** One line of the capturing program's diagnostics (tcpdump's stderr: its banner, or an error). */
  onDiagnostic(line: string): void;
}

/** A running capture of an environment's network, as lib/traffic reads it. */
export interface PacketCapture {
  /** Resolves when the output ends: the capture stopped, the environment went, or stop() was called. */
  readonly ended: Promise<void>;
  /** Address → host name on the captured network, as the engine knows it (not DNS, which a learner's host could make lie). */
  addresses(): Promise<Map<string, string>>;
  /**
   * The groups a host has joined, as its kernel lists them (`/proc/net/igmp` text), read by the
   * platform: hosts that joined before the capture started are known only from this.
   */
  memberships(host: string): Promise<string>;
  /** Stops reading; resolves once the output is closed. What the driver kept may be replayed by a later capture(). */
  stop(): Promise<void>;
}

export interface TerminalOptions {
  cols: number;
  rows: number;
  /** Marker passed to the shell so the driver can end the whole process group later. */
  terminalId: string;
}

export interface FoundEnvironment {
  owner: string;
  lab: string;
  /** Resource ids found (containers, networks, clusters). */
  resources: string[];
}

/** One host as the engine sees it now (EnvironmentDriver.hosts). */
export interface HostState {
  /** A host of the lab, or a part of the environment the lab does not name (a kind node container). */
  host: string;
  state: 'running' | 'stopped' | 'gone';
  /** For `stopped` and `gone`: what happened, in words for the learner ("it ran out of memory (limit 128 MiB)"). */
  reason?: string;
  /** ISO times from the engine: when the host last started, and when it stopped. */
  startedAt?: string;
  finishedAt?: string;
}

export interface Problem {
  what: string;
  fix: string;
}

/**
 * What one host used of its limits, as the platform read it (not the learner: see
 * cgroup-counters.ts). lib/sessions/host-limits.ts turns a change into a notice or a stop.
 */
export interface HostLimitReading {
  host: string;
  /** Whether the host's container runs now (a stopped one has no counters: they restart at 0). */
  running: boolean;
  /** What the lab allows it, in bytes and processes. */
  limits: { memory: number; pids: number; disk: number };
  /**
   * The kernel's counters since the host last started: processes it killed for memory
   * (`oom_kill`) and forks it refused at the pids limit (`pids_max`). Absent when unreadable.
   */
  counters?: { oom_kill: number; pids_max: number };
  /** Bytes written to the host's own layer; `enforced`: the engine limits them itself. Absent when unknown. */
  disk?: { written: number; enforced: boolean };
  /** Why counters or disk could not be read (a human sentence), when they could not. */
  error?: string;
}

export interface EnvironmentDriver {
  readonly name: string;
  /**
   * What is missing on this machine for the driver to work; with a lab's environment, also what
   * that lab needs beyond it (a newer kernel, cgroup v2). Empty when ready.
   */
  prerequisites(environment?: LabEnvironment): Promise<Problem[]>;
  /**
   * Resolves when the backend answers right now, throws saying why not: cheap and without side
   * effects, for readiness probes (GET /readyz), asked often. Optional: a driver that runs on
   * another driver's backend (Kind on Docker) leaves it to that one.
   */
  ping?(): Promise<void>;
  create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal): Promise<Environment>;
  /**
   * Runs argv in a host as root. Only a program from the toolbox (`/.labforge/...`) keeps the
   * platform's full capabilities; anything else runs through lf-sandbox, like a learner's own.
   */
  exec(env: Environment, host: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** A regular file's content (symlinks followed inside the host); anything else, or too big: FileRefusedError. */
  readFile(env: Environment, host: string, path: string, opts?: ReadOptions): Promise<Buffer>;
  writeFile(env: Environment, host: string, path: string, content: Buffer | string, mode?: number): Promise<void>;
  /**
   * The host's shell with a terminal, running inside the host, never on the platform machine;
   * resolves once it has started. Rejects with a human message (host gone, not running).
   */
  openTerminal(env: Environment, host: string, opts: TerminalOptions): Promise<TerminalProcess>;
  /** Ends every process a terminal started (closing the terminal's stream or local client does not). */
  closeTerminal(env: Environment, host: string, terminalId: string): Promise<void>;
  /**
   * Sends datagrams from `source`'s address without running anything inside a learner host: a
   * process the learner can neither see nor read (Docker: a sidecar in the host's network
   * namespace). `source` is a host name, or `pod/[NAMESPACE/]NAME` for drivers with pods (Kind).
   */
  inject(env: Environment, source: string, datagrams: Datagrams): Promise<void>;
  /**
   * Starts capturing the environment's network traffic, or picks up a capture that already runs
   * (after a server restart too), and feeds its output to `sink`. Optional: the Traffic tab says
   * when an environment's driver has none.
   */
  capture?(env: Environment, sink: CaptureSink): Promise<PacketCapture>;
  /** `running` when every host is up. */
  health(env: Environment): Promise<{ ok: boolean; detail?: string }>;
  /**
   * Each host's state, for the watch pass (lib/sessions/host-recovery.ts): a `stopped` host can be
   * brought back by `restartHost` (its disk is kept), a `gone` one cannot and fails the session.
   * Throws when the engine cannot be asked at all. Optional: without it the session falls back
   * to `health()` and any broken host fails the session.
   */
  hosts?(env: Environment): Promise<HostState[]>;
  /**
   * Starts a stopped host again (files kept, processes not) and waits until it runs; returns its
   * handle, whose address may have changed. A running host is left alone.
   */
  restartHost?(env: Environment, host: string): Promise<HostHandle>;
  destroy(env: Environment): Promise<void>;
  /** Everything this driver created on this machine, found by label. */
  list(): Promise<FoundEnvironment[]>;
  /** Removes what `list` found for an owner, without needing the Environment record. */
  destroyOwner(owner: string): Promise<void>;
  /** Limit counters and written bytes of every host (optional: drivers that cannot read them leave it out). */
  limits?(env: Environment): Promise<HostLimitReading[]>;
  /** Stops a host that went past a limit the engine does not enforce (disk): it keeps what it wrote. */
  containHost?(env: Environment, host: string): Promise<void>;
}

export class EnvironmentError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/**
 * A file readFile will not read: not a regular file (a directory, device, named pipe, socket,
 * symlink loop), or larger than the caller's limit. Decided from the file's metadata, before any of
 * its content is buffered. `message` names the path and what it is, for learners.
 */
export class FileRefusedError extends EnvironmentError {
  constructor(
    readonly path: string,
    readonly reason: 'not_a_file' | 'too_big',
    message: string,
    readonly details: {
      /** not_a_file: what the path is, "a named pipe", "a symlink to /dev/zero, a character device". */
      what?: string;
      /** too_big: the size seen and the limit. */
      size?: number;
      limit?: number;
    } = {},
  ) {
    super(message);
    this.name = 'FileRefusedError';
  }
}

/** By shape, not instanceof: route handlers are bundled apart from the driver that threw (see runtime/index.ts). */
export function isFileRefused(e: unknown): e is FileRefusedError {
  return e instanceof Error && e.name === 'FileRefusedError' && typeof (e as FileRefusedError).reason === 'string';
}

/** 62914560 → "60 MiB", 100000 → "98 KiB", 12 → "12 bytes" (rounded up, so a limit is never shown as met). */
export function formatBytes(n: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      const v = n / size;
      return `${v >= 10 || Number.isInteger(v) ? Math.ceil(v) : Math.ceil(v * 10) / 10} ${unit}`;
    }
  }
  return `${n} byte${n === 1 ? '' : 's'}`;
}

export function hostOf(env: Environment, name: string): HostHandle {
  const h = env.hosts.find((x) => x.name === name);
  if (!h) throw new EnvironmentError(`no host "${name}" in this environment (hosts: ${env.hosts.map((x) => x.name).join(', ')})`);
  return h;
}
