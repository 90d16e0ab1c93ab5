'use client';
/**
 * The instructor dashboard's table of live sessions, refreshed every 2 s (paused while the page
 * is hidden), with each row's actions: watch the terminal read-only, extend, message, stop.
 */
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import type { LiveSession } from '@/lib/instructors/live';
import { elapsed, clock } from './format';
import { MessageForm } from './MessageForm';
import { WatchPanel } from './WatchPanel';
import { send } from './send';
import { TableHead } from '../TableHead';

const EVERY_MS = 2000;

export function LiveSessions({ initial, invite }: { initial: LiveSession[]; invite?: string }) {
  const router = useRouter();
  const [rows, setRows] = useState(initial);
  const [now, setNow] = useState(() => Date.now());
  const [problem, setProblem] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [watching, setWatching] = useState<string>();
  const [messaging, setMessaging] = useState<string>();

  const refresh = useCallback(async () => {
    const sent = await send<LiveSession[]>(`/api/instructor/sessions${invite ? `?invite=${encodeURIComponent(invite)}` : ''}`, 'GET');
    if (sent.status === 401) return router.push(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    if (!sent.ok) return setProblem(`${sent.error} Retrying…`);
    setProblem(undefined);
    setRows(sent.data);
    setNow(Date.now());
  }, [invite, router]);

  useEffect(() => {
    const t = setInterval(() => document.visibilityState === 'visible' && void refresh(), EVERY_MS);
    return () => clearInterval(t);
  }, [refresh]);

  async function act(id: string, action: 'extend' | 'stop' | 'message', payload: object = {}): Promise<boolean> {
    const sent = await send<{ expiresAt?: string }>(`/api/instructor/sessions/${encodeURIComponent(id)}/${action}`, 'POST', payload);
    const who = rows.find((r) => r.id === id)?.learner ?? 'the learner';
    if (!sent.ok) setNotice(`Could not ${action === 'message' ? 'send the message' : action} (${who}): ${sent.error}`);
    else if (action === 'extend') setNotice(`Extended ${who}'s session: it now ends at ${sent.data.expiresAt ? clock(sent.data.expiresAt) : '?'}.`);
    else if (action === 'stop') setNotice(`Stopped ${who}'s session.`);
    else setNotice(`Message sent to ${who}.`);
    void refresh();
    return sent.ok;
  }

  const watched = rows.find((r) => r.id === watching);
  const messaged = rows.find((r) => r.id === messaging);
  return (
    <>
      {problem && <p className="error">{problem}</p>}
      <p className="notice" role="status">
        {notice}
      </p>
      <table className="live-table">
        <caption>
          {rows.length} live session{rows.length === 1 ? '' : 's'}
        </caption>
        <TableHead columns={['Learner', 'Workshop', 'Lab', 'Challenge', 'Elapsed', 'Failed checks', 'Last failure', 'Actions']} />
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={8} className="hint">
                No one is in a lab right now. Sessions appear here as learners start them.
              </td>
            </tr>
          )}
          {rows.map((r) => (
            <tr key={r.id} data-session={r.id}>
              <th scope="row">{r.learner}</th>
              <td>{r.invite?.name ?? '—'}</td>
              <td>{r.labTitle}</td>
              <td>{r.status === 'provisioning' ? 'starting…' : r.challenge ? `${r.challenge.index + 1}/${r.challengeCount} ${r.challenge.title}` : '—'}</td>
              <td>{elapsed(r.startedAt ?? r.createdAt, now)}</td>
              <td className={r.failedChecks ? 'count-bad' : undefined}>{r.failedChecks}</td>
              <td className="last-fail">{r.lastFail ? <span title={`${r.lastFail.challenge}, ${clock(r.lastFail.at)}`}>{r.lastFail.message}</span> : '—'}</td>
              <td className="row-actions">
                <button type="button" onClick={() => setWatching(r.id)} disabled={r.terminals.length === 0}>
                  Watch
                </button>
                <button type="button" onClick={() => void act(r.id, 'extend')} disabled={r.status !== 'active'}>
                  Extend
                </button>
                <button type="button" onClick={() => setMessaging(r.id)}>
                  Message
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() => window.confirm(`Stop ${r.learner}'s session? Their environment is removed.`) && void act(r.id, 'stop')}
                >
                  Stop
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {messaged && (
        <MessageForm
          key={messaged.id}
          learner={messaged.learner}
          onSend={(text) => act(messaged.id, 'message', { text })}
          onClose={() => setMessaging(undefined)}
        />
      )}
      {watched && <WatchPanel key={watched.id} session={watched} onClose={() => setWatching(undefined)} />}
    </>
  );
}
