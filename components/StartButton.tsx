'use client';
import { useRouter } from 'next/navigation';
import { useState } from 'react';

export function StartButton({ lab }: { lab: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function start() {
    setBusy(true);
    setError(undefined);
    const res = await fetch('/api/v1/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lab }),
    }).catch(() => undefined);
    const data = await res?.json().catch(() => ({}));
    if (!res?.ok) {
      setError(data?.error ?? 'The server could not be reached.');
      setBusy(false);
      return;
    }
    router.push(`/sessions/${data.id}${window.location.search}`);
  }

  return (
    <div className="start">
      <button className="primary big" onClick={start} disabled={busy}>
        {busy ? 'Starting…' : 'Start lab'}
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
