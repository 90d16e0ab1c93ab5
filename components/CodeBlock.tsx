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
  // The controls sit in a bar above the code, never over it (long lines scroll under nothing).
  // Each accessible name starts with the button's visible word, for voice control users.
  return (
    <div className="codeblock">
      <div className="codeblock-bar">
        <span className="codeblock-lang">{language && language !== 'text' ? language : ''}</span>
        {runnable && (
          <button type="button" onClick={run} aria-label="Run in terminal" title="Run in terminal">
            <span aria-hidden>▶ </span>Run
          </button>
        )}
        <button type="button" onClick={copy} aria-label={copied ? 'Copied' : 'Copy code'} title="Copy">
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre>
        <code className={language ? `language-${language}` : undefined}>{code}</code>
      </pre>
    </div>
  );
}
