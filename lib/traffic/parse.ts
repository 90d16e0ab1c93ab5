/**
 * Turns tcpdump's text output into traffic events. A driver's capture speaks
 * `tcpdump -l -n -tt -v` (CaptureSink.onLine, environments/driver.ts): `-v` is
 * needed because only then does tcpdump print the groups inside IGMPv3 reports.
 * With `-v` every packet takes two lines: a header with the time and IP fields,
 * then an indented line with `src > dst: body`. Single-line output (without
 * `-v`) is understood too.
 */

/** One multicast datagram seen on the wire. */
export interface PacketEvent {
  kind: 'packet';
  /** Capture time, ms since the epoch. */
  t: number;
  src: string;
  group: string;
  /** Destination port (UDP/TCP), null for ICMP and other protocols without ports. */
  port: number | null;
  /** Size of the IP packet (headers included), or the UDP payload when only that is known. */
  bytes: number;
  proto: string;
}

/** A host joined or left a group (from an IGMP membership report or leave). */
export interface MembershipEvent {
  kind: 'join' | 'leave';
  t: number;
  src: string;
  group: string;
}

export type TrafficEvent = PacketEvent | MembershipEvent;

const HEADER = /^(\d+\.\d+) IP \((.*)\)\s*$/;
const ONE_LINE = /^(\d+\.\d+) IP (\S+) > (\S+): (.*)$/;
const CONTINUATION = /^\s+(\S+) > (\S+): (.*)$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** `172.28.0.2.45800` → address and port; `172.28.0.3` → address only. */
export function splitEndpoint(s: string): { ip: string; port: number | null } | null {
  const parts = s.replace(/:$/, '').split('.');
  if (parts.length === 4 && IPV4.test(parts.join('.'))) return { ip: parts.join('.'), port: null };
  if (parts.length === 5 && IPV4.test(parts.slice(0, 4).join('.')) && /^\d+$/.test(parts[4])) {
    return { ip: parts.slice(0, 4).join('.'), port: Number(parts[4]) };
  }
  return null;
}

/** 224.0.0.0/4. */
export function isMulticast(ip: string): boolean {
  const first = Number(ip.split('.')[0]);
  return first >= 224 && first <= 239;
}

/**
 * Membership changes in an IGMP body (the text after `src > dst: `).
 * v1/v2 reports name one group; a v2 leave names one; a v3 report carries
 * records: EXCLUDE mode (is_ex/to_ex) means "all sources", i.e. joined;
 * INCLUDE (is_in/to_in) with no source means left; with sources, or `allow`,
 * it is a source-specific join. `block` only narrows the sources: no change.
 */
export function igmpMemberships(body: string): { kind: 'join' | 'leave'; group: string }[] {
  let m = body.match(/^igmp v[12] report (\S+)/);
  if (m) return [{ kind: 'join', group: m[1] }];
  m = body.match(/^igmp leave (\S+)/);
  if (m) return [{ kind: 'leave', group: m[1] }];
  if (!body.startsWith('igmp v3 report')) return [];
  const out: { kind: 'join' | 'leave'; group: string }[] = [];
  // `[gaddr G mode, N source(s)]` with -v, `[gaddr G mode { S1 S2 }]` with -vv.
  const record = /\[gaddr (\S+) (\w+)(?:, (\d+) source\(s\)| \{([^}]*)\})?\]/g;
  for (const r of body.matchAll(record)) {
    const [, group, mode, count, list] = r;
    const sources = count !== undefined ? Number(count) : list ? list.trim().split(/\s+/).filter(Boolean).length : 0;
    if (mode === 'is_ex' || mode === 'to_ex') out.push({ kind: 'join', group });
    else if (mode === 'is_in' || mode === 'to_in') out.push({ kind: sources > 0 ? 'join' : 'leave', group });
    else if (mode === 'allow' && sources > 0) out.push({ kind: 'join', group });
  }
  return out;
}

function toMs(seconds: string): number {
  return Math.round(Number(seconds) * 1000);
}

/** Events for one packet, once both lines of it (or the single line) are known. */
function eventsFor(t: number, proto: string | null, ipLength: number | null, srcRaw: string, dstRaw: string, body: string): TrafficEvent[] {
  const src = splitEndpoint(srcRaw);
  const dst = splitEndpoint(dstRaw);
  if (!src || !dst) return [];
  const isIgmp = proto ? proto === 'IGMP' : body.startsWith('igmp ');
  if (isIgmp) return igmpMemberships(body).map((m) => ({ ...m, t, src: src.ip }));
  if (!isMulticast(dst.ip)) return [];
  const udpLength = body.match(/(?:^|, )(?:UDP, )?length (\d+)/);
  const bytes = ipLength ?? (udpLength ? Number(udpLength[1]) : 0);
  const p = proto ?? (body.startsWith('UDP') ? 'UDP' : body.startsWith('ICMP') ? 'ICMP' : 'other');
  return [{ kind: 'packet', t, src: src.ip, group: dst.ip, port: dst.port, bytes, proto: p }];
}

/**
 * Feed it tcpdump's stdout line by line; it returns the events each line
 * completes. Lines it does not understand (tcpdump's own messages, other
 * protocols) are ignored.
 */
export class TcpdumpParser {
  private pending: { t: number; proto: string | null; length: number | null } | null = null;

  push(line: string): TrafficEvent[] {
    const header = line.match(HEADER);
    if (header) {
      const fields = header[2];
      this.pending = {
        t: toMs(header[1]),
        proto: fields.match(/proto (\S+) \(\d+\)/)?.[1] ?? null,
        length: Number(fields.match(/, length (\d+)/)?.[1] ?? NaN) || null,
      };
      return [];
    }
    const cont = line.match(CONTINUATION);
    if (cont && this.pending) {
      const p = this.pending;
      this.pending = null; // further indented lines (decoded payloads) belong to no new packet
      return eventsFor(p.t, p.proto, p.length, cont[1], cont[2], cont[3]);
    }
    const one = line.match(ONE_LINE);
    if (one) {
      this.pending = null;
      return eventsFor(toMs(one[1]), null, null, one[2], one[3], one[4]);
    }
    return [];
  }
}

/**
 * The groups a host's `eth0` has joined, from its `/proc/net/igmp`. Groups are
 * printed as the 4 address bytes read as a little-endian hex number
 * (225.0.0.21 → 150000E1). The all-hosts group 224.0.0.1 is always there and
 * is left out.
 */
export function parseProcIgmp(text: string, iface = 'eth0'): string[] {
  const groups: string[] = [];
  let inIface = false;
  for (const line of text.split('\n')) {
    const dev = line.match(/^\d+\s+(\S+)\s*:/);
    if (dev) {
      inIface = dev[1] === iface;
      continue;
    }
    const g = line.match(/^\s+([0-9A-Fa-f]{8})\s/);
    if (!inIface || !g) continue;
    const n = parseInt(g[1], 16);
    const ip = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
    if (ip !== '224.0.0.1') groups.push(ip);
  }
  return groups;
}
