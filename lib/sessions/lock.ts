import type { NamedLocks } from '../db/locks';

/**
 * Serializes operations per key (a session id), so check, next and stop never interleave. In this
 * process first, then, with several replicas, across them (`shared`: lib/db/locks.ts): only the
 * first local waiter holds a database connection while it waits.
 */
export class KeyedLock {
  private tails = new Map<string, Promise<unknown>>();

  constructor(private readonly shared?: NamedLocks) {}

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const held = this.shared ? () => this.shared!.run(key, fn) : fn;
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(held, held);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => this.tails.get(key) === tail && this.tails.delete(key));
    return next;
  }
}
