/**
 * Named locks that hold across replicas: PostgreSQL advisory locks, each held on a connection of a
 * small pool of its own for as long as the work under it runs (a session-level lock belongs to its
 * connection; Prisma's pool would hand the unlock to another one). A replica that dies mid-work
 * loses its connections, and with them its locks. SQLite needs none of this: one server.
 */
import pg from 'pg';

export interface NamedLocks {
  /** Runs `fn` while holding the lock `key` (waiting for it first). */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The first half of every key: Labforge's locks never meet another application's. */
const NAMESPACE = 0x1ab;

export class AdvisoryLocks implements NamedLocks {
  private readonly pool: pg.Pool;

  /** `max`: locks held at once by this replica; more wait for a connection (default 16). */
  constructor(connectionString: string, max = 16) {
    this.pool = new pg.Pool({ connectionString, max, application_name: 'labforge-locks' });
    // An idle connection that breaks is dropped by the pool; nothing of ours is on it.
    this.pool.on('error', () => undefined);
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [NAMESPACE, key]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMESPACE, key]).catch((e: Error) => (broken = e));
      }
    } finally {
      // A connection whose unlock failed is closed, which releases whatever it held.
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Runs `fn` under the lock `key` on a connection of its own, for one-off work (a migration, making a queue). */
export async function withAdvisoryLock<T>(connectionString: string, key: string, fn: () => Promise<T>): Promise<T> {
  const locks = new AdvisoryLocks(connectionString, 1);
  try {
    return await locks.run(key, fn);
  } finally {
    await locks.close();
  }
}
