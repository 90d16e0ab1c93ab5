/**
 * The session layer's side of hosts that stop under a live session (issue #10 item 5): the watch
 * pass that records them for the learner (or fails the session when one is gone), the Restart
 * button, and the guard that answers a clear 409 to actions needing a stopped host. What to do
 * with a set of host states is decided in host-recovery.ts (pure); this applies it under the
 * session's lock.
 */
import type { SessionRow } from '../db/client';
import type { Environment, HostState } from '../environments/driver';
import type { Lab } from '../labs/schema';
import type { SessionContext } from './context';
import { SessionError } from './errors';
import { planHosts, readHostStates, restartedMessage, stoppedRefusal } from './host-recovery';
import { watchLimits } from './host-limits';
import { hostNames, parseHosts } from './hosts';

export class HostWatch {
  constructor(private ctx: SessionContext) {}

  /**
   * The learner's Restart button: starts a stopped host again (files kept, processes not) and
   * records it. A host that already runs is left alone (nothing changes): two browser tabs
   * pressing Restart at once both succeed. A host that is gone fails the session (409, the reason).
   */
  async restartHost(id: string, learnerId: string, host: string): Promise<void> {
    const { guards, repo } = this.ctx;
    await this.ctx.lock.run(id, async () => {
      const { row, lab } = await guards.owned(id, learnerId);
      guards.requireActive(row);
      if (!hostNames(lab).includes(host)) throw new SessionError('not_found', 'no such host');
      const driver = guards.driverFor(lab);
      if (!driver.restartHost) throw new SessionError('unavailable', `the ${driver.name} driver cannot restart hosts`);
      const env = guards.environmentOf(row);
      const states = await readHostStates(driver, env).catch((e: Error) => {
        throw new SessionError('unavailable', `the container engine cannot be reached: ${e.message}`);
      });
      await this.applyHostStates(row, lab, states);
      if (states.find((s) => s.host === host)?.state !== 'stopped') return;
      const handle = await driver.restartHost(env, host).catch((e: Error) => {
        throw new SessionError('unavailable', `restarting ${host} failed: ${e.message}`);
      });
      // The engine may hand the host another address on start (service tabs route by it).
      const hosts = env.hosts.map((h) => (h.name === host ? handle : h));
      await repo.setEnvironment(id, { ...env, hosts }, { touch: true });
      await repo.changeHost(id, host, { state: 'running', notice: { kind: 'restarted', message: restartedMessage(host) } });
      this.ctx.log.info({ session: id, host }, 'host restarted');
    });
  }

  /**
   * The watch pass (server.ts, every LABFORGE_WATCH_SECONDS): each active session's hosts as the
   * engine sees them now. An engine that cannot be asked at all changes nothing: that may pass.
   */
  async watchHosts(): Promise<void> {
    for (const row of await this.ctx.repo.active()) {
      const lab = this.ctx.deps.catalog.get(row.labSlug);
      if (!lab || !row.environment) continue;
      const env = this.ctx.guards.environmentOf(row);
      const states = await this.statesOf(row, lab).catch(() => undefined);
      if (states) await this.watchSession(row, lab, env, states);
    }
  }

  /**
   * One session of the watch pass, with its environment and its hosts' states as just read
   * (outside the lock). Each concern of the pass (limits, then stops) is one call, and takes the
   * session's lock itself when it writes.
   */
  private async watchSession(row: SessionRow, lab: Lab, env: Environment, states: HostState[]): Promise<void> {
    // Limits first (host-limits.ts): a rise of the kernel's counters is told, a host past its disk
    // is stopped and recorded as such, so the stop below finds it recorded already.
    const problem = await watchLimits(this.ctx.guards.driverFor(lab), env, parseHosts(row.hosts), (host, change) =>
      this.ctx.lock.run(row.id, () => this.ctx.repo.changeHost(row.id, host, change)),
    );
    if (problem) this.ctx.log.debug({ session: row.id, problem }, 'host limits not fully read');
    await this.recordStops(row, lab, states);
  }

  /**
   * Stopped hosts recorded, a gone one fails the session. When `states` call for a change, it is
   * decided again on a fresh read under the lock, so a Restart that ran meanwhile is never
   * overwritten by an old "stopped".
   */
  private async recordStops(row: SessionRow, lab: Lab, states: HostState[]): Promise<void> {
    const plan = planHosts(states, parseHosts(row.hosts), hostNames(lab), this.ctx.now());
    if (!plan.gone && !plan.changes.length) return;
    await this.ctx.lock.run(row.id, async () => {
      const fresh = await this.ctx.repo.find(row.id);
      if (fresh?.status !== 'active') return;
      const now = await this.statesOf(fresh, lab).catch(() => undefined);
      // A gone host has failed the session by then; the 409 it throws is for learners' actions only.
      if (now) await this.applyHostStates(fresh, lab, now).catch(() => undefined);
    });
  }

  /** The engine's word on the session's hosts now; rejects when the engine cannot be asked. */
  statesOf(row: SessionRow, lab: Lab): Promise<HostState[]> {
    return readHostStates(this.ctx.guards.driverFor(lab), this.ctx.guards.environmentOf(row));
  }

  /**
   * Brings the session's host record in line with `states` (host-recovery.ts). A gone host fails
   * the session and makes this throw the 409 a learner's action then gets. Call under the lock.
   */
  async applyHostStates(row: SessionRow, lab: Lab, states: HostState[]): Promise<void> {
    const plan = planHosts(states, parseHosts(row.hosts), hostNames(lab), this.ctx.now());
    if (plan.gone) {
      const why = `the environment broke (${plan.gone})`;
      this.ctx.log.warn({ session: row.id, states }, why);
      await this.ctx.ending.fail(row, lab, `${why}: start the lab again`);
      throw new SessionError('conflict', `this session failed: ${why}`);
    }
    for (const c of plan.changes) await this.ctx.repo.changeHost(row.id, c.host, { state: c.state, notice: c.notice });
  }

  /**
   * Actions that run in hosts answer a clear 409 when a host they need (`host`, or any) is
   * stopped, instead of the engine's error. Asks the engine, since the watch pass may be seconds
   * behind; `record`: also write what it saw (only under the session's lock). An engine that
   * cannot be asked lets the action try, and fail with its own error.
   */
  async requireHostsUp(row: SessionRow, lab: Lab, host?: string, { record = true } = {}): Promise<void> {
    const states = await this.statesOf(row, lab).catch(() => undefined);
    if (!states) return;
    if (record) await this.applyHostStates(row, lab, states);
    const names = host ? [host] : hostNames(lab);
    const stopped = states.filter((s) => s.state === 'stopped' && names.includes(s.host)).map((s) => s.host);
    if (stopped.length) throw new SessionError('conflict', stoppedRefusal(stopped), { hosts: stopped, retryable: true });
  }
}
