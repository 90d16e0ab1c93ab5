'use client';
import dynamic from 'next/dynamic';
import { useEffect, useState } from 'react';
import type { TabView } from '@/lib/sessions/view';
import type { HostView } from '@/lib/sessions/hosts';
import { RUN_EVENT } from './CodeBlock';
import { SERVICE_SANDBOX } from '@/lib/http/sandbox';

// xterm touches the DOM at import time: load it in the browser only.
const Terminal = dynamic(() => import('./Terminal').then((m) => m.Terminal), { ssr: false });
const Editor = dynamic(() => import('./Editor').then((m) => m.Editor), { ssr: false });
const TrafficTab = dynamic(() => import('./TrafficTab').then((m) => m.TrafficTab), { ssr: false }); // traffic tab

/**
 * The right-hand tabs. Every terminal stays mounted while hidden, so switching
 * tabs never drops a connection or loses scrollback.
 */
export function TabPanels({ sessionId, tabs, a11y, hosts = [] }: { sessionId: string; tabs: TabView[]; a11y: boolean; hosts?: HostView[] }) {
  // When a host runs again (restarted), its terminals reconnect by themselves (Terminal's hostEpoch).
  const epochOf = (name?: string) => {
    const h = hosts.find((x) => x.name === name);
    return h?.state === 'running' ? (h.since ?? '') : undefined;
  };
  const [chosen, setActive] = useState(tabs[0]?.id);
  // A challenge with other tabs: the chosen one may be gone, then the first one is shown.
  const active = tabs.some((t) => t.id === chosen) ? chosen : tabs[0]?.id;

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
        <div key={t.id} role="tabpanel" id={`panel-${t.id}`} aria-labelledby={`tab-${t.id}`} hidden={t.id !== active} className="panel">
          {t.type === 'terminal' && <Terminal sessionId={sessionId} tab={t.id} a11y={a11y} visible={t.id === active} hostEpoch={epochOf(t.hostname)} />}
          {t.type === 'editor' && <Editor sessionId={sessionId} tab={t.id} path={t.path!} visible={t.id === active} />}
          {t.type === 'website' && <iframe title={t.title} src={t.url} className="website" />}
          {t.type === 'traffic' && <TrafficTab sessionId={sessionId} visible={t.id === active} />}
          {t.type === 'service' && <ServiceFrame sessionId={sessionId} tab={t.id} title={t.title} />}
        </div>
      ))}
    </section>
  );
}

/**
 * A service tab: the lab's own web page, sandboxed in an opaque origin (lib/http/service-proxy.ts).
 * Its URL carries the key its requests are authorised by, which only the owner gets from the API.
 */
function ServiceFrame({ sessionId, tab, title }: { sessionId: string; tab: string; title: string }) {
  const [url, setUrl] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    fetch(`/api/v1/sessions/${sessionId}/services/${encodeURIComponent(tab)}`, { cache: 'no-store' })
      .then(async (res) => {
        const data = (await res.json().catch(() => ({}))) as { url?: string; error?: string };
        if (!live) return;
        if (res.ok && data.url) setUrl(data.url);
        else setError(data.error ?? 'the service cannot be reached');
      })
      .catch(() => live && setError('the service cannot be reached'));
    return () => {
      live = false;
    };
  }, [sessionId, tab]);
  if (error) return <p className="empty">{error}</p>;
  if (!url) return null;
  return <iframe title={title} src={url} className="website" sandbox={SERVICE_SANDBOX} />;
}
