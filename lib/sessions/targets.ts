/**
 * What each tab of a session reaches: a terminal's host, an editor's file, a service's address, the
 * environment a Traffic tab captures from. All four pass one gate (`reached`), so a tab of a later
 * challenge answers 404 like one that does not exist, and nothing ahead (an exam's answer file)
 * leaks early.
 */
import type { Tab } from '../labs/schema';
import type { SessionContext } from './context';
import { SessionError } from './errors';
import type { HostWatch } from './host-watch';
import { reachableTab } from './view';

export class TabTargets {
  constructor(
    private ctx: SessionContext,
    private hosts: HostWatch,
  ) {}

  /** Which host a terminal tab of this session runs in, for the terminal gateway (and its tokens). */
  async terminal(id: string, learnerId: string, tab: string) {
    const { row, lab, t } = await this.reached(id, learnerId, 'terminal', tab);
    if (!t.hostname) throw new SessionError('not_found', `no terminal tab "${tab}" in this lab`);
    const env = this.ctx.guards.environmentOf(row);
    await this.hosts.requireHostsUp(row, lab, t.hostname, { record: false });
    return { driver: this.ctx.guards.driverFor(lab), env, host: t.hostname, key: `${id}:${tab}` };
  }

  /** The host and path an editor tab edits; learners can only reach the path the lab names. */
  async editor(id: string, learnerId: string, tab: string) {
    const { row, lab, t } = await this.reached(id, learnerId, 'editor', tab);
    if (!t.hostname || !t.path) throw new SessionError('not_found', `no editor tab "${tab}" in this lab`);
    await this.hosts.requireHostsUp(row, lab, t.hostname, { record: false });
    return { driver: this.ctx.guards.driverFor(lab), env: this.ctx.guards.environmentOf(row), host: t.hostname, path: t.path };
  }

  /** Where a service tab's traffic goes: its host's address on the session network and the tab's port. */
  async service(id: string, learnerId: string, tab: string) {
    const { row, t } = await this.reached(id, learnerId, 'service', tab);
    if (!t.hostname || !t.port) throw new SessionError('not_found', `no service tab "${tab}" in this lab`);
    const host = this.ctx.guards.environmentOf(row).hosts.find((h) => h.name === t.hostname);
    if (!host?.address) throw new SessionError('unavailable', `host ${t.hostname} has no address to reach port ${t.port} on`);
    return { address: host.address, port: t.port };
  }

  /** The environment a Traffic tab captures from, once the learner has reached a challenge that has one. */
  async traffic(id: string, learnerId: string) {
    const { row, lab } = await this.reached(id, learnerId, 'traffic');
    return { driver: this.ctx.guards.driverFor(lab), env: this.ctx.guards.environmentOf(row) };
  }

  /** The gate: an active session's tab of this type (and id) from the current or an earlier challenge (view.ts reachableTab). */
  private async reached(id: string, learnerId: string, type: Tab['type'], tab?: string) {
    const { row, lab } = await this.ctx.guards.owned(id, learnerId);
    this.ctx.guards.requireActive(row);
    const t = reachableTab(lab, row.currentIndex, type, tab);
    if (!t) throw new SessionError('not_found', `no ${type} tab${tab === undefined ? '' : ` "${tab}"`} in the challenges reached so far`);
    return { row, lab, t };
  }
}
