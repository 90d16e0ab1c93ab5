'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { EditorView, basicSetup } from 'codemirror';
import { keymap } from '@codemirror/view';
import { Prec, Transaction } from '@codemirror/state';
import { yaml } from '@codemirror/lang-yaml';
import { oneDark } from '@codemirror/theme-one-dark';
import { useLatest } from './use-latest';

/**
 * One Dark's colours on the page's code background (its active line a shade lighter): on its own #282c34 its red (YAML keys) and
 * grey (comments) miss WCAG AA (4.4:1 and 3.9:1); on #0b0e17 every colour of it is 5.3:1 or more.
 */
const CONTRAST = Prec.highest(
  EditorView.theme(
    {
      '&': { backgroundColor: '#0b0e17' },
      '.cm-gutters': { backgroundColor: '#0b0e17' },
      '.cm-activeLine': { backgroundColor: '#141a28' },
      '.cm-activeLineGutter': { backgroundColor: '#141a28' },
    },
    { dark: true },
  ),
);

interface FileState {
  path: string;
  content: string;
  version: string;
}

/**
 * An editor tab: one file in a host, CodeMirror 6. Save (button or Ctrl/Cmd-S)
 * writes it into the host; if it changed underneath, the learner chooses to
 * reload or overwrite instead of silently losing either side.
 */
export function Editor({ sessionId, tab, path, visible }: { sessionId: string; tab: string; path: string; visible: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView>(null);
  const version = useRef<string>('');
  // Counts the learner's edits and the loads started: a load that answers after the learner typed,
  // or after a newer load, is dropped instead of replacing their text (the save's version check
  // still catches a file that changed underneath).
  const edits = useRef(0);
  const loads = useRef(0);
  const [status, setStatus] = useState<{ kind: 'info' | 'error' | 'conflict' | 'saved'; text: string }>();
  const [dirty, setDirty] = useState(false);
  const url = `/api/v1/sessions/${sessionId}/files/${encodeURIComponent(tab)}`;

  const load = useCallback(async () => {
    const seq = ++loads.current;
    const editsBefore = edits.current;
    const res = await fetch(url, { cache: 'no-store' });
    const data = await res.json().catch(() => ({}));
    if (seq !== loads.current || edits.current !== editsBefore) return;
    if (!res.ok) return setStatus({ kind: 'error', text: data.error ?? `could not open ${path}` });
    const file = data as FileState;
    version.current = file.version;
    const v = view.current;
    v?.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: file.content } });
    setDirty(false);
    setStatus(file.version === 'missing' ? { kind: 'info', text: `${path} does not exist yet: saving creates it.` } : undefined);
  }, [url, path]);

  const save = useCallback(
    async (force = false) => {
      const content = view.current?.state.doc.toString() ?? '';
      const editsBefore = edits.current;
      const res = await fetch(url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content, version: version.current, force }),
      });
      const data = await res.json().catch(() => ({}));
      if (res.status === 409) return setStatus({ kind: 'conflict', text: data.error });
      if (!res.ok) return setStatus({ kind: 'error', text: data.error ?? 'save failed' });
      version.current = (data as FileState).version;
      // Typed while the save was on its way: that text is not saved yet.
      setDirty(edits.current !== editsBefore);
      setStatus({ kind: 'saved', text: `Saved ${path}` });
    },
    [url, path],
  );

  const saveRef = useLatest(save);

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      extensions: [
        basicSetup,
        oneDark,
        CONTRAST,
        ...(/\.ya?ml$/.test(path) ? [yaml()] : []),
        keymap.of([{ key: 'Mod-s', preventDefault: true, run: () => (void saveRef.current(), true) }]),
        EditorView.contentAttributes.of({ 'aria-label': `Editor: ${path}` }),
        EditorView.updateListener.of((u) => {
          if (!u.docChanged) return;
          // The learner's changes carry a user event (input, delete, paste, undo, redo, drop); a load's do not.
          if (!u.transactions.some((t) => t.docChanged && t.annotation(Transaction.userEvent) !== undefined)) return;
          edits.current++;
          setDirty(true);
        }),
      ],
    });
    view.current = v;
    void load();
    return () => v.destroy();
  }, [path, load, saveRef]);

  // Re-read when the tab comes back into view and nothing is unsaved: the file may have changed in a terminal.
  useEffect(() => {
    if (visible && !dirty && view.current) void load();
  }, [visible]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div className="editor">
      <div className="editor-bar">
        <span className="path">
          {path}
          {dirty ? ' •' : ''}
        </span>
        {status && (
          // Live regions without a role: role status/alert on the page belong to the check verdict.
          <span className={`editor-status ${status.kind}`} aria-live={status.kind === 'error' || status.kind === 'conflict' ? 'assertive' : 'polite'}>
            {status.text}
          </span>
        )}
        {status?.kind === 'conflict' && (
          <>
            <button onClick={() => void load()}>Reload</button>
            <button onClick={() => void save(true)}>Overwrite</button>
          </>
        )}
        <button className="primary" onClick={() => void save()}>
          Save
        </button>
      </div>
      <div className="editor-host" ref={host} />
    </div>
  );
}
