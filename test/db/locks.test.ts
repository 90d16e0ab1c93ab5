/**
 * Locks across replicas (lib/db/locks.ts) on a real PostgreSQL: two lock sets on one database stand
 * for two replicas. Runs in the `postgres` lane only.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AdvisoryLocks } from '../../lib/db/locks';
import { KeyedLock } from '../../lib/sessions/lock';
import { databaseForThisFile, testServerUrl } from '../support/database';
import { sleep } from '../support/wait';

const server = testServerUrl();

describe.skipIf(!server)('AdvisoryLocks: two replicas on one database', () => {
  const t = databaseForThisFile('locks');
  const made: AdvisoryLocks[] = [];
  const replica = () => {
    const l = new AdvisoryLocks(t.url, 4);
    made.push(l);
    return new KeyedLock(l);
  };
  afterAll(async () => {
    await Promise.all(made.map((l) => l.close()));
  });

  /** Runs `ms` of work under `key` on `lock`, recording when it began and ended. */
  const work = (lock: KeyedLock, key: string, log: Array<[string, string]>, name: string, ms = 100) =>
    lock.run(key, async () => {
      log.push(['start', name]);
      await sleep(ms);
      log.push(['end', name]);
      return name;
    });

  it('one key: work through one replica and work through the other never overlap', async () => {
    const [a, b] = [replica(), replica()];
    const log: Array<[string, string]> = [];
    const results = await Promise.all([
      work(a, 'session-1', log, 'a1'),
      work(b, 'session-1', log, 'b1'),
      work(a, 'session-1', log, 'a2'),
      work(b, 'session-1', log, 'b2'),
    ]);
    expect(results).toEqual(['a1', 'b1', 'a2', 'b2']);
    for (let i = 0; i < log.length; i += 2) expect([log[i][0], log[i + 1][0], log[i][1]]).toEqual(['start', 'end', log[i + 1][1]]);
  });

  it('different keys run side by side', async () => {
    const [a, b] = [replica(), replica()];
    const log: Array<[string, string]> = [];
    const t0 = Date.now();
    await Promise.all([work(a, 'session-x', log, 'x', 300), work(b, 'session-y', log, 'y', 300)]);
    expect(Date.now() - t0).toBeLessThan(550);
    expect(log.slice(0, 2).map(([what]) => what)).toEqual(['start', 'start']);
  });

  it('a throw releases the lock for the other replica', async () => {
    const [a, b] = [replica(), replica()];
    await expect(a.run('session-2', async () => Promise.reject(new Error('check script failed')))).rejects.toThrow('check script failed');
    expect(await b.run('session-2', async () => 'got it')).toBe('got it');
  });
});
