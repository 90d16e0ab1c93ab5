/**
 * `labforge status`: the replicas of a database (live and gone, sessions each is preparing), where
 * its jobs are, the shared pool's members and the outboxes' deliveries. Its job queue part on
 * PostgreSQL: test/jobs/pg-boss.test.ts.
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

  it("shows the shared pool's members, and the webhook deliveries by state with the latest failing and why", async () => {
    await t.db.poolMember.createMany({
      data: [
        { owner: 'pool-1', lab: 'multicast', state: 'ready', replicaId: 'r1' },
        { owner: 'pool-2', lab: 'multicast', state: 'ready', replicaId: 'r1' },
        { owner: 'pool-3', lab: 'multicast', state: 'creating', replicaId: 'r2' },
      ],
    });
    await t.db.webhookSubscription.create({ data: { id: 'sub', url: 'https://grader.example/hook', secret: 's' } });
    const delivery = (extra: object) => ({ subscriptionId: 'sub', event: 'session.active', body: '{}', ...extra });
    await t.db.webhookDelivery.createMany({
      data: [
        delivery({}),
        delivery({ attempts: 1, deliveredAt: new Date() }),
        delivery({ attempts: 3, lastStatus: 503, lastError: 'HTTP 503', nextAttemptAt: new Date('2030-01-01T00:00:00Z') }),
        delivery({ attempts: 9, lastError: 'connection refused', givenUpAt: new Date() }),
      ],
    });

    const doc = JSON.parse((await cli('--json')).stdout) as {
      pool: Array<{ lab: string; state: string; count: number }>;
      deliveries: { counts: Array<Record<string, unknown>>; failing: Array<Record<string, unknown>> };
    };
    expect(doc.pool).toEqual([
      { lab: 'multicast', state: 'creating', count: 1 },
      { lab: 'multicast', state: 'ready', count: 2 },
    ]);
    expect(doc.deliveries.counts).toEqual([
      { outbox: 'webhooks', waiting: 1, retrying: 1, delivered: 1, givenUp: 1 },
      { outbox: 'lti-scores', waiting: 0, retrying: 0, delivered: 0, givenUp: 0 },
    ]);
    expect(doc.deliveries.failing.map((f) => [f.to, f.attempts, f.error, f.nextAttemptAt])).toEqual([
      ['https://grader.example/hook', 3, 'HTTP 503', '2030-01-01T00:00:00.000Z'],
      ['https://grader.example/hook', 9, 'connection refused', null],
    ]);

    const text = (await cli()).stdout;
    expect(text).toMatch(/webhooks {3}waiting 1, retrying 1, delivered 1, given up 1/);
    expect(text).toMatch(/to https:\/\/grader\.example\/hook {2}after 9 attempt\(s\), given up: connection refused/);
    if (providerOf(t.url) === 'postgresql') expect(text).toMatch(/multicast +creating 1, ready 2/);
  });
});
