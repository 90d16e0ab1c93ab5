'use client';
import dynamic from 'next/dynamic';
import { useEffect, useState } from 'react';
import type { TabView } from '@/lib/sessions/view';
import { RUN_EVENT } from './CodeBlock';

// xterm touches the DOM at import time: load it in the browser only.
const Terminal = dynamic(() => import('./Terminal').then((m) => m.Terminal), { ssr: false });
const Editor = dynamic(() => import('./Editor').then((m) => m.Editor), { ssr: false });
const TrafficTab = dynamic(() => import('./TrafficTab').then((m) => m.TrafficTab), { ssr: false }); // traffic tab

/**
 * The right-hand tabs. Every terminal stays mounted while hidden, so switching
 * tabs never drops a connection or loses scrollback.
 */
export function TabPanels({ sessionId, tabs, a11y }: { sessionId: string; tabs: TabView[]; a11y: boolean }) {
  const [active, setActive] = useState(tabs[0]?.id);
  useEffect(() => {
    if (!tabs.some((t) => t.id === active)) setActive(tabs[0]?.id);
  }, [tabs, active]);

  // A "Run" control in the assignment types into the active terminal (or the first one).
  useEffect(() => {
    const onRun = (e: Event) => {
      const target = tabs.find((t) => t.id === active && t.type === 'terminal') ?? tabs.find((t) => t.type === 'terminal');
      if (!target) return;
      setActive(target.id);
      window.dispatchEvent(new CustomEvent(`${RUN_EVENT}:${target.id}`, { detail: (e as CustomEvent<string>).detail }));
    };
    window.addEventListener(RUN_EVENT, onRun);
    return () => window.removeEventListener(RUN_EVENT, onRun);
  }, [tabs, active]);

  if (!tabs.length) return <section className="tabs empty">This challenge has no tabs.</section>;
  return (
    <section className="tabs">
      <div role="tablist" aria-label="Environment">
        {tabs.map((t) => (
          <button
            key={t.id}
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={t.id === active}
            aria-controls={`panel-${t.id}`}
            className={t.id === active ? 'active' : ''}
            onClick={() => setActive(t.id)}
          >
            <span className={`tab-icon ${t.type}`} aria-hidden />
            {t.title}
          </button>
        ))}
      </div>
      {tabs.map((t) => (
        <div
          key={t.id}
          role="tabpanel"
          id={`panel-${t.id}`}
          aria-labelledby={`tab-${t.id}`}
          hidden={t.id !== active}
          className="panel"
        >
          {t.type === 'terminal' && <Terminal sessionId={sessionId} tab={t.id} a11y={a11y} visible={t.id === active} />}
          {t.type === 'editor' && <Editor sessionId={sessionId} tab={t.id} path={t.path!} visible={t.id === active} />}
          {t.type === 'website' && <iframe title={t.title} src={t.url} className="website" />}
          {t.type === 'traffic' && <TrafficTab sessionId={sessionId} visible={t.id === active} />}
          {t.type === 'service' && (
            <iframe title={t.title} src={`/svc/${sessionId}/${t.id}/`} className="website" />
          )}
        </div>
      ))}
    </section>
  );
}
