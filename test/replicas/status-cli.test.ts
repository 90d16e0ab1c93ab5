/**
 * `labforge status`: the replicas of a database (live and gone, sessions each is preparing), and
 * where its jobs are. Its job queue part on PostgreSQL: test/jobs/pg-boss.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../cli/commands/status';
import { log } from '../../lib/base/log';
import { createDb } from '../../lib/db/client';
import { providerOf } from '../../lib/db/provider';
import { ReplicaRegistry } from '../../lib/replicas/registry';
import { captured } from '../support/cli';
import { databaseForThisFile } from '../support/database';

const t = databaseForThisFile('status-cli');
const cli = (...args: string[]) => captured(() => run(args, async () => createDb(t.url), { databaseUrl: t.url, replicaDeadMs: 20_000 }));

describe('labforge status', () => {
  it('lists live and gone replicas with what each prepares, and says where the jobs are', async () => {
    const live = new ReplicaRegistry(t.db, log, { url: 'http://10.0.0.7:3000', heartbeatMs: 60_000 });
    await live.start();
    await t.db.replica.create({ data: { id: 'gone0000000a', host: 'old-pod', pid: 42, seenAt: new Date(Date.now() - 60_000) } });
    await t.db.lab.create({ data: { slug: 'lab', title: 'Lab', driver: 'docker', digest: '' } });
    await t.db.session.create({ data: { id: 'prep1', labSlug: 'lab', learnerId: 'x'.repeat(32), status: 'provisioning', replicaId: live.id } });

    const json = await cli('--json');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { replicas: Array<Record<string, unknown>>; jobs: { shared: boolean } };
    expect(doc.replicas.map((r) => [r.id, r.live, r.preparing])).toEqual([
      [live.id, true, 1],
      ['gone0000000a', false, 0],
    ]);
    expect(doc.jobs.shared).toBe(providerOf(t.url) === 'postgresql');

    const text = await cli();
    expect(text.stdout).toMatch(new RegExp(`${live.id}  live .*http://10\\.0\\.0\\.7:3000 .*preparing 1`));
    expect(text.stdout).toMatch(/gone0000000a {2}gone \(last seen/);
    if (providerOf(t.url) === 'sqlite') expect(text.stdout).toMatch(/in the server process \(SQLite\)/);
    expect((await cli('--nope')).code).toBe(2);
    await live.stop();
  });
});
