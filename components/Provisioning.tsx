'use client';
import type { QueueView, SessionView } from '@/lib/sessions/view';
import { Markdown } from './Markdown';

/** "about 40 s", "about 3 min": an estimate, so no false precision. */
function roughly(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 90) return `about ${Math.ceil(s / 5) * 5} s`;
  return `about ${Math.round(s / 60)} min`;
}

/** Where a waiting start stands: "Number 3 in the queue to be prepared · ready in about 40 s". */
function queueLine(q: QueueView): string {
  const what = { room: 'for room on this server', turn: 'to be prepared', replica: 'for a server to prepare it' }[q.waitingFor];
  const place = `Number ${q.position} in the queue ${what}`;
  if (q.estimateMs !== undefined) return `${place} · ready in ${roughly(q.estimateMs)}`;
  // Room frees up when other learners' sessions end: no honest estimate to give.
  return q.waitingFor === 'room' ? `${place} · your turn comes when another session ends` : place;
}

/** While the environment is prepared: the steps as they happen, where a queued start stands, and the challenge's notes. */
export function Provisioning({ session }: { session: SessionView }) {
  const notes = session.current?.notes ?? [];
  return (
    <main className="center provisioning">
      <h1>{session.labTitle}</h1>
      <p aria-live="polite">Preparing your environment…</p>
      {session.queue && (
        <p className="queue" role="status" data-position={session.queue.position}>
          {queueLine(session.queue)}
        </p>
      )}
      <ol className="progress-steps">
        {session.progress.map((s) => (
          <li key={s.step} className={s.status}>
            <span className="dot" aria-hidden />
            <span className="label">{s.step}</span>
            {s.ms !== undefined && <span className="ms">{(s.ms / 1000).toFixed(1)} s</span>}
            {s.detail && <span className="detail">{s.detail}</span>}
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
