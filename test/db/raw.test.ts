/**
 * The provider-specific SQL of lib/db/raw.ts, on the provider this run has (SQLite, or PostgreSQL
 * in the `postgres` project): the health probe's write that changes nothing, and the Event log's
 * settled top, which on PostgreSQL must wait for an insert still in flight below the newest id
 * (its commit comes later than a higher id's), or the webhook fan-out would pass that event over.
 */
import { describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../lib/db/client';
import { clientProvider, providerOf } from '../../lib/db/provider';
import { storageFault } from '../../lib/db/faults';
import { settledEventTop, writeProbe } from '../../lib/db/raw';
import { testServerUrl, databaseForThisFile } from '../support/database';

const t = databaseForThisFile('raw');

const event = (client: Pick<Db, 'event'>) => client.event.create({ data: { type: 'test.event' } });

describe('provider-specific SQL', () => {
  it('knows the provider of the client createDb made', () => {
    expect(clientProvider(t.db)).toBe(providerOf(t.url));
    expect(providerOf('file:/tmp/x.db')).toBe('sqlite');
    expect(providerOf('postgresql://u:p@h/db')).toBe('postgresql');
    expect(providerOf('postgres://u:p@h/db')).toBe('postgresql');
  });

  it('the write probe writes nothing: twice in a row, and no row appears or changes', async () => {
    await t.db.lab.create({ data: { slug: 'probe-lab', title: 'Probe', driver: 'docker', digest: 'd' } });
    const before = await t.db.lab.findMany();
    await writeProbe(t.db);
    await writeProbe(t.db);
    expect(await t.db.lab.findMany()).toEqual(before);
  });

  it('the settled top is the newest Event id once nothing is in flight (0 for an empty log)', async () => {
    await t.db.event.deleteMany();
    expect(await settledEventTop(t.db)).toBe(0);
    const a = await event(t.db);
    const b = await event(t.db);
    expect(b.id).toBeGreaterThan(a.id);
    expect(await settledEventTop(t.db)).toBe(b.id);
  });

  it('PostgreSQL: an Event inserted in a transaction still open holds the top back until it commits, even when a later id committed first', async (ctx) => {
    if (!testServerUrl()) {
      console.log('skipped: SQLite runs one writer at a time, so no id can commit out of order (the postgres project runs this)');
      ctx.skip();
    }
    let commit!: () => void;
    const held = new Promise<void>((r) => (commit = r));
    let early = 0;
    // A takes the lower id and stays open; B takes the next one and commits at once.
    const a = t.db.$transaction(
      async (tx) => {
        early = (await event(tx)).id;
        await held;
      },
      { timeout: 20_000 },
    );
    while (!early) await new Promise((r) => setTimeout(r, 10));
    const late = (await event(t.db)).id;
    expect(late).toBeGreaterThan(early);
    let top: number | undefined;
    const reading = settledEventTop(t.db).then((v) => (top = v));
    await new Promise((r) => setTimeout(r, 300));
    expect(top, 'the top was read while a lower id was still in flight').toBeUndefined();
    commit();
    await a;
    await reading;
    expect(top).toBe(late);
    expect(await t.db.event.count({ where: { id: { in: [early, late] } } })).toBe(2);
  });

  it('PostgreSQL: on a read-only database the probe fails, and the failure is a storage fault (503, not 500)', async (ctx) => {
    const server = testServerUrl();
    if (!server) {
      console.log('skipped: a read-only SQLite file is met in test/reliability/database.docker.test.ts (the postgres project runs this)');
      ctx.skip();
    }
    const name = new URL(t.url).pathname.slice(1);
    const admin = createDb(server!);
    await admin.$executeRawUnsafe(`ALTER DATABASE "${name}" SET default_transaction_read_only = on`);
    const readOnly = createDb(t.url); // new connections take the setting
    try {
      const probe = await writeProbe(readOnly).catch((e: unknown) => e);
      expect(storageFault(probe)).toEqual({ kind: 'read-only', code: '25006' });
      const write = await readOnly.lab.create({ data: { slug: 'ro', title: 'RO', driver: 'docker', digest: '' } }).catch((e: unknown) => e);
      expect(storageFault(write)).toEqual({ kind: 'read-only', code: '25006' });
    } finally {
      await readOnly.$disconnect();
      await admin.$executeRawUnsafe(`ALTER DATABASE "${name}" RESET default_transaction_read_only`);
      await admin.$disconnect();
    }
  });
});
