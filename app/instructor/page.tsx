import Link from 'next/link';
import { runtime } from '@/lib/runtime';
import { instructorForPage } from '@/lib/http/instructor';
import { liveSessions, LIVE_LIMIT } from '@/lib/instructors/live';
import { inviteNames } from '@/lib/instructors/invites';
import { LiveSessions } from '@/components/instructor/LiveSessions';

export const dynamic = 'force-dynamic';

/** The instructor dashboard: every live session, updating by itself, and each lab's analytics. */
export default async function Dashboard({ searchParams }: { searchParams: Promise<{ invite?: string }> }) {
  const { invite } = await searchParams;
  const me = await instructorForPage(`/instructor${invite ? `?invite=${encodeURIComponent(invite)}` : ''}`);
  const rt = runtime();
  const invites = await inviteNames(rt.db);
  const current = invites.find((i) => i.id === invite);
  const rows = await liveSessions(rt.db, rt.catalog, { inviteId: current?.id });
  return (
    <main className="instructor-main">
      <header className="instructor-head">
        <h1>Live sessions{current ? `: ${current.name}` : ''}</h1>
        <p className="hint">
          Signed in as {me.name || me.email} ({me.role}). {current ? <Link href="/instructor">Show every session</Link> : null}
        </p>
        {invites.length > 0 && (
          <form className="invite-filter" action="/instructor">
            <label>
              Workshop{' '}
              <select name="invite" defaultValue={current?.id ?? ''}>
                <option value="">All sessions</option>
                {invites.map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.name}
                  </option>
                ))}
              </select>
            </label>{' '}
            <button type="submit">Show</button>
          </form>
        )}
      </header>
      <LiveSessions initial={rows} invite={current?.id} />
      {rows.length >= LIVE_LIMIT && <p className="hint">Showing the newest {LIVE_LIMIT} sessions.</p>}
      <section className="lab-analytics-links" aria-labelledby="analytics-title">
        <h2 id="analytics-title">Analytics</h2>
        <ul>
          {rt.catalog.list().map((lab) => (
            <li key={lab.track.slug}>
              <Link href={`/instructor/labs/${lab.track.slug}/analytics${current ? `?invite=${current.id}` : ''}`}>{lab.track.title}</Link>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}
