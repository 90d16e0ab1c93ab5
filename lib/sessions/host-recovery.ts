/**
 * What the watch pass does with what the engine says about a session's hosts (issue #10 item 5:
 * a killed host is told to the learner, who can restart it). A `stopped` host keeps the session
 * alive: its record (hosts.ts) says stopped, with a notice saying what happened and what to do.
 * A `gone` host (removed, a kind node down) cannot be brought back, so the session fails with the
 * reason, as before. Pure: HostWatch (host-watch.ts) applies the plan under the session's lock.
 */
import type { Environment, EnvironmentDriver, HostState } from '../environments/driver';
import type { HostNotice, HostsRecord, HostStatus } from './hosts';

export interface HostChange {
  host: string;
  state: HostStatus['state'];
  notice: Omit<HostNotice, 'at'>;
}

export interface HostPlan {
  /** Set when the environment cannot be recovered: why, for the session's error. */
  gone?: string;
  changes: HostChange[];
}

/** "06:01 UTC": the server cannot know the learner's zone, and a bare time would mislead. */
export function clock(iso: string | undefined, now: Date): string {
  const d = iso && Number.isFinite(Date.parse(iso)) ? new Date(iso) : now;
  return `${d.toISOString().slice(11, 16)} UTC`;
}

export function stoppedMessage(host: string, reason: string | undefined, at: string | undefined, now: Date): string {
  return `${host} stopped at ${clock(at, now)}: ${reason ?? 'it is not running'}. Your files are kept; programs that were running ended. Press Restart ${host}.`;
}

export function restartedMessage(host: string): string {
  return `${host} restarted: files kept, programs that were running ended.`;
}

/** Started by something other than the Restart button (an operator, `docker start`). */
export function runningAgainMessage(host: string, at: string | undefined, now: Date): string {
  return `${host} is running again since ${clock(at, now)}: files kept, programs that were running ended.`;
}

/** The 409 for an action that needs hosts which are stopped: "workstation is stopped: restart it first". */
export function stoppedRefusal(hosts: string[]): string {
  return hosts.length === 1 ? `${hosts[0]} is stopped: restart it first` : `${hosts.join(' and ')} are stopped: restart them first`;
}

/**
 * Changes to the record for these states. `labHosts`: the hosts the lab names; anything else in
 * `states` (kind nodes, the cluster) can only be running or gone.
 */
export function planHosts(states: HostState[], rec: HostsRecord, labHosts: string[], now: Date): HostPlan {
  const gone = states.find((s) => s.state === 'gone' || (s.state === 'stopped' && !labHosts.includes(s.host)));
  if (gone)
    return {
      gone: labHosts.includes(gone.host) ? `host ${gone.host} is gone${gone.reason ? ` (${gone.reason})` : ''}` : (gone.reason ?? `${gone.host} is gone`),
      changes: [],
    };
  const changes: HostChange[] = [];
  for (const s of states) {
    if (!labHosts.includes(s.host)) continue;
    const was = rec[s.host]?.state ?? 'running';
    if (s.state === 'stopped' && was !== 'stopped')
      changes.push({ host: s.host, state: 'stopped', notice: { kind: 'stopped', message: stoppedMessage(s.host, s.reason, s.finishedAt, now) } });
    if (s.state === 'running' && was === 'stopped')
      changes.push({ host: s.host, state: 'running', notice: { kind: 'restarted', message: runningAgainMessage(s.host, s.startedAt, now) } });
  }
  return { changes };
}

/**
 * The driver's host states; a driver without `hosts()` (test doubles, third-party drivers) is read
 * through `health()`, where any broken host counts as gone, which is what the session did before.
 */
export async function readHostStates(driver: EnvironmentDriver, env: Environment): Promise<HostState[]> {
  if (driver.hosts) return driver.hosts(env);
  const health = await driver.health(env);
  if (health.ok) return env.hosts.map((h) => ({ host: h.name, state: 'running' }));
  return [{ host: `(${health.detail ?? 'the environment'})`, state: 'gone', reason: health.detail ?? 'unreachable' }];
}
