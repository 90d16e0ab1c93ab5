'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { TrafficGroup, TrafficView } from '@/lib/traffic/types';
import './traffic.css';

const POLL_MS = 2_000;
const RANGES = [5, 15, 30];
const PALETTE = ['#7c9cff', '#3ecf8e', '#ffb84d', '#ff6b6b', '#c084fc', '#2dd4bf', '#f472b6', '#a3e635', '#fb923c', '#60a5fa'];

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
}
const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * The Traffic tab: who sent to and who joined each multicast group of the
 * session's network, from a capture beside the hosts. A POST on mount starts
 * the capture early, so what happens before the learner opens the tab is
 * already recorded; opening the tab POSTs again (restarting a capture that
 * stopped meanwhile). Polling every 2 s while visible only reads (GET).
 */
export function TrafficTab({ sessionId, visible }: { sessionId: string; visible: boolean }) {
  const [data, setData] = useState<TrafficView>();
  const [error, setError] = useState<string>();
  const [chosen, setChosen] = useState<string>();
  const [minutes, setMinutes] = useState(5);
  const busy = useRef(false);
  const mounted = useRef(false);
  const url = `/api/v1/sessions/${sessionId}/traffic`;

  useEffect(() => {
    let alive = true;
    const load = async (method: 'GET' | 'POST') => {
      if (busy.current) return;
      busy.current = true;
      try {
        const res = await fetch(url, { method, cache: 'no-store' });
        const body = await res.json().catch(() => ({}));
        if (!alive) return;
        if (!res.ok) setError(body.error ?? `the traffic could not be read (HTTP ${res.status})`);
        else {
          setData(body as TrafficView);
          setError(undefined);
        }
      } catch {
        if (alive) setError('the server cannot be reached');
      } finally {
        busy.current = false;
      }
    };
    void load(!mounted.current || visible ? 'POST' : 'GET');
    mounted.current = true;
    if (!visible) return () => void (alive = false);
    const timer = setInterval(() => void load('GET'), POLL_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [url, visible]);

  const groups = useMemo(() => data?.groups ?? [], [data]);
  const group = useMemo(() => {
    const picked = groups.find((g) => g.group === chosen);
    if (picked) return picked;
    // Default: the group that spoke last (like a dashboard's "most recent" pick).
    return [...groups].sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0))[0];
  }, [groups, chosen]);

  return (
    <div className="traffic-tab">
      <div className="traffic-bar">
        <label>
          Group{' '}
          <select value={group?.group ?? ''} onChange={(e) => setChosen(e.target.value)} disabled={!groups.length} aria-label="Multicast group">
            {!groups.length && <option value="">none yet</option>}
            {groups.map((g) => (
              <option key={g.group} value={g.group}>
                {g.group} ({g.senders.length} sender{g.senders.length === 1 ? '' : 's'}, {g.receivers.length} joined)
              </option>
            ))}
          </select>
        </label>
        <label>
          Show{' '}
          <select value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} aria-label="Time range">
            {RANGES.map((m) => (
              <option key={m} value={m}>
                last {m} min
              </option>
            ))}
          </select>
        </label>
        <Status data={data} error={error} />
      </div>
      {group && data ? (
        <GroupDetails group={group} data={data} minutes={minutes} />
      ) : (
        <div className="traffic-empty">
          <p>
            <strong>No multicast traffic yet.</strong>
          </p>
          <p>
            Traffic shows up here once a host sends to a multicast group (224.0.0.0 to 239.255.255.255): each group lists its senders by name, with packet
            counts over time. Hosts that join a group appear as its receivers.
          </p>
          <p className="muted">The capture runs beside your hosts on the session network, not inside them.</p>
        </div>
      )}
    </div>
  );
}

function Status({ data, error }: { data?: TrafficView; error?: string }) {
  if (error)
    return (
      <span className="traffic-status bad" aria-live="polite">
        {error}
      </span>
    );
  if (!data)
    return (
      <span className="traffic-status" aria-live="polite">
        Loading…
      </span>
    );
  if (data.capturing) {
    return (
      <span className="traffic-status ok" aria-live="polite">
        <span className="dot" aria-hidden /> Capturing{data.since ? ` since ${clock(data.since)}` : ''}
        {data.problem ? ` (${data.problem})` : ''}
      </span>
    );
  }
  return (
    <span className="traffic-status bad" aria-live="polite">
      {data.problem ?? 'Not capturing'}
    </span>
  );
}

