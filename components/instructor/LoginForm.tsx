'use client';
import { useState } from 'react';
import { safeNext } from './safe-next';
import { FormError, send } from './send';

/** The instructor sign-in form: "Email", "Password", "Sign in" (names tests and people rely on). */
export function LoginForm({ next }: { next?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(undefined);
    const sent = await send('/api/instructor/login', 'POST', { email: form.get('email'), password: form.get('password') });
    if (sent.ok) return window.location.assign(safeNext(next));
    setError(sent.error);
    setBusy(false);
  }

  return (
    <form className="account-form" onSubmit={submit}>
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required maxLength={254} autoFocus />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required maxLength={200} />
      </label>
      <button className="primary" type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      <FormError message={error} />
    </form>
  );
}
