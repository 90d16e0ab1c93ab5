import { describe, expect, it } from 'vitest';
import { hostsView, NOTICES_PER_HOST, parseHosts, updateHost } from '../../lib/sessions/hosts';

const t0 = new Date('2026-11-30T06:00:00Z');
const t1 = new Date('2026-11-30T06:01:00Z');

describe('host record', () => {
  it('reads missing, damaged or foreign JSON as nothing known', () => {
    expect(parseHosts(null)).toEqual({});
    expect(parseHosts('{')).toEqual({});
    expect(parseHosts('{"ws":{"state":"exploded"}}')).toEqual({});
    expect(parseHosts('{"ws":{"state":"stopped"}}')).toEqual({ ws: { state: 'stopped', notices: [] } });
  });

  it('moves `since` only when the state changes, and keeps the newest notices', () => {
    let rec = updateHost({}, 'ws', { state: 'stopped', notice: { kind: 'stopped', message: 'gone' } }, t0);
    rec = updateHost(rec, 'ws', { state: 'stopped' }, t1);
    expect(rec.ws.since).toBe(t0.toISOString());
    for (let i = 0; i < NOTICES_PER_HOST + 2; i++) rec = updateHost(rec, 'ws', { notice: { kind: 'oom', message: `m${i}` } }, t1);
    expect(rec.ws.notices).toHaveLength(NOTICES_PER_HOST);
    expect(rec.ws.notices.at(-1)?.message).toBe(`m${NOTICES_PER_HOST + 1}`);
    expect(rec.ws.notices[0].message).toBe('m2');
  });

  it('shows every host of the lab in order, without internal counters', () => {
    const rec = updateHost({}, 'server', { state: 'stopped', counters: { oom_kill: 3 } }, t0);
    expect(hostsView(rec, ['workstation', 'server'])).toEqual([
      { name: 'workstation', state: 'running', since: undefined, notices: [] },
      { name: 'server', state: 'stopped', since: t0.toISOString(), notices: [] },
    ]);
  });
});
