/** The per-session aggregate: counts, buckets, membership ordering, names and bounds. */
import { describe, expect, it } from 'vitest';
import { TrafficAggregate } from '../../lib/traffic/aggregate';
import type { TrafficEvent } from '../../lib/traffic/parse';

const T0 = 1_800_000_000_000; // a multiple of 5 s
const names: Record<string, string> = { '172.20.0.2': 'obi-wan', '172.20.0.3': 'luke', '172.20.0.4': 'darth-vader' };
const nameOf = (ip: string) => names[ip] ?? null;
const pkt = (t: number, src: string, group = '225.0.0.42', port = 7777): TrafficEvent => ({ kind: 'packet', t, src, group, port, bytes: 80, proto: 'UDP' });
const join = (t: number, src: string, group = '225.0.0.42'): TrafficEvent => ({ kind: 'join', t, src, group });
const leave = (t: number, src: string, group = '225.0.0.42'): TrafficEvent => ({ kind: 'leave', t, src, group });

describe('TrafficAggregate', () => {
  it('counts packets per sender and puts them in 5 s buckets, by name', () => {
    const a = new TrafficAggregate();
    [pkt(T0 + 100, '172.20.0.2'), pkt(T0 + 4_900, '172.20.0.2'), pkt(T0 + 5_000, '172.20.0.2'), pkt(T0 + 6_000, '172.20.0.9')].forEach((e) => a.add(e));
    const [g] = a.view(nameOf, T0 + 10_000);
    expect(g.group).toBe('225.0.0.42');
    expect(g.packets).toBe(4);
    expect(g.senders).toEqual([
      { host: 'obi-wan', ip: '172.20.0.2', packets: 3, bytes: 240, lastSeen: T0 + 5_000, ports: [7777] },
      { host: null, ip: '172.20.0.9', packets: 1, bytes: 80, lastSeen: T0 + 6_000, ports: [7777] },
    ]);
    expect(g.series).toEqual([
      { t: T0, counts: { 'obi-wan': 2 } },
      // An address with no host name is labelled by itself.
      { t: T0 + 5_000, counts: { 'obi-wan': 1, '172.20.0.9': 1 } },
    ]);
  });

  it('keeps receivers from joins until they leave, with the first join time', () => {
    const a = new TrafficAggregate();
    [join(T0, '172.20.0.3'), join(T0 + 400, '172.20.0.3'), join(T0 + 1_000, '172.20.0.4')].forEach((e) => a.add(e));
    expect(a.view(nameOf, T0 + 2_000)[0].receivers).toEqual([
      { host: 'luke', ip: '172.20.0.3', since: T0 },
      { host: 'darth-vader', ip: '172.20.0.4', since: T0 + 1_000 },
    ]);
    a.add(leave(T0 + 3_000, '172.20.0.3'));
    expect(a.view(nameOf, T0 + 4_000)[0].receivers.map((r) => r.host)).toEqual(['darth-vader']);
    a.add(leave(T0 + 5_000, '172.20.0.4'));
    // A group with nobody joined and no traffic is not shown.
    expect(a.view(nameOf, T0 + 6_000)).toEqual([]);
  });

  it('lets a /proc/net/igmp snapshot win over older replayed reports, not newer ones', () => {
    const a = new TrafficAggregate();
    a.applySnapshot('172.20.0.3', ['225.0.0.42'], T0 + 10_000);
    a.add(leave(T0 + 2_000, '172.20.0.3')); // replayed from the log, older than the snapshot
    expect(a.view(nameOf, T0 + 11_000)[0].receivers.map((r) => r.host)).toEqual(['luke']);
    a.add(join(T0 + 1_000, '172.20.0.4', '225.0.0.50'));
    a.applySnapshot('172.20.0.4', [], T0 + 10_000); // darth-vader has left 225.0.0.50 since
    expect(a.view(nameOf, T0 + 11_000).map((g) => g.group)).toEqual(['225.0.0.42']);
    a.add(leave(T0 + 12_000, '172.20.0.3'));
    expect(a.view(nameOf, T0 + 13_000)).toEqual([]);
  });

  it('keeps only the last 30 minutes of buckets, but the totals', () => {
    const a = new TrafficAggregate();
    a.add(pkt(T0, '172.20.0.2'));
    a.add(pkt(T0 + 31 * 60_000, '172.20.0.2'));
    const [g] = a.view(nameOf, T0 + 31 * 60_000);
    expect(g.series.map((b) => b.t)).toEqual([T0 + 31 * 60_000]);
    expect(g.senders[0].packets).toBe(2);
  });

  it('is bounded: the least recently active groups and senders go first', () => {
    const a = new TrafficAggregate({ maxGroups: 3, maxSendersPerGroup: 2 });
    expect(new TrafficAggregate().limits.maxGroups).toBe(32);
    for (let i = 0; i < 10; i++) a.add(pkt(T0 + i, '172.20.0.2', `225.0.1.${i}`));
    expect(a.size).toBe(3);
    expect(a.view(nameOf, T0 + 100).map((g) => g.group)).toEqual(['225.0.1.7', '225.0.1.8', '225.0.1.9']);
    for (let i = 0; i < 5; i++) a.add(pkt(T0 + 200 + i, `172.20.0.${10 + i}`, '225.0.1.9'));
    expect(
      a
        .view(nameOf, T0 + 300)
        .find((g) => g.group === '225.0.1.9')!
        .senders.map((s) => s.ip),
    ).toEqual(['172.20.0.13', '172.20.0.14']);
  });

  it('adds up senders past the per-bucket limit as "other hosts"', () => {
    const a = new TrafficAggregate({ maxSendersPerBucket: 2 });
    for (let i = 0; i < 5; i++) a.add(pkt(T0 + i, `172.20.0.${2 + i}`));
    a.add(pkt(T0 + 10, '172.20.0.2'));
    expect(a.view(nameOf, T0 + 100)[0].series).toEqual([{ t: T0, counts: { 'obi-wan': 2, luke: 1, 'other hosts': 3 } }]);
  });

  it('sorts groups by address, senders by packets', () => {
    const a = new TrafficAggregate();
    [
      pkt(T0, '172.20.0.3', '225.0.0.21'),
      pkt(T0, '172.20.0.2', '225.0.0.11'),
      pkt(T0, '172.20.0.4', '225.0.0.21'),
      pkt(T0 + 1, '172.20.0.4', '225.0.0.21'),
    ].forEach((e) => a.add(e));
    const v = a.view(nameOf, T0 + 10);
    expect(v.map((g) => g.group)).toEqual(['225.0.0.11', '225.0.0.21']);
    expect(v[1].senders.map((s) => s.host)).toEqual(['darth-vader', 'luke']);
  });
});
