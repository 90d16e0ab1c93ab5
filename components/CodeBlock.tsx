'use client';
import { useState } from 'react';

/** Event the active terminal listens for to type a snippet (see SessionView). */
export const RUN_EVENT = 'labforge:run';

export function CodeBlock({ code, language, runnable }: { code: string; language?: string; runnable?: boolean }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    await navigator.clipboard?.writeText(code).catch(() => undefined);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  }
  function run() {
    window.dispatchEvent(new CustomEvent(RUN_EVENT, { detail: code.endsWith('\n') ? code : `${code}\n` }));
  }
  return (
    <div className="codeblock">
      <pre>
        <code className={language ? `language-${language}` : undefined}>{code}</code>
      </pre>
      <div className="codeblock-actions">
        {runnable && (
          <button type="button" onClick={run} aria-label="Run in terminal" title="Run in terminal">
            ▶ Run
          </button>
        )}
        <button type="button" onClick={copy} aria-label="Copy code" title="Copy">
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}
