/**
 * What happened to each host of a session, for the learner: whether it runs, and the notices the
 * platform gave about it (it stopped, it was restarted, the kernel killed a process for memory, it
 * hit its process or disk limit). Stored as JSON on the session row (`Session.hosts`), so a page
 * reload, another browser and a restarted server all tell the same story. Pure: the housekeeping
 * that fills it lives in host-recovery.ts and host-limits.ts.
 */
import { z } from 'zod';
import type { Lab } from '../labs/schema';

export type HostNoticeKind = 'stopped' | 'restarted' | 'oom' | 'pids' | 'disk';

export interface HostNotice {
  kind: HostNoticeKind;
  /** One or two sentences for the learner: what happened and what to do. */
  message: string;
  at: string;
}

export interface HostStatus {
  state: 'running' | 'stopped';
  /** When the host entered `state` (as far as the platform saw). */
  since?: string;
  /** Newest last; at most NOTICES_PER_HOST. */
  notices: HostNotice[];
  /**
   * The host's limit counters as last read (cgroup memory.events oom_kill, pids.events max), so
   * only a rise becomes a notice. Internal: not in the view.
   */
  counters?: Record<string, number>;
}

export type HostsRecord = Record<string, HostStatus>;

export interface HostView {
  name: string;
  state: HostStatus['state'];
  since?: string;
  notices: HostNotice[];
}

export const NOTICES_PER_HOST = 5;

const noticeSchema = z.object({
  kind: z.enum(['stopped', 'restarted', 'oom', 'pids', 'disk']),
  message: z.string(),
  at: z.string(),
});
const statusSchema = z.object({
  state: z.enum(['running', 'stopped']),
  since: z.string().optional(),
  notices: z.array(noticeSchema).default([]),
  counters: z.record(z.string(), z.number()).optional(),
});
const recordSchema = z.record(z.string(), statusSchema);

/** The stored JSON; a row written before this column existed, or a damaged one, reads as "nothing known". */
export function parseHosts(text: string | null | undefined): HostsRecord {
  if (!text) return {};
  try {
    const r = recordSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : {};
  } catch {
    return {};
  }
}

const fresh = (): HostStatus => ({ state: 'running', notices: [] });

/**
 * A copy of `rec` with `host` changed: `state` set (its `since` moves only when it changes), a
 * notice appended (oldest dropped past NOTICES_PER_HOST), counters replaced.
 */
export function updateHost(
  rec: HostsRecord,
  host: string,
  change: { state?: HostStatus['state']; notice?: Omit<HostNotice, 'at'>; counters?: Record<string, number> },
  now: Date = new Date(),
): HostsRecord {
  const old = rec[host] ?? fresh();
  const next: HostStatus = { ...old, notices: [...old.notices] };
  if (change.state && change.state !== old.state) {
    next.state = change.state;
    next.since = now.toISOString();
  }
  if (change.notice) next.notices = [...next.notices, { ...change.notice, at: now.toISOString() }].slice(-NOTICES_PER_HOST);
  if (change.counters) next.counters = change.counters;
  return { ...rec, [host]: next };
}

/** One entry per host of the lab, in the lab's order; hosts nothing happened to are `running`. */
export function hostsView(rec: HostsRecord, hostNames: string[]): HostView[] {
  return hostNames.map((name) => {
    const s = rec[name] ?? fresh();
    return { name, state: s.state, since: s.since, notices: s.notices };
  });
}

/** The hosts a lab names, in its order. */
export const hostNames = (lab: Lab): string[] => lab.track.environment.hosts.map((h) => h.name);
