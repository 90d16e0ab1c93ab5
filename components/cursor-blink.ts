/**
 * A blinking cursor only while the learner is at it. xterm blinks with a CSS animation that
 * Chromium cannot composite, so a blinking terminal restyles and repaints the page every frame:
 * measured in Chromium, an idle session page took a quarter of a core this way, against 1 % for
 * a page without it. Like GTK's cursor-blink-timeout, the cursor blinks from a key press or focus
 * and stays solid after `idleMs` without either; never with reduced motion.
 */
import type { Terminal } from '@xterm/xterm';

export const BLINK_IDLE_MS = 10_000;

export function blinkWhileActive(term: Terminal, idleMs = BLINK_IDLE_MS): () => void {
  const reduced = globalThis.matchMedia?.('(prefers-reduced-motion: reduce)');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const rest = () => {
    clearTimeout(timer);
    if (term.options.cursorBlink) term.options.cursorBlink = false;
  };
  const wake = () => {
    if (reduced?.matches) return rest();
    if (!term.options.cursorBlink) term.options.cursorBlink = true;
    clearTimeout(timer);
    timer = setTimeout(rest, idleMs);
  };
  const input = term.onData(wake);
  const textarea = term.textarea;
  textarea?.addEventListener('focus', wake);
  textarea?.addEventListener('blur', rest);
  wake();
  return () => {
    clearTimeout(timer);
    input.dispose();
    textarea?.removeEventListener('focus', wake);
    textarea?.removeEventListener('blur', rest);
  };
}
