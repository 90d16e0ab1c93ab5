/** Waiting in tests: polling a condition with a deadline, and a plain sleep. */

/**
 * Calls `fn` (sync or async) every `everyMs` until it returns something truthy, which it resolves
 * to; fails after `timeoutMs` saying what it waited for. Polling suites that ask an engine set a
 * slower `everyMs` than in-process checks.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 10_000,
  everyMs = 5,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
