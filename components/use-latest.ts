import { useLayoutEffect, useRef } from 'react';

/**
 * A ref that always holds the latest `value`, for callbacks registered once (xterm handlers,
 * CodeMirror keymaps, timers) that must see the current props. Updated after render, in a layout
 * effect, so rendering never writes a ref.
 */
export function useLatest<T>(value: T) {
  const ref = useRef(value);
  useLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}
