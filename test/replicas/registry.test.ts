/**
 * The replica registry (lib/replicas/registry.ts) on a real database: each replica's row, its
 * heartbeat, who counts as live, and what is forgotten; and the terminal directory
 * (terminal-directory.ts) that says which replica runs a tab's terminal.
 */
import { describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { ReplicaRegistry } from '../../lib/replicas/registry';
import { TerminalDirectoryTable } from '../../lib/replicas/terminal-directory';
import { databaseForThisFile } from '../support/database';

const t = databaseForThisFile('replicas');

describe('ReplicaRegistry', () => {
  it('registers each replica; a silent one stops counting, then is forgotten', async () => {
    let now = Date.now();
    const clock = () => now;
    const first = new ReplicaRegistry(t.db, log, { heartbeatMs: 60_000, deadAfterMs: 20_000, now: clock });
    const second = new ReplicaRegistry(t.db, log, { heartbeatMs: 60_000, deadAfterMs: 20_000, now: clock });
    await first.start();
    now += 1000;
    await second.start();
    expect(first.id).not.toBe(second.id);
    expect(await first.liveIds()).toEqual(new Set([first.id, second.id]));

    // 25 s later only `second` has said it lives (its heartbeat, by hand here): `first` is gone.
    now += 25_000;
    await t.db.replica.update({ where: { id: second.id }, data: { seenAt: new Date(now) } });
    expect(await second.liveIds()).toEqual(new Set([second.id]));
    expect(await second.forgetGone()).toBe(0); // gone, but not for long: its jobs may still be moving
    await t.db.terminalHolder.create({ data: { sessionId: 's', tab: 'shell', replicaId: first.id } });
    now += 20_000;
    await t.db.replica.update({ where: { id: second.id }, data: { seenAt: new Date(now) } });
    expect(await second.forgetGone()).toBe(1);
    expect(await t.db.replica.count({ where: { id: first.id } })).toBe(0);
    expect(await t.db.terminalHolder.count()).toBe(0); // its terminals went with it

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

describe('TerminalDirectoryTable', () => {
  it('names the live replica running a tab’s terminal, never this one or a gone one', async () => {
    let now = Date.now();
    const clock = () => now;
    const a = new ReplicaRegistry(t.db, log, { url: 'http://10.0.0.1:3000', deadAfterMs: 20_000, heartbeatMs: 60_000, now: clock });
    const b = new ReplicaRegistry(t.db, log, { url: 'http://10.0.0.2:3000', deadAfterMs: 20_000, heartbeatMs: 60_000, now: clock });
    await a.start();
    await b.start();
    const onA = new TerminalDirectoryTable(t.db, a, log);
    const onB = new TerminalDirectoryTable(t.db, b, log);
    expect(await onB.elsewhere('s-1', 'shell')).toBeUndefined(); // nobody runs it yet
    onA.hold('s-1', 'shell');
    await expect.poll(() => onB.elsewhere('s-1', 'shell')).toBe('http://10.0.0.1:3000');
    expect(await onA.elsewhere('s-1', 'shell')).toBeUndefined(); // a's own
    onB.release('s-1', 'shell'); // not b's to release
    await new Promise((r) => setTimeout(r, 100));
    expect(await onB.elsewhere('s-1', 'shell')).toBe('http://10.0.0.1:3000');
    now += 25_000; // a falls silent: its terminal is nobody's
    await t.db.replica.update({ where: { id: b.id }, data: { seenAt: new Date(now) } });
    expect(await onB.elsewhere('s-1', 'shell')).toBeUndefined();
    onB.hold('s-1', 'shell'); // b starts it again and holds it
    await expect.poll(async () => (await t.db.terminalHolder.findFirst({ where: { sessionId: 's-1' } }))?.replicaId).toBe(b.id);
    onB.release('s-1', 'shell');
    await expect.poll(() => t.db.terminalHolder.count({ where: { sessionId: 's-1' } })).toBe(0);
    await a.stop();
    await b.stop();
  });
});
