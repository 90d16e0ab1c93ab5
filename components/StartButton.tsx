'use client';
import { useRouter } from 'next/navigation';
import { useState } from 'react';

export function StartButton({ lab }: { lab: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  /** A 409 names the learner's live session of this lab: offer to go back to it. */
  const [live, setLive] = useState<{ id: string; lab: string }>();

  async function start() {
    setBusy(true);
    setError(undefined);
    setLive(undefined);
    const res = await fetch('/api/v1/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lab }),
    }).catch(() => undefined);
    const data = await res?.json().catch(() => ({}));
    if (!res?.ok) {
      setError(data?.error ?? 'The server could not be reached.');
      if (res?.status === 409 && typeof data?.session?.id === 'string') setLive(data.session);
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
          {live && (
            <>
              {' '}
              <a href={`/sessions/${encodeURIComponent(live.id)}${window.location.search}`}>Resume {live.lab === lab ? 'it' : live.lab}</a>
            </>
          )}
        </p>
      )}
    </div>
  );
}
