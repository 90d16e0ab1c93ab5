/**
 * The tcpdump parser on real output, captured on this machine from two
 * labforge/base containers on a bridge network (socat sender and listeners,
 * one host forced to IGMPv2 with net.ipv4.conf.all.force_igmp_version=2),
 * with the sidecar's command line and with plain `tcpdump -n -tt`.
 */
import { describe, expect, it } from 'vitest';
import { TcpdumpParser, igmpMemberships, isMulticast, parseProcIgmp, splitEndpoint, type TrafficEvent } from '../../lib/traffic/parse';
import { PLAIN, VERBOSE } from './fixtures/samples';

function parseAll(text: string): TrafficEvent[] {
  const p = new TcpdumpParser();
  return text.split('\n').flatMap((l) => p.push(l));
}

describe('TcpdumpParser on verbose output (the sidecar)', () => {
  const events = parseAll(VERBOSE);

  it('turns each datagram into one packet event with time, source, group, port and size', () => {
    const packets = events.filter((e) => e.kind === 'packet');
    expect(packets).toEqual([
      { kind: 'packet', t: 1795677975161, src: '172.28.0.2', group: '225.0.0.11', port: 6666, bytes: 55, proto: 'UDP' },
      { kind: 'packet', t: 1795677975215, src: '172.28.0.2', group: '225.0.0.42', port: 7777, bytes: 55, proto: 'UDP' },
      // Port 5353 is decoded as DNS: the size comes from the IP header all the same.
      { kind: 'packet', t: 1795677975245, src: '172.28.0.2', group: '224.0.0.251', port: 5353, bytes: 55, proto: 'UDP' },
      { kind: 'packet', t: 1795677975271, src: '172.28.0.2', group: '225.0.0.42', port: null, bytes: 84, proto: 'ICMP' },
    ]);
  });

  it('reads joins and leaves from IGMPv2 and IGMPv3 reports, never as traffic', () => {
    const membership = events.filter((e) => e.kind !== 'packet').map((e) => [e.kind, e.src, e.group]);
    expect(membership).toEqual([
      ['join', '172.28.0.5', '225.0.0.21'],
      ['join', '172.28.0.3', '225.0.0.12'],
      ['join', '172.28.0.3', '225.0.0.11'],
      ['leave', '172.28.0.5', '225.0.0.21'],
      ['leave', '172.28.0.3', '225.0.0.11'],
      ['leave', '172.28.0.3', '225.0.0.12'],
    ]);
    expect(events.some((e) => e.kind === 'packet' && (e.group === '224.0.0.22' || e.group === '225.0.0.21'))).toBe(false);
  });

  it('ignores a header whose second line never came, and tcpdump banners', () => {
    const p = new TcpdumpParser();
    expect(p.push('tcpdump: verbose output suppressed, use -v[v]... for full protocol decode')).toEqual([]);
    expect(p.push('1795677975.161364 IP (tos 0x0, ttl 1, id 49548, offset 0, flags [DF], proto UDP (17), length 55)')).toEqual([]);
    expect(p.push('1795677975.214988 IP (tos 0x0, ttl 1, id 58665, offset 0, flags [DF], proto UDP (17), length 99)')).toEqual([]);
    expect(p.push('    172.28.0.2.39724 > 225.0.0.42.7777: UDP, length 71')).toEqual([
      { kind: 'packet', t: 1795677975215, src: '172.28.0.2', group: '225.0.0.42', port: 7777, bytes: 99, proto: 'UDP' },
    ]);
    // An extra indented line (decoded payload) is not a second packet.
    expect(p.push('    172.28.0.2.39724 > 225.0.0.42.7777: UDP, length 71')).toEqual([]);
  });
});

describe('TcpdumpParser on single-line output', () => {
  it('reads datagrams with the UDP payload size', () => {
    expect(parseAll(PLAIN)).toEqual([
      { kind: 'packet', t: 1795677946572, src: '172.28.0.2', group: '225.0.0.42', port: 7777, bytes: 6, proto: 'UDP' },
      { kind: 'packet', t: 1795677946696, src: '172.28.0.2', group: '225.0.0.50', port: 1234, bytes: 4, proto: 'UDP' },
    ]);
  });
});

describe('igmpMemberships', () => {
  it('handles every IGMPv3 record type', () => {
    expect(igmpMemberships('igmp v3 report, 1 group record(s) [gaddr 225.0.0.42 is_ex, 0 source(s)]')).toEqual([{ kind: 'join', group: '225.0.0.42' }]);
    expect(igmpMemberships('igmp v3 report, 1 group record(s) [gaddr 225.0.0.42 is_in, 0 source(s)]')).toEqual([{ kind: 'leave', group: '225.0.0.42' }]);
    // Source-specific joins (INCLUDE with sources), with -v and with -vv.
    expect(igmpMemberships('igmp v3 report, 1 group record(s) [gaddr 232.1.1.1 to_in, 1 source(s)]')).toEqual([{ kind: 'join', group: '232.1.1.1' }]);
    expect(igmpMemberships('igmp v3 report, 1 group record(s) [gaddr 232.1.1.1 allow { 10.0.0.1 }]')).toEqual([{ kind: 'join', group: '232.1.1.1' }]);
    expect(igmpMemberships('igmp v3 report, 1 group record(s) [gaddr 232.1.1.1 block { 10.0.0.1 }]')).toEqual([]);
    expect(igmpMemberships('igmp v1 report 225.0.0.7')).toEqual([{ kind: 'join', group: '225.0.0.7' }]);
    expect(igmpMemberships('igmp query v3 [max resp time 1.0s]')).toEqual([]);
  });
});

describe('helpers', () => {
  it('splits endpoints and recognises multicast', () => {
    expect(splitEndpoint('172.28.0.2.45800')).toEqual({ ip: '172.28.0.2', port: 45800 });
    expect(splitEndpoint('224.0.0.22:')).toEqual({ ip: '224.0.0.22', port: null });
    expect(splitEndpoint('fe80::1.546')).toBeNull();
    expect(isMulticast('225.0.0.42')).toBe(true);
    expect(isMulticast('239.255.255.250')).toBe(true);
    expect(isMulticast('240.0.0.1')).toBe(false);
    expect(isMulticast('172.28.0.2')).toBe(false);
  });

  it('reads the groups of eth0 from /proc/net/igmp (a real one, from a listener of 225.0.0.21)', () => {
    const proc = [
      'Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter',
      '1\tlo        :     1      V3',
      '\t\t\t\t010000E0     1 0:00000000\t\t0',
      '551\teth0      :     2      V3',
      '\t\t\t\t150000E1     1 0:00000000\t\t0',
      '\t\t\t\t010000E0     1 0:00000000\t\t0',
      '',
    ].join('\n');
    expect(parseProcIgmp(proc)).toEqual(['225.0.0.21']);
    expect(parseProcIgmp(proc, 'lo')).toEqual([]);
  });
});
