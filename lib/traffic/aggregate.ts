/**
 * The per-session traffic summary: per group, who sent (packet counts, last
 * seen, packets per sender in time buckets) and who is joined. Pure and
 * bounded: old buckets fall out of the window, and the numbers of groups,
 * senders and members are capped (a learner flooding random groups cannot
 * grow the server's memory). Addresses are stored; names are put on at view
 * time, so a name learned late also labels earlier traffic.
 */
import type { PacketEvent, TrafficEvent } from './parse';
import type { TrafficGroup, TrafficSender } from './types';

export interface AggregateLimits {
  bucketMs: number;
  windowMs: number;
  maxGroups: number;
  maxSendersPerGroup: number;
  maxMembersPerGroup: number;
  /** Distinct senders counted apart in one bucket; more are added up as OTHER. */
  maxSendersPerBucket: number;
}

export const DEFAULT_LIMITS: AggregateLimits = {
  bucketMs: 5_000,
  windowMs: 30 * 60_000,
  maxGroups: 32,
  maxSendersPerGroup: 64,
  maxMembersPerGroup: 128,
  maxSendersPerBucket: 12,
};

/** Series key for the senders past maxSendersPerBucket in one bucket. */
export const OTHER = 'other hosts';

const MAX_PORTS = 4;

interface SenderState {
  packets: number;
  bytes: number;
  lastSeen: number;
  ports: number[];
}

interface MemberState {
  joined: boolean;
  since: number;
  /** Time of the newest fact about this membership: older facts (replayed logs) must not undo it. */
  changed: number;
}

interface GroupState {
  senders: Map<string, SenderState>;
  members: Map<string, MemberState>;
  /** bucket start → address → packets. */
  buckets: Map<number, Map<string, number>>;
  packets: number;
  lastSeen: number | null;
  /** For evicting the least recently active group. */
  touched: number;
}

/** Evicts the entry with the smallest key(v) once the map is over `max`. */
function capMap<K, V>(map: Map<K, V>, max: number, key: (v: V) => number): void {
  while (map.size > max) {
    let oldest: K | undefined;
    let best = Infinity;
    for (const [k, v] of map) {
      if (key(v) < best) {
        best = key(v);
        oldest = k;
      }
    }
    if (oldest === undefined) return;
    map.delete(oldest);
  }
}

const ipNumber = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

export class TrafficAggregate {
  private groups = new Map<string, GroupState>();
  readonly limits: AggregateLimits;

  constructor(limits: Partial<AggregateLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  add(ev: TrafficEvent): void {
    if (ev.kind === 'packet') this.addPacket(ev);
    else this.setMember(ev.group, ev.src, ev.kind === 'join', ev.t);
  }

  /**
   * What a host's kernel said it had joined at time `t` (its /proc/net/igmp):
   * joins the listed groups and leaves every other known group, unless a newer
   * IGMP report already said otherwise.
   */
  applySnapshot(ip: string, groups: string[], t: number): void {
    const joined = new Set(groups);
    for (const g of joined) this.setMember(g, ip, true, t);
    for (const [name, state] of this.groups) {
      if (!joined.has(name) && state.members.get(ip)?.joined) this.setMember(name, ip, false, t);
    }
  }

  /** Known groups (for tests and logs). */
  get size(): number {
    return this.groups.size;
  }

  view(nameOf: (ip: string) => string | null, now: number): TrafficGroup[] {
    const from = now - this.limits.windowMs;
    const label = (ip: string) => nameOf(ip) ?? ip;
    const out: TrafficGroup[] = [];
    for (const [group, g] of this.groups) {
      this.prune(g, now);
      const senders: TrafficSender[] = [...g.senders]
        .map(([ip, s]) => ({ host: nameOf(ip), ip, packets: s.packets, bytes: s.bytes, lastSeen: s.lastSeen, ports: [...s.ports] }))
        .sort((a, b) => b.packets - a.packets || ipNumber(a.ip) - ipNumber(b.ip));
      const receivers = [...g.members]
        .filter(([, m]) => m.joined)
        .map(([ip, m]) => ({ host: nameOf(ip), ip, since: m.since }))
        .sort((a, b) => ipNumber(a.ip) - ipNumber(b.ip));
      if (!senders.length && !receivers.length) continue;
      const series = [...g.buckets]
        .filter(([t]) => t >= from - this.limits.bucketMs)
        .sort((a, b) => a[0] - b[0])
        .map(([t, counts]) => {
          const named: Record<string, number> = {};
          for (const [ip, n] of counts) {
            const key = ip === OTHER ? OTHER : label(ip);
            named[key] = (named[key] ?? 0) + n;
          }
          return { t, counts: named };
        });
      out.push({ group, senders, receivers, series, packets: g.packets, lastSeen: g.lastSeen });
    }
    return out.sort((a, b) => ipNumber(a.group) - ipNumber(b.group));
  }

  private group(name: string, t: number): GroupState {
    let g = this.groups.get(name);
    if (!g) {
      g = { senders: new Map(), members: new Map(), buckets: new Map(), packets: 0, lastSeen: null, touched: t };
      this.groups.set(name, g);
      capMap(this.groups, this.limits.maxGroups, (x) => x.touched);
    }
    g.touched = Math.max(g.touched, t);
    return g;
  }

  private addPacket(ev: PacketEvent): void {
    const g = this.group(ev.group, ev.t);
    g.packets++;
    g.lastSeen = Math.max(g.lastSeen ?? 0, ev.t);
    let s = g.senders.get(ev.src);
    if (!s) {
      s = { packets: 0, bytes: 0, lastSeen: ev.t, ports: [] };
      g.senders.set(ev.src, s);
      capMap(g.senders, this.limits.maxSendersPerGroup, (x) => x.lastSeen);
    }
    s.packets++;
    s.bytes += ev.bytes;
    s.lastSeen = Math.max(s.lastSeen, ev.t);
    if (ev.port !== null && !s.ports.includes(ev.port) && s.ports.length < MAX_PORTS) s.ports.push(ev.port);
    const start = ev.t - (ev.t % this.limits.bucketMs);
    let bucket = g.buckets.get(start);
    if (!bucket) {
      bucket = new Map();
      g.buckets.set(start, bucket);
      this.prune(g, ev.t);
    }
    const key = bucket.has(ev.src) || bucket.size < this.limits.maxSendersPerBucket ? ev.src : OTHER;
    bucket.set(key, (bucket.get(key) ?? 0) + 1);
  }

  private setMember(group: string, ip: string, joined: boolean, t: number): void {
    const g = this.groups.get(group) ?? (joined ? this.group(group, t) : undefined);
    if (!g) return; // a leave for a group we never saw changes nothing
    const m = g.members.get(ip);
    if (m && m.changed > t) return;
    if (!m) {
      g.members.set(ip, { joined, since: t, changed: t });
      capMap(g.members, this.limits.maxMembersPerGroup, (x) => x.changed);
    } else {
      // Repeated reports (the kernel sends each twice) keep the first join time.
      if (joined && !m.joined) m.since = t;
      m.joined = joined;
      m.changed = t;
    }
    g.touched = Math.max(g.touched, t);
  }

  /** Drops buckets older than the window (relative to the newest time seen). */
  private prune(g: GroupState, now: number): void {
    const limit = now - this.limits.windowMs - this.limits.bucketMs;
    for (const t of g.buckets.keys()) if (t < limit) g.buckets.delete(t);
  }
}
