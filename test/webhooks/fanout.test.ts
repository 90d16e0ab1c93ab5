/**
 * Events → deliveries: the session layer's events (written by its repository, as a Check and an
 * end write them), which subscriptions they reach, what their bodies hold, and that each event
 * fans out exactly once (twice in a row, in batches, and two fan-outs racing on two connections).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../lib/db/client';
import type { WebhookBody } from '../../lib/webhooks/body';
import { lostRace } from '../../lib/db/faults';
import { fanOut } from '../../lib/webhooks/fanout';
import { WebhookSubscriptions } from '../../lib/webhooks/subscriptions';
import { clear, fakeLab, newSession, started, testDb } from './support';

const lab = fakeLab('multicast-basics');
const other = fakeLab('ospf-intro');
let db: Db;
let subs: WebhookSubscriptions;

beforeAll(async () => {
  db = (await testDb('fanout')).db;
  subs = new WebhookSubscriptions(db);
});
afterEach(() => clear(db));
afterAll(() => db.$disconnect());

const bodies = async (subscriptionId: string) =>
  (await db.webhookDelivery.findMany({ where: { subscriptionId }, orderBy: { id: 'asc' } })).map((d) => JSON.parse(d.body) as WebhookBody);

const verdict = (passed: boolean, message: string) => ({ passed, message, output: [{ host: 'workstation', stdout: 'secret stuff' }] });

describe('webhook fan-out', () => {
  it('turns a Check, an end and a start into events with the documented bodies, and no secrets', async () => {
    const { info } = await subs.add({ url: 'https://grader.example.com/hook', labs: [lab.track.slug] });
    const s = await newSession(db, lab, 'student-417');
    await s.repo.event(s.id, 'session.active', {});
    await s.repo.recordCheck(await s.row(), { challenge: 'first', kind: 'check', verdict: verdict(false, 'FAIL: no route to 10.0.0.2'), durationMs: 5 });
    await s.repo.recordCheck(await s.row(), { challenge: 'first', kind: 'check', verdict: verdict(true, 'Well done'), durationMs: 5 });
    await s.repo.end(s.id, 'completed');
    await fanOut(db);
    const [start, failed, passed, completed] = await bodies(info.id);
    const session = { id: s.id, learner: 'student-417' };
    expect(start).toEqual({
      id: expect.any(String),
      type: 'session.started',
      createdAt: expect.any(String),
      lab: 'multicast-basics',
      session: { ...session, status: 'active' },
    });
    expect(failed).toMatchObject({
      type: 'challenge.failed',
      session: { ...session, status: 'active' },
      challenge: { slug: 'first', index: 0, attempts: 1 },
      score: { passed: 0, total: 3 },
      message: 'FAIL: no route to 10.0.0.2',
    });
    expect(passed).toMatchObject({ type: 'challenge.passed', challenge: { slug: 'first', index: 0, attempts: 2 }, score: { passed: 1, total: 3 } });
    expect(passed).not.toHaveProperty('message');
    expect(completed).toMatchObject({ type: 'session.completed', session: { ...session, status: 'completed' }, score: { passed: 1, total: 3 } });
    expect(completed).not.toHaveProperty('challenge');
    const text = JSON.stringify([start, failed, passed, completed]);
    expect(text).not.toMatch(/hunter2|secret_password|secret stuff|learner-cookie-id/);
    // Ids are the events' own, in order; createdAt is the event's time.
    expect(Number(failed.id)).toBeGreaterThan(Number(start.id));
    expect(Date.parse(completed.createdAt)).toBeGreaterThanOrEqual(Date.parse(start.createdAt));
  });

  it('writes a Check and its event in one transaction: when the check run cannot be stored, neither is', async () => {
    const s = await newSession(db, lab);
    const row = { ...(await s.row()), currentIndex: 7 }; // no such challenge: the transaction fails
    await expect(s.repo.recordCheck(row, { challenge: 'x', kind: 'check', verdict: verdict(true, 'ok'), durationMs: 1 })).rejects.toThrow();
    expect(await db.checkRun.count({ where: { sessionId: s.id } })).toBe(0);
    expect(await db.event.count({ where: { sessionId: s.id, type: { startsWith: 'challenge.' } } })).toBe(0);
  });

  it('sends a subscription only its labs and event types, and nothing from before it existed', async () => {
    await started(db, lab); // before any subscription
    await new Promise((r) => setTimeout(r, 5)); // so no clock tick holds both
    const narrow = (await subs.add({ url: 'https://a.example/hook', labs: [lab.track.slug], events: ['challenge.passed', 'session.expired'] })).info;
    const every = (await subs.add({ url: 'https://b.example/hook', allLabs: true })).info;
    const mine = await newSession(db, lab);
    const theirs = await newSession(db, other);
    for (const s of [mine, theirs]) {
      await s.repo.event(s.id, 'session.active', {});
      await s.repo.event(s.id, 'session.extended', {}); // never sent
      await s.repo.recordCheck(await s.row(), { challenge: 'first', kind: 'check', verdict: verdict(true, 'ok'), durationMs: 1 });
      await s.repo.end(s.id, 'expired', 'the time limit was reached');
    }
    await fanOut(db);
    expect((await bodies(narrow.id)).map((b) => [b.lab, b.type])).toEqual([
      ['multicast-basics', 'challenge.passed'],
      ['multicast-basics', 'session.expired'],
    ]);
    const all = (await bodies(every.id)).map((b) => `${b.lab} ${b.type}`);
    expect(all).toEqual(['multicast-basics', 'ospf-intro'].flatMap((l) => [`${l} session.started`, `${l} challenge.passed`, `${l} session.expired`]));
  });

  it('fans each event out exactly once: run again, in small batches, and raced by a second fan-out', async () => {
    const { info } = await subs.add({ url: 'https://grader.example.com/hook', allLabs: true });
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await started(db, lab));
    expect(await fanOut(db, 2)).toEqual({ deliveries: 2, more: true });
    expect(await fanOut(db, 2)).toEqual({ deliveries: 2, more: true });
    expect(await fanOut(db, 2)).toEqual({ deliveries: 1, more: false });
    expect(await fanOut(db, 2)).toEqual({ deliveries: 0, more: false });
    expect((await bodies(info.id)).map((b) => b.id)).toEqual(events.map(String));

    for (let i = 0; i < 5; i++) events.push(await started(db, lab));
    // Two fan-outs at once (two dispatchers on one database): both read the same cursor, the one
    // that writes second finds it moved and its whole transaction rolls back.
    const results = await Promise.allSettled([fanOut(db), fanOut(db)]);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual([{ deliveries: 5, more: false }]);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code?: string }).code)).toEqual(['P2025']);
    // What the dispatchers' loop takes for a lost race (it reads again, quietly), not a fault.
    expect(results.filter((r) => r.status === 'rejected').map((r) => lostRace(r.reason))).toEqual([true]);
    expect(lostRace(new Error('disk I/O error'))).toBe(false);
    await fanOut(db);
    expect((await bodies(info.id)).map((b) => b.id)).toEqual(events.map(String));
    expect((await db.webhookCursor.findFirstOrThrow()).lastEventId).toBe(events.at(-1));
  });
});
