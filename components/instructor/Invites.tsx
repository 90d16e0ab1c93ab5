'use client';
import Link from 'next/link';
import { useState } from 'react';
import type { InviteInfo } from '@/lib/instructors/invites';
import { FormError, send } from './send';
import { TableHead } from '../TableHead';

interface Lab {
  slug: string;
  title: string;
}

/** Create an invite (its link is shown once), list them, revoke one. */
export function Invites({ labs, initial }: { labs: Lab[]; initial: InviteInfo[] }) {
  const [invites, setInvites] = useState(initial);
  const [made, setMade] = useState<{ name: string; url: string }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function reload() {
    const sent = await send<InviteInfo[]>('/api/instructor/invites', 'GET');
    if (sent.ok) setInvites(sent.data);
  }

  async function create(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget; // React clears currentTarget once the handler awaits
    const f = new FormData(formEl);
    const num = (k: string) => (f.get(k) ? Number(f.get(k)) : undefined);
    setBusy(true);
    setError(undefined);
    const sent = await send<{ url: string; invite: InviteInfo }>('/api/instructor/invites', 'POST', {
      name: f.get('name'),
      labs: f.getAll('labs'),
      learnerName: f.get('learnerName') || undefined,
      seats: num('seats'),
      expiresInHours: num('hours'),
    });
    setBusy(false);
    if (!sent.ok) return setError(sent.error);
    setMade({ name: sent.data.invite.name, url: sent.data.url });
    formEl.reset();
    void reload();
  }

  async function revoke(id: string) {
    if (!window.confirm('Revoke this invite? Its link stops working; sessions already started go on.')) return;
    const sent = await send(`/api/instructor/invites/${encodeURIComponent(id)}`, 'DELETE');
    setError(sent.ok ? undefined : sent.error);
    void reload();
  }

  return (
    <>
      <form className="invite-form" onSubmit={create} aria-label="New invite">
        <label>
          Workshop name
          <input name="name" required maxLength={100} placeholder="KubeCon workshop, Tuesday" />
        </label>
        <fieldset>
          <legend>Labs</legend>
          {labs.map((l) => (
            <label key={l.slug} className="check">
              <input type="checkbox" name="labs" value={l.slug} defaultChecked={labs.length === 1} /> {l.title}
            </label>
          ))}
        </fieldset>
        <label>
          Learner name (optional: for a one-person invite)
          <input name="learnerName" maxLength={100} />
        </label>
        <label>
          Seats (optional)
          <input name="seats" type="number" min={1} max={10000} />
        </label>
        <label>
          Expires after hours (optional)
          <input name="hours" type="number" min={1} max={8760} />
        </label>
        <button className="primary" type="submit" disabled={busy}>
          Create invite
        </button>
        <FormError message={error} />
      </form>
      {made && (
        <p className="notice" role="status">
          Invite “{made.name}”: share <code className="invite-url">{made.url}</code> — it is shown only now.{' '}
          <button type="button" onClick={() => void navigator.clipboard?.writeText(made.url)}>
            Copy
          </button>
        </p>
      )}
      <table className="live-table">
        <caption>{invites.length} invites</caption>
        <TableHead columns={['Name', 'Labs', 'Seats', 'Sessions', 'Expires', 'Status', 'Actions']} />
        <tbody>
          {invites.map((i) => (
            <tr key={i.id}>
              <th scope="row">{i.name}</th>
              <td>{i.labs.map((slug) => labs.find((l) => l.slug === slug)?.title ?? slug).join(', ')}</td>
              <td>{i.seats === null ? `${i.seatsTaken} (no limit)` : `${i.seatsTaken} / ${i.seats}`}</td>
              <td>{i.sessions}</td>
              <td>{i.expiresAt ? new Date(i.expiresAt).toLocaleString() : 'never'}</td>
              <td>{i.status}</td>
              <td className="row-actions">
                <Link href={`/instructor?invite=${i.id}`}>Sessions</Link>
                {i.labs.map((slug) => (
                  <Link key={slug} href={`/instructor/labs/${slug}/analytics?invite=${i.id}`}>
                    Analytics{i.labs.length > 1 ? ` (${slug})` : ''}
                  </Link>
                ))}
                {i.status !== 'revoked' && (
                  <button type="button" className="danger" onClick={() => void revoke(i.id)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
