/**
 * The session layer's side of hosts that stop under a live session (issue #10 item 5): the watch
 * pass that records them for the learner (or fails the session when one is gone), the Restart
 * button, and the guard that answers a clear 409 to actions needing a stopped host. What to do
 * with a set of host states is decided in host-recovery.ts (pure); this applies it under the
 * session's lock. SessionService (service.ts) builds on this class.
 */
import type { SessionRow } from '../db/client';
import type { Environment, HostState } from '../environments/driver';
import type { Lab } from '../labs/schema';
import { SessionError } from './errors';
import { planHosts, readHostStates, restartedMessage, stoppedRefusal } from './host-recovery';
import { watchLimits } from './host-limits';
import { parseHosts } from './hosts';
import { KeyedLock } from './lock';
import { SessionStore } from './store';

export abstract class HostWatch extends SessionStore {
  /** One operation at a time per session (and per `learner:<id>` for starts). */
  protected lock = new KeyedLock();

  /** Ends the session as failed with `message`, removing its environment (service.ts). */
  protected abstract fail(row: SessionRow, lab: Lab | null, message: string): Promise<void>;

  /**
   * The learner's Restart button: starts a stopped host again (files kept, processes not) and
   * records it. A host that already runs is left alone (nothing changes): two browser tabs
   * pressing Restart at once both succeed. A host that is gone fails the session (409, the reason).
   */
  async restartHost(id: string, learnerId: string, host: string): Promise<void> {
    await this.lock.run(id, async () => {
      const { row, lab } = await this.owned(id, learnerId);
      this.requireActive(row);
      if (!this.hostNames(lab).includes(host)) throw new SessionError('not_found', 'no such host');
      const driver = this.driverFor(lab);
      if (!driver.restartHost) throw new SessionError('unavailable', `the ${driver.name} driver cannot restart hosts`);
      const env = this.environmentOf(row);
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
      await this.deps.db.session.update({ where: { id }, data: { environment: JSON.stringify({ ...env, hosts }), lastActiveAt: this.now() } });
      await this.changeHost(id, host, { state: 'running', notice: { kind: 'restarted', message: restartedMessage(host) } });
      this.log.info({ session: id, host }, 'host restarted');
    });
  }

  /**
   * The watch pass (server.ts, every LABFORGE_WATCH_SECONDS): each active session's hosts as the
   * engine sees them now. An engine that cannot be asked at all changes nothing: that may pass.
   */
  async watchHosts(): Promise<void> {
    const active = await this.deps.db.session.findMany({ where: { status: 'active' } });
    for (const row of active) {
      const lab = this.deps.catalog.get(row.labSlug);
      if (!lab || !row.environment) continue;
      const env = this.environmentOf(row);
      const states = await readHostStates(this.driverFor(lab), env).catch(() => undefined);
      if (states) await this.watchSession(row, lab, env, states);
    }
  }

  /**
   * One session of the watch pass, with its environment and its hosts' states as just read
   * (outside the lock). Each concern of the pass (stops here; resource limits may follow) is one
   * call, and takes the session's lock itself when it writes.
   */
  protected async watchSession(row: SessionRow, lab: Lab, env: Environment, states: HostState[]): Promise<void> {
    // Limits first (host-limits.ts): a rise of the kernel's counters is told, a host past its disk
    // is stopped and recorded as such, so the stop below finds it recorded already.
    const problem = await watchLimits(this.driverFor(lab), env, parseHosts(row.hosts), (host, change) =>
      this.lock.run(row.id, () => this.changeHost(row.id, host, change)),
    );
    if (problem) this.log.debug({ session: row.id, problem }, 'host limits not fully read');
    await this.recordStops(row, lab, states);
  }

  /**
   * Stopped hosts recorded, a gone one fails the session. When `states` call for a change, it is
   * decided again on a fresh read under the lock, so a Restart that ran meanwhile is never
   * overwritten by an old "stopped".
   */
  private async recordStops(row: SessionRow, lab: Lab, states: HostState[]): Promise<void> {
    const plan = planHosts(states, parseHosts(row.hosts), this.hostNames(lab), this.now());
    if (!plan.gone && !plan.changes.length) return;
    await this.lock.run(row.id, async () => {
      const fresh = await this.deps.db.session.findUnique({ where: { id: row.id } });
      if (fresh?.status !== 'active') return;
      const now = await readHostStates(this.driverFor(lab), this.environmentOf(fresh)).catch(() => undefined);
      // A gone host has failed the session by then; the 409 it throws is for learners' actions only.
      if (now) await this.applyHostStates(fresh, lab, now).catch(() => undefined);
    });
  }

  protected hostNames(lab: Lab): string[] {
    return lab.track.environment.hosts.map((h) => h.name);
  }

  /**
   * Brings the session's host record in line with `states` (host-recovery.ts). A gone host fails
   * the session and makes this throw the 409 a learner's action then gets. Call under the lock.
   */
  protected async applyHostStates(row: SessionRow, lab: Lab, states: HostState[]): Promise<void> {
    const plan = planHosts(states, parseHosts(row.hosts), this.hostNames(lab), this.now());
    if (plan.gone) {
      const why = `the environment broke (${plan.gone})`;
      this.log.warn({ session: row.id, states }, why);
      await this.fail(row, lab, `${why}: start the lab again`);
      throw new SessionError('conflict', `this session failed: ${why}`);
    }
    for (const c of plan.changes) await this.changeHost(row.id, c.host, { state: c.state, notice: c.notice });
  }

  /**
   * Actions that run in hosts answer a clear 409 when a host they need (`host`, or any) is
   * stopped, instead of the engine's error. Asks the engine, since the watch pass may be seconds
   * behind; `record`: also write what it saw (only under the session's lock). An engine that
   * cannot be asked lets the action try, and fail with its own error.
   */
  protected async requireHostsUp(row: SessionRow, lab: Lab, host?: string, { record = true } = {}): Promise<void> {
    const states = await readHostStates(this.driverFor(lab), this.environmentOf(row)).catch(() => undefined);
    if (!states) return;
    if (record) await this.applyHostStates(row, lab, states);
    const names = host ? [host] : this.hostNames(lab);
    const stopped = states.filter((s) => s.state === 'stopped' && names.includes(s.host)).map((s) => s.host);
    if (stopped.length) throw new SessionError('conflict', stoppedRefusal(stopped), { hosts: stopped, retryable: true });
  }
}
