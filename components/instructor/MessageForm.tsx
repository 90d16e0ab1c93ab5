'use client';
import { useState } from 'react';

/** Sends a learner a message, shown on their lab page. */
export function MessageForm({ learner, onSend, onClose }: { learner: string; onSend: (text: string) => Promise<boolean>; onClose: () => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="message-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        if (await onSend(text)) setText('');
        setBusy(false);
      }}
    >
      <label>
        Message to {learner}
        <textarea value={text} onChange={(e) => setText(e.target.value)} maxLength={500} rows={2} required autoFocus />
      </label>
      <div className="actions">
        <button className="primary" type="submit" disabled={busy || !text.trim()}>
          Send
        </button>
        <button type="button" className="ghost" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}
