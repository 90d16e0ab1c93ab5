'use client';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError, send } from './send';

/** Sets the password of a new account from a one-time setup link; the browser is signed in after. */
export function SetupForm({ code, email, role }: { code: string; email: string; role: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    if (form.get('password') !== form.get('confirm')) return setError('The two passwords differ.');
    setBusy(true);
    setError(undefined);
    const sent = await send(`/api/instructor/setup/${encodeURIComponent(code)}`, 'POST', {
      email: email || form.get('email'),
      name: form.get('name'),
      password: form.get('password'),
    });
    if (sent.ok) return router.push('/instructor');
    setError(sent.error);
    setBusy(false);
  }

  return (
    <form className="account-form" onSubmit={submit}>
      <p>
        This link makes {email ? <strong>{email}</strong> : 'an account'} with the role <strong>{role}</strong>. It works once.
      </p>
      {!email && (
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required maxLength={254} />
        </label>
      )}
      <label>
        Name
        <input name="name" autoComplete="name" maxLength={100} />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="new-password" required minLength={10} maxLength={200} />
      </label>
      <label>
        Repeat the password
        <input name="confirm" type="password" autoComplete="new-password" required minLength={10} maxLength={200} />
      </label>
      <button className="primary" type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create account'}
      </button>
      <FormError message={error} />
    </form>
  );
}