function GroupDetails({ group, data, minutes }: { group: TrafficGroup; data: TrafficView; minutes: number }) {
  const label = (h: { host: string | null; ip: string }) => h.host ?? h.ip;
  // Stable colours: by sender label in alphabetical order.
  const colours = useMemo(() => {
    const names = [...new Set(group.series.flatMap((b) => Object.keys(b.counts)).concat(group.senders.map(label)))].sort();
    return new Map(names.map((n, i) => [n, PALETTE[i % PALETTE.length]]));
  }, [group]);
  return (
    <div className="traffic-body">
      <Chart group={group} data={data} minutes={minutes} colours={colours} />
      <div className="traffic-tables">
        <table>
          <caption>Senders to {group.group}</caption>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Address</th>
              <th scope="col">Port</th>
              <th scope="col" className="num">
                Packets
              </th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {group.senders.length ? (
              group.senders.map((s) => (
                <tr key={s.ip}>
                  <th scope="row">
                    <span className="swatch" style={{ background: colours.get(label(s)) }} aria-hidden />
                    {s.host ?? <span className="muted">not a lab host</span>}
                  </th>
                  <td className="mono">{s.ip}</td>
                  <td className="mono">{s.ports.join(', ') || '–'}</td>
                  <td className="num">{s.packets}</td>
                  <td title={clock(s.lastSeen)}>{ago(data.now - s.lastSeen)}</td>
                </tr>
              ))
            ) : (
              <tr>
                <td colSpan={5} className="muted">
                  Nobody has sent to {group.group} since the capture started.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        <table>
          <caption>Joined {group.group} (receivers)</caption>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Address</th>
              <th scope="col">Joined</th>
            </tr>
          </thead>
          <tbody>
            {group.receivers.length ? (
              group.receivers.map((r) => (
                <tr key={r.ip}>
                  <th scope="row">{r.host ?? <span className="muted">not a lab host</span>}</th>
                  <td className="mono">{r.ip}</td>
                  <td title={clock(r.since)}>{ago(data.now - r.since)}</td>
                </tr>
              ))
            ) : (
              <tr>
                <td colSpan={3} className="muted">
                  No host has joined {group.group}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const W = 720;
const H = 170;
const PAD = { left: 34, right: 8, top: 8, bottom: 22 };

/** Stacked bars: packets per sender per bucket, plain SVG. */
function Chart({ group, data, minutes, colours }: { group: TrafficGroup; data: TrafficView; minutes: number; colours: Map<string, string> }) {
  const bucket = data.bucketMs || 5_000;
  const range = minutes * 60_000;
  const end = data.now - (data.now % bucket) + bucket;
  const start = end - range;
  const buckets = group.series.filter((b) => b.t >= start && b.t < end);
  const max = Math.max(1, ...buckets.map((b) => Object.values(b.counts).reduce((a, n) => a + n, 0)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const barW = Math.max(1, (plotW * bucket) / range - 1);
  const x = (t: number) => PAD.left + ((t - start) / range) * plotW;
  const y = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const totals = new Map<string, number>();
  for (const b of buckets) for (const [k, n] of Object.entries(b.counts)) totals.set(k, (totals.get(k) ?? 0) + n);
  const summary = totals.size ? [...totals].map(([k, n]) => `${k} ${n}`).join(', ') : 'no packets';
  // Round-minute ticks: every minute for 5 min, every 5 for longer ranges.
  const step = minutes <= 5 ? 60_000 : 5 * 60_000;
  const ticks: number[] = [];
  for (let t = start - (start % step) + step; t < end - step / 4; t += step) ticks.push(t);

  return (
    <figure className="traffic-chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Packets to ${group.group} per ${bucket / 1000} s over the last ${minutes} minutes, by sender: ${summary}`}
      >
        <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} className="axis" />
        <text x={PAD.left - 4} y={y(max) + 4} className="tick" textAnchor="end">
          {max}
        </text>
        <text x={PAD.left - 4} y={y(0)} className="tick" textAnchor="end">
          0
        </text>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={y(0)} y2={y(0) + 3} className="axis" />
            <text x={x(t)} y={H - 6} className="tick" textAnchor="middle">
              {new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
            </text>
          </g>
        ))}
        {buckets.map((b) => {
          let acc = 0;
          const parts = Object.entries(b.counts).sort(([a], [c]) => a.localeCompare(c));
          return (
            <g key={b.t}>
              <title>{`${clock(b.t)}: ${parts.map(([k, n]) => `${k} ${n}`).join(', ')}`}</title>
              {parts.map(([k, n]) => {
                const top = y(acc + n);
                const h = y(acc) - top;
                acc += n;
                return <rect key={k} x={x(b.t)} y={top} width={barW} height={Math.max(h, 1)} fill={colours.get(k) ?? PALETTE[0]} />;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span>Packets per {bucket / 1000} s</span>
        <ul className="legend">
          {[...colours].map(([name, colour]) => (
            <li key={name}>
              <span className="swatch" style={{ background: colour }} aria-hidden />
              {name}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
