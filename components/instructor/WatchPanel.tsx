'use client';
import dynamic from 'next/dynamic';
import { useState } from 'react';
import type { LiveSession } from '@/lib/instructors/live';

const Terminal = dynamic(() => import('../Terminal').then((m) => m.Terminal), { ssr: false });

/** A learner's terminal, read-only: the token is a viewer's (the server never takes its input). */
export function WatchPanel({ session, onClose }: { session: LiveSession; onClose: () => void }) {
  const [tab, setTab] = useState(session.terminals[0]?.id);
  const label = `Watching ${session.learner}`;
  return (
    <section className="watch" aria-label={label}>
      <header className="watch-head">
        <h2>{label}</h2>
        <span className="hint">
          {session.labTitle} · {session.challenge?.title ?? '—'}
        </span>
        {session.terminals.length > 1 && (
          <label>
            Terminal{' '}
            <select value={tab} onChange={(e) => setTab(e.target.value)}>
              {session.terminals.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.title}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" className="ghost" onClick={onClose}>
          Close
        </button>
      </header>
      {tab ? (
        <div className="watch-screen">
          <Terminal
            key={`${session.id}:${tab}`}
            sessionId={session.id}
            tab={tab}
            tokenPath={`/api/instructor/sessions/${encodeURIComponent(session.id)}/terminals/${encodeURIComponent(tab)}/token`}
          />
        </div>
      ) : (
        <p className="hint">This learner has no terminal yet.</p>
      )}
    </section>
  );
}
