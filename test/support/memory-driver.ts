/**
 * A seam fake with no engine: environments whose hosts "run" in memory. Every script exits 0
 * (so every check passes) unless a test sets `failWith` (the next checks fail with that FAIL
 * message), files live in a map, hosts are always running. For tests of what sits
 * above the sessions (HTTP routes, credentials) that need real sessions but no containers.
 */
import type { Environment, EnvironmentDriver, EnvironmentSpec, ExecResult, HostHandle } from '../../lib/environments/driver';

export class MemoryDriver implements EnvironmentDriver {
  readonly name = 'memory';
  readonly files = new Map<string, Buffer>();
  /** While set, every script fails printing `FAIL: <failWith>`. */
  failWith: string | undefined;

  async prerequisites() {
    return [];
  }

  async create(spec: EnvironmentSpec): Promise<Environment> {
    const hosts: HostHandle[] = spec.environment.hosts.map((h, i) => ({ name: h.name, ref: `${spec.owner}-${h.name}`, address: `10.0.0.${i + 2}`, spec: h }));
    return { driver: this.name, owner: spec.owner, lab: spec.lab, hosts, meta: {} };
  }

  async exec(): Promise<ExecResult> {
    if (this.failWith !== undefined) return { exitCode: 1, stdout: `FAIL: ${this.failWith}\n`, stderr: '', timedOut: false, durationMs: 1 };
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 1 };
  }

  async readFile(env: Environment, host: string, path: string): Promise<Buffer> {
    const buf = this.files.get(`${env.owner}:${host}:${path}`);
    if (!buf) throw new Error(`No such file: ${path}`);
    return buf;
  }

  async writeFile(env: Environment, host: string, path: string, content: Buffer | string): Promise<void> {
    this.files.set(`${env.owner}:${host}:${path}`, Buffer.from(content));
  }

  async openTerminal(): Promise<never> {
    throw new Error('the memory driver has no terminals');
  }

  async closeTerminal() {}
  async inject() {}

  async health() {
    return { ok: true };
  }

  async hosts(env: Environment) {
    return env.hosts.map((h) => ({ host: h.name, state: 'running' as const }));
  }

  async restartHost(env: Environment, host: string): Promise<HostHandle> {
    const handle = env.hosts.find((h) => h.name === host);
    if (!handle) throw new Error(`no host ${host}`);
    return handle;
  }

  async destroy() {}
  async list() {
    return [];
  }
  async destroyOwner() {}
}
