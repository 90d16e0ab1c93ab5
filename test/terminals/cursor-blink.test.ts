/**
 * The terminal's cursor blinks only while in use (components/cursor-blink.ts): from focus or a key
 * press until 10 s without either, never on blur or with reduced motion. Fake timers; a stand-in
 * for xterm's Terminal with its real option and event shapes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Terminal } from '@xterm/xterm';
import { BLINK_IDLE_MS, blinkWhileActive } from '../../components/cursor-blink';

function fakeTerminal() {
  const listeners: Array<(d: string) => void> = [];
  const textarea = new EventTarget();
  const term = {
    options: { cursorBlink: false },
    textarea,
    onData: (cb: (d: string) => void) => {
      listeners.push(cb);
      return { dispose: () => listeners.splice(listeners.indexOf(cb), 1) };
    },
  };
  return { term: term as unknown as Terminal, type: (d: string) => listeners.forEach((l) => l(d)), textarea, listeners };
}

let reduced = false;
beforeEach(() => {
  vi.useFakeTimers();
  reduced = false;
  vi.stubGlobal('matchMedia', (q: string) => ({
    media: q,
    get matches() {
      return reduced;
    },
  }));
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the cursor blinks only while the terminal is in use', () => {
  it('blinks at first, rests after the idle time, and wakes on a key press and on focus', () => {
    const { term, type, textarea } = fakeTerminal();
    blinkWhileActive(term);
    expect(term.options.cursorBlink).toBe(true);
    vi.advanceTimersByTime(BLINK_IDLE_MS - 1);
    expect(term.options.cursorBlink).toBe(true);
    vi.advanceTimersByTime(1);
    expect(term.options.cursorBlink).toBe(false);

    type('l');
    expect(term.options.cursorBlink).toBe(true);
    vi.advanceTimersByTime(BLINK_IDLE_MS / 2);
    type('s'); // each key press starts the idle time again
    vi.advanceTimersByTime(BLINK_IDLE_MS - 1);
    expect(term.options.cursorBlink).toBe(true);
    vi.advanceTimersByTime(1);
    expect(term.options.cursorBlink).toBe(false);

    textarea.dispatchEvent(new Event('focus'));
    expect(term.options.cursorBlink).toBe(true);
    textarea.dispatchEvent(new Event('blur'));
    expect(term.options.cursorBlink).toBe(false);
  });

  it('never blinks with reduced motion', () => {
    reduced = true;
    const { term, type } = fakeTerminal();
    blinkWhileActive(term);
    type('x');
    expect(term.options.cursorBlink).toBe(false);
  });

  it('lets go of the terminal when disposed', () => {
    const { term, type, listeners } = fakeTerminal();
    const dispose = blinkWhileActive(term);
    dispose();
    expect(listeners).toHaveLength(0);
    vi.advanceTimersByTime(BLINK_IDLE_MS);
    expect(term.options.cursorBlink).toBe(true); // no timer left to change it
    type('x');
    expect(vi.getTimerCount()).toBe(0);
  });
});
