'use client';
import { useState } from 'react';
import type { Account } from '@/lib/accounts/users';
import { FormError, send } from './send';
import { TableHead } from '../TableHead';

/** The admin's account list: invite an instructor (setup link shown once), disable or enable an account. */
export function Accounts({ initial, me }: { initial: Account[]; me: string }) {
  const [accounts, setAccounts] = useState(initial);
  const [link, setLink] = useState<{ email: string; url: string }>();
  const [error, setError] = useState<string>();

  async function reload() {
    const sent = await send<Account[]>('/api/instructor/accounts', 'GET');
    if (sent.ok) setAccounts(sent.data);
  }

  async function invite(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setError(undefined);
    const sent = await send<{ url: string }>('/api/instructor/accounts', 'POST', { email: f.get('email'), role: f.get('role') });
    if (!sent.ok) return setError(sent.error);
    setLink({ email: String(f.get('email')), url: sent.data.url });
    void reload();
  }

  async function toggle(a: Account) {
    setError(undefined);
    const sent = await send(`/api/instructor/accounts/${encodeURIComponent(a.id)}`, 'PATCH', { disabled: !a.disabled });
    if (!sent.ok) setError(sent.error);
    void reload();
  }

  return (
    <>
      <form className="invite-form" onSubmit={invite} aria-label="Invite an instructor">
        <label>
          Email
          <input name="email" type="email" required maxLength={254} />
        </label>
        <label>
          Role
          <select name="role" defaultValue="instructor">
            <option value="instructor">instructor</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button className="primary" type="submit">
          Make a setup link
        </button>
        <FormError message={error} />
      </form>
      {link && (
        <p className="notice" role="status">
          Send this to {link.email} (it works once, for 7 days): <code className="invite-url">{link.url}</code>
        </p>
      )}
      <table className="live-table">
        <caption>{accounts.length} accounts</caption>
        <TableHead columns={['Email', 'Name', 'Role', 'Last sign-in', 'Status', 'Actions']} />
        <tbody>
          {accounts.map((a) => (
            <tr key={a.id}>
              <th scope="row">{a.email}</th>
              <td>{a.name || '—'}</td>
              <td>{a.role}</td>
              <td>{a.lastLoginAt ? new Date(a.lastLoginAt).toLocaleString() : 'never'}</td>
              <td>{a.disabled ? 'disabled' : 'active'}</td>
              <td className="row-actions">
                {a.id !== me && (
                  <button type="button" className={a.disabled ? undefined : 'danger'} onClick={() => void toggle(a)}>
                    {a.disabled ? 'Enable' : 'Disable'}
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
