'use client';
/**
 * `labforge dev` only, above the assignment: the watched folder, the version served and when it
 * was loaded, and the lint problems of the files as they are now (with errors, the page keeps the
 * last good version). It listens to the author event stream and asks the page to re-read the
 * session after every save, so an edit shows within a second or so without faster polling.
 * `labforge serve` sends no `author` field, so nothing renders and nothing listens.
 */
import { useEffect, useRef } from 'react';
import type { AuthorView } from '@/lib/sessions/view';
import './author-banner.css';

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function AuthorBanner({ author, onReload }: { author: AuthorView; onReload: () => void }) {
  // The latest callback, so the stream is opened once and not again on every render.
  const reload = useRef(onReload);
  useEffect(() => {
    reload.current = onReload;
  });
  useEffect(() => {
    const events = new EventSource(author.events);
    events.onmessage = () => reload.current();
    return () => events.close();
  }, [author.events]);

  const reloads = author.version - 1;
  return (
    <aside className="author-banner" aria-label="Author mode">
      <p>
        <strong>Author mode:</strong> watching <code>{author.dir}</code> · version {author.version} ({reloads} reload{reloads === 1 ? '' : 's'}), loaded at{' '}
        <time dateTime={author.loadedAt}>{time(author.loadedAt)}</time>
      </p>
      {author.errors.length > 0 && (
        <div role="alert" className="author-errors">
          <p>The lab has errors: this session keeps the version loaded at {time(author.loadedAt)} until they are fixed.</p>
          <ul>
            {author.errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      )}
      {author.warnings.length > 0 && (
        <details className="author-warnings">
          <summary>
            {author.warnings.length} warning{author.warnings.length === 1 ? '' : 's'}
          </summary>
          <ul>
            {author.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </details>
      )}
      <p className="author-note">Assignments and scripts apply when saved; track setup and hosts are not made again (start a new session for those).</p>
    </aside>
  );
}
