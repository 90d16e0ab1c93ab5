'use client';
/**
 * What happened to the session's hosts, on the session page: a banner per stopped host with the
 * platform's message and a "Restart <host>" button (POST …/hosts/:host/restart), and the latest
 * notices of any kind (stopped, restarted, and the limit notices: out of memory, process limit,
 * disk full). Unknown kinds are shown with their message, so a newer server never hides one.
 */
import { useState } from 'react';
import type { HostNotice, HostView } from '@/lib/sessions/hosts';
import type { SessionView } from '@/lib/sessions/view';
import './host-notices.css';

/** A short label per kind; the text carries the meaning, the mark is decoration. */
const KIND: Record<string, { label: string; mark: string; tone: 'bad' | 'warn' | 'ok' }> = {
  stopped: { label: 'Stopped', mark: '■', tone: 'bad' },
  restarted: { label: 'Restarted', mark: '↻', tone: 'ok' },
  oom: { label: 'Out of memory', mark: '!', tone: 'warn' },
  pids: { label: 'Process limit', mark: '!', tone: 'warn' },
  disk: { label: 'Disk full', mark: '!', tone: 'warn' },
};
const kindOf = (k: string) => KIND[k] ?? { label: k, mark: '•', tone: 'warn' as const };
const SHOWN = 5;

export function HostNotices({ sessionId, hosts, onChanged }: { sessionId: string; hosts: HostView[]; onChanged: (s: SessionView) => void }) {
  const [restarting, setRestarting] = useState<string>();
  const [errors, setErrors] = useState<Record<string, string>>({});

  async function restart(host: string) {
    setRestarting(host);
    setErrors((e) => ({ ...e, [host]: '' }));
    const res = await fetch(`/api/v1/sessions/${sessionId}/hosts/${encodeURIComponent(host)}/restart`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }).catch(() => undefined);
    const data = await res?.json().catch(() => ({}));
    setRestarting(undefined);
    if (res?.ok) onChanged(data as SessionView);
    else setErrors((e) => ({ ...e, [host]: (data as { error?: string } | undefined)?.error ?? `Could not restart ${host}: the server did not answer.` }));
  }

  const stopped = hosts.filter((h) => h.state === 'stopped');
  const recent = hosts
    .flatMap((h) => h.notices.map((n): HostNotice & { host: string } => ({ ...n, host: h.name })))
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, SHOWN);
  if (!stopped.length && !recent.length) return null;

  return (
    <div className="host-notices">
      {stopped.map((h) => {
        const why =
          [...h.notices].reverse().find((n) => n.kind === 'stopped')?.message ?? `${h.name} is stopped. Your files are kept; programs that were running ended.`;
        return (
          <div key={h.name} className="host-banner" role="alert" data-host={h.name}>
            <p>{why}</p>
            <button type="button" className="host-restart" onClick={() => void restart(h.name)} disabled={!!restarting}>
              {restarting === h.name ? `Restarting ${h.name}…` : `Restart ${h.name}`}
            </button>
            {errors[h.name] && <p className="host-error">{errors[h.name]}</p>}
          </div>
        );
      })}
      {recent.length > 0 && (
        <details className="host-log">
          <summary>
            {/* The newest notice stays visible (and is announced) while the list is folded. */}
            <span role="status">
              Host notices ({recent.length}): latest, {kindOf(recent[0].kind).label.toLowerCase()} on {recent[0].host}
            </span>
          </summary>
          <ul>
            {recent.map((n) => {
              const k = kindOf(n.kind);
              return (
                <li key={`${n.host}-${n.at}-${n.kind}`} className={`host-notice ${k.tone}`}>
                  <span className="host-notice-kind">
                    <span aria-hidden>{k.mark} </span>
                    {k.label}
                  </span>{' '}
                  <time dateTime={n.at}>{new Date(n.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time> {n.message}
                </li>
              );
            })}
          </ul>
        </details>
      )}
    </div>
  );
}
