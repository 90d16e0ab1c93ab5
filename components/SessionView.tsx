'use client';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import type { ChallengeView, SessionView as Session } from '@/lib/sessions/view';
import { Markdown } from './Markdown';
import { Provisioning } from './Provisioning';
import { TabPanels } from './TabPanels';
import { Countdown } from './Countdown';
import { Quiz } from './Quiz';
import { HostNotices } from './HostNotices';
import { LearnerMessages } from './LearnerMessages';
import { AuthorBanner } from './AuthorBanner';

interface Verdict {
  passed: boolean;
  message: string;
}

const ENDED: Record<string, string> = {
  completed: 'You finished this lab. Well done!',
  expired: 'This session expired and its environment was removed.',
  failed: 'This session failed.',
  stopped: 'You stopped this session; its environment was removed.',
};

export function SessionView({ id, a11y = false }: { id: string; a11y?: boolean }) {
  const [session, setSession] = useState<Session>();
  const [loadError, setLoadError] = useState<string>();
  const [verdict, setVerdict] = useState<Verdict>();
  const [busy, setBusy] = useState<'check' | 'next' | 'stop'>();
  const [selected, setSelected] = useState<number[]>([]);
  const [lookBack, setLookBack] = useState<ChallengeView>();

  const refresh = useCallback(async () => {
    const res = await fetch(`/api/v1/sessions/${id}`, { cache: 'no-store' }).catch(() => undefined);
    if (!res) return setLoadError('The server cannot be reached; retrying…');
    const data = await res.json().catch(() => ({}));
    if (!res.ok) return setLoadError(data.error ?? `error ${res.status}`);
    setLoadError(undefined);
    setSession(data);
  }, [id]);

  useEffect(() => {
    // refresh() sets state only once its fetch has answered, never during the effect itself.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void refresh();
    const every = session?.status === 'provisioning' ? 700 : 10_000;
    const t = setInterval(() => void refresh(), every);
    return () => clearInterval(t);
  }, [refresh, session?.status]);

  async function post(path: string, payload?: object) {
    const res = await fetch(`/api/v1/sessions/${id}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload ?? {}),
    }).catch(() => undefined);
    const data = await res?.json().catch(() => ({}));
    return { ok: !!res?.ok, data: data ?? {} };
  }

  async function check() {
    setBusy('check');
    setVerdict(undefined);
    const quiz = session?.current?.type === 'quiz';
    const { ok, data } = await post('check', quiz ? { answers: selected } : {});
    setVerdict(ok ? data : { passed: false, message: data.error ?? 'The check could not run: the server did not answer.' });
    setBusy(undefined);
    await refresh();
  }

  async function next() {
    setBusy('next');
    const { ok, data } = await post('next');
    setBusy(undefined);
    if (!ok) return setVerdict({ passed: false, message: data.error ?? 'Could not move on.' });
    setVerdict(undefined);
    setSelected([]);
    setSession(data);
  }

  async function extend() {
    const { ok, data } = await post('extend');
    if (ok) setSession(data);
    else setVerdict({ passed: false, message: data.error ?? 'Could not extend the time limit.' });
  }

  async function openEarlier(index: number) {
    if (!session || index === session.index) return setLookBack(undefined);
    const res = await fetch(`/api/v1/sessions/${id}/challenges/${index}`).catch(() => undefined);
    if (res?.ok) setLookBack(await res.json());
  }

  async function stop() {
    if (!confirm('Stop this lab? Its environment will be removed.')) return;
    setBusy('stop');
    await fetch(`/api/v1/sessions/${id}`, { method: 'DELETE' }).catch(() => undefined);
    setBusy(undefined);
    await refresh();
  }

  if (!session) {
    return <main className="center">{loadError ? <p role="alert">{loadError}</p> : <p>Loading…</p>}</main>;
  }
  if (session.status === 'provisioning') return <Provisioning session={session} />;
  if (session.status !== 'active') {
    return (
      <main className="center ended">
        <h1>{session.labTitle}</h1>
        <p role={session.status === 'completed' ? 'status' : 'alert'}>{ENDED[session.status]}</p>
        {session.error && <p className="error">{session.status === 'expired' ? `Why: ${session.error}.` : session.error}</p>}
        <p>
          <Link href={`/labs/${session.lab}`}>Back to the lab</Link> · <Link href="/">All labs</Link>
        </p>
      </main>
    );
  }

  const current = lookBack ?? session.current!;
  // A quiz with no attempts left is over too: the learner moves on, the quiz stays failed.
  const done = session.challenges[session.index]?.status === 'completed' || session.current?.quiz?.attemptsLeft === 0;
  const last = session.index === session.challenges.length - 1;
  return (
    <main className="session">
      <section className="assignment" aria-label="Assignment">
        {session.author && <AuthorBanner author={session.author} onReload={() => void Promise.all([refresh(), lookBack && openEarlier(lookBack.index)])} />}
        <LearnerMessages sessionId={session.id} messages={session.messages} />
        <header className="assignment-head">
          <p className="eyebrow">
            {session.labTitle} · {session.index + 1} / {session.challenges.length}
          </p>
          <h1>{current.title}</h1>
          <ol className="steps" aria-label="Progress">
            {session.challenges.map((c, i) => (
              <li key={c.slug} className={`step ${c.status}${i === session.index ? ' current' : ''}${i === lookBack?.index ? ' viewing' : ''}`}>
                <button
                  type="button"
                  aria-label={`${i + 1}. ${c.title} (${c.status})`}
                  title={c.title}
                  disabled={i > session.index}
                  onClick={() => void openEarlier(i)}
                />
              </li>
            ))}
          </ol>
        </header>
        {lookBack && (
          <p className="lookback">
            You are reading challenge {lookBack.index + 1} again; nothing is rerun.{' '}
            <button className="linklike" onClick={() => setLookBack(undefined)}>
              Back to challenge {session.index + 1}
            </button>
          </p>
        )}
        <div className="assignment-body">
          <Markdown source={current.body} />
          {current.quiz && !lookBack && <Quiz quiz={current.quiz} selected={selected} onChange={setSelected} />}
        </div>
        <footer className="assignment-foot">
          <HostNotices
            sessionId={session.id}
            hosts={session.hosts}
            onChanged={(s) => {
              setSession(s);
              setVerdict(undefined); // a "restart it first" answer is out of date now
            }}
          />
          {verdict &&
            (verdict.passed ? (
              <div role="status" className="verdict pass">
                {verdict.message}
              </div>
            ) : (
              <div role="alert" className="verdict fail">
                {verdict.message}
              </div>
            ))}
          {loadError && <p className="error">{loadError}</p>}
          <div className="actions">
            <button className="primary" onClick={check} disabled={!!busy || !!lookBack}>
              {busy === 'check' ? 'Checking…' : 'Check'}
            </button>
            <button onClick={next} disabled={!!busy || !!lookBack || (!done && !session.skippingEnabled)}>
              {busy === 'next' ? 'Setting up…' : 'Next'}
            </button>
            {last && done && <span className="hint">Next finishes the lab.</span>}
            <span className="spacer" />
            {session.expiresAt && <Countdown until={session.expiresAt} canExtend={session.canExtend} onExtend={extend} />}
            <button className="ghost" onClick={stop} disabled={!!busy}>
              Stop lab
            </button>
          </div>
        </footer>
      </section>
      <TabPanels sessionId={session.id} tabs={session.current!.tabs} a11y={a11y} hosts={session.hosts} />
    </main>
  );
}
