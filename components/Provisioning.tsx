'use client';
import type { SessionView } from '@/lib/sessions/view';
import { Markdown } from './Markdown';

/** While the environment is prepared: the steps as they happen, and the challenge's notes. */
export function Provisioning({ session }: { session: SessionView }) {
  const notes = session.current?.notes ?? [];
  return (
    <main className="center provisioning">
      <h1>{session.labTitle}</h1>
      <p aria-live="polite">Preparing your environment…</p>
      <ol className="progress-steps">
        {session.progress.map((s) => (
          <li key={s.step} className={s.status}>
            <span className="dot" aria-hidden />
            <span className="label">{s.step}</span>
            {s.ms !== undefined && <span className="ms">{(s.ms / 1000).toFixed(1)} s</span>}
            {s.detail && s.status === 'failed' && <span className="detail">{s.detail}</span>}
          </li>
        ))}
      </ol>
      {notes.map((n, i) => (
        <div className="note" key={i}>
          <Markdown source={n} />
        </div>
      ))}
    </main>
  );
}
