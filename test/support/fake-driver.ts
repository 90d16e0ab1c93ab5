/**
 * A controllable in-memory EnvironmentDriver for tests of what sits above the seam (warm pools):
 * creation takes `createMs`, `failNext` creations fail, and `live` is what exists.
 */
import type { Environment, EnvironmentDriver, EnvironmentSpec } from '../../lib/environments/driver';
import { sleep } from './wait';

export class FakeDriver implements EnvironmentDriver {
  readonly name = 'docker';
  live = new Set<string>();
  concurrent = 0;
  maxConcurrent = 0;
  failNext = 0;
  createMs = 30;
  prerequisites = async () => [];
  async create(spec: EnvironmentSpec): Promise<Environment> {
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      await sleep(this.createMs);
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('engine said no');
      }
      this.live.add(spec.owner);
      return { driver: 'docker', owner: spec.owner, lab: spec.lab, hosts: [], meta: {} };
    } finally {
      this.concurrent--;
    }
  }
  exec = async () => ({ exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 0 });
  readFile = async () => Buffer.from('');
  writeFile = async () => undefined;
  openTerminal = (): never => {
    throw new Error('not in the fake');
  };
  closeTerminal = async () => undefined;
  inject = async () => undefined;
  health = async (env: Environment) => ({ ok: this.live.has(env.owner), detail: 'gone' });
  async destroy(env: Environment) {
    this.live.delete(env.owner);
  }
  async destroyOwner(owner: string) {
    this.live.delete(owner);
  }
  list = async () => [...this.live].map((owner) => ({ owner, lab: 'x', resources: [] }));
}
