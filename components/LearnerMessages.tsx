'use client';
/**
 * Messages from an instructor, on the learner's page: the newest few, each dismissible (the
 * dismissal is remembered in this browser). Text only: React escapes it, nothing is rendered as markup.
 */
import { useState } from 'react';
import type { LearnerMessage } from '@/lib/sessions/messages';

const key = (sessionId: string) => `labforge:dismissed:${sessionId}`;

function dismissedOf(sessionId: string): number[] {
  try {
    const raw = JSON.parse(localStorage.getItem(key(sessionId)) ?? '[]') as unknown;
    return Array.isArray(raw) ? raw.filter((n): n is number => typeof n === 'number') : [];
  } catch {
    return [];
  }
}

export function LearnerMessages({ sessionId, messages = [] }: { sessionId: string; messages?: LearnerMessage[] }) {
  const [dismissed, setDismissed] = useState<number[]>(() => (typeof window === 'undefined' ? [] : dismissedOf(sessionId)));
  const shown = messages.filter((m) => !dismissed.includes(m.id));
  const dismiss = (id: number) => {
    const next = [...dismissed, id].slice(-50);
    setDismissed(next);
    try {
      localStorage.setItem(key(sessionId), JSON.stringify(next));
    } catch {
      /* storage full or off: dismissed for this page only */
    }
  };
  return (
    // A labelled live region, not role "status": on this page that role is the Check verdict's.
    <section className="learner-messages" aria-live="polite" aria-label="Messages from your instructor">
      {shown.map((m) => (
        <p key={m.id} className="learner-message">
          <strong>{m.from}:</strong> {m.text}{' '}
          <button type="button" className="linklike" onClick={() => dismiss(m.id)}>
            Dismiss
          </button>
        </p>
      ))}
    </section>
  );
}
