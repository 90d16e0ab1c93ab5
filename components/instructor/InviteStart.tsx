'use client';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError, send } from './send';

/** A learner's start through an invite: their name (for the instructor's dashboard), then a lab. */
export function InviteStart({
  code,
  labs,
  fixedName,
  full,
}: {
  code: string;
  labs: { slug: string; title: string; teaser: string }[];
  fixedName?: string;
  full: boolean;
}) {
  const router = useRouter();
  const [name, setName] = useState(fixedName ?? '');
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<string>();

  async function start(lab: string) {
    setBusy(lab);
    setError(undefined);
    const sent = await send<{ id: string }>(`/api/invite/${encodeURIComponent(code)}/sessions`, 'POST', { lab, name: name.trim() || undefined });
    if (sent.ok) return router.push(`/sessions/${encodeURIComponent(sent.data.id)}`);
    // 409 naming a live session of this lab: go back to it.
    const live = (sent.data.session as { id?: unknown } | undefined)?.id;
    if (sent.status === 409 && typeof live === 'string') return router.push(`/sessions/${encodeURIComponent(live)}`);
    setError(sent.error);
    setBusy(undefined);
  }

  return (
    <div className="invite-start">
      <label>
        Your name
        <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} readOnly={!!fixedName} placeholder="shown to your instructor" />
      </label>
      {full && <p className="hint">This workshop is full for new learners; if you started a lab from it before, you can start again.</p>}
      <ul className="cards" aria-label="Labs">
        {labs.map((l) => (
          <li key={l.slug}>
            <article className="card">
              <h2>{l.title}</h2>
              <p>{l.teaser}</p>
              <button className="primary" type="button" onClick={() => void start(l.slug)} disabled={!!busy}>
                {busy === l.slug ? 'Starting…' : `Start ${l.title}`}
              </button>
            </article>
          </li>
        ))}
      </ul>
      <FormError message={error} />
    </div>
  );
}
