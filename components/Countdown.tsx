'use client';
import { useEffect, useState } from 'react';

const WARN_MS = 5 * 60_000;

/** Time left in the session. In the last 5 minutes it turns to a warning and offers the one extension. */
export function Countdown({ until, canExtend, onExtend }: { until: string; canExtend?: boolean; onExtend?: () => void }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const left = Math.max(0, new Date(until).getTime() - now);
  const h = Math.floor(left / 3_600_000);
  const m = Math.floor((left % 3_600_000) / 60_000);
  const s = Math.floor((left % 60_000) / 1000);
  const warn = left < WARN_MS;
  const text = `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s).padStart(2, '0')}`;
  return (
    <span className={`countdown${warn ? ' warn' : ''}`}>
      <span role="timer" aria-label="Time left">
        {text}
      </span>
      {warn && (
        <span aria-live="polite" className="countdown-warning">
          {' '}
          left
          {canExtend && onExtend && (
            <button type="button" className="linklike" onClick={onExtend}>
              Extend 15 min
            </button>
          )}
        </span>
      )}
    </span>
  );
}
