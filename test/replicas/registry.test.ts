/**
 * The replica registry (lib/replicas/registry.ts) on a real database: each replica's row, its
 * heartbeat, who counts as live, who leads, and what is forgotten.
 */
import { describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { ReplicaRegistry } from '../../lib/replicas/registry';
import { databaseForThisFile } from '../support/database';

const t = databaseForThisFile('replicas');

describe('ReplicaRegistry', () => {
  it('registers each replica; the oldest live one leads; a silent one stops counting, then is forgotten', async () => {
    let now = Date.now();
    const clock = () => now;
    const first = new ReplicaRegistry(t.db, log, { heartbeatMs: 60_000, deadAfterMs: 20_000, now: clock });
    const second = new ReplicaRegistry(t.db, log, { heartbeatMs: 60_000, deadAfterMs: 20_000, now: clock });
    await first.start();
    now += 1000;
    await second.start();
    expect(first.id).not.toBe(second.id);
    expect((await first.live()).map((r) => r.id)).toEqual([first.id, second.id]);
    expect(await first.leads()).toBe(true);
    expect(await second.leads()).toBe(false);

    // 25 s later only `second` has said it lives (its heartbeat, by hand here): `first` is gone, `second` leads.
    now += 25_000;
    await t.db.replica.update({ where: { id: second.id }, data: { seenAt: new Date(now) } });
    expect((await second.live()).map((r) => r.id)).toEqual([second.id]);
    expect(await second.leads()).toBe(true);
    expect(await second.forgetGone()).toBe(0); // gone, but not for long: its jobs may still be moving
    now += 20_000;
    await t.db.replica.update({ where: { id: second.id }, data: { seenAt: new Date(now) } });
    expect(await second.forgetGone()).toBe(1);
    expect(await t.db.replica.count({ where: { id: first.id } })).toBe(0);

    await second.stop();
    await first.stop();
    expect(await t.db.replica.count()).toBe(0);
  });

  it('heartbeats on its own, and writes its row back if another forgot it', async () => {
    const r = new ReplicaRegistry(t.db, log, { heartbeatMs: 50, deadAfterMs: 1000 });
    await r.start();
    const before = (await t.db.replica.findUniqueOrThrow({ where: { id: r.id } })).seenAt.getTime();
    await t.db.replica.deleteMany({ where: { id: r.id } });
    await expect.poll(async () => (await t.db.replica.findUnique({ where: { id: r.id } }))?.seenAt.getTime() ?? 0).toBeGreaterThan(before);
    await r.stop();
    expect(await t.db.replica.count({ where: { id: r.id } })).toBe(0);
  });
});
