/**
 * The dispatcher against a real receiver on localhost over a real SQLite database: retries with
 * backoff, signatures as the docs verify them, order per subscription, a receiver that is down for
 * a while, giving up, and a restart of the dispatcher. Delays are milliseconds (support.ts FAST).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../lib/db/client';
import { deliveryLog } from '../../lib/webhooks/delivery-log';
import type { WebhookDispatcher } from '../../lib/webhooks/dispatcher';
import { WebhookSubscriptions } from '../../lib/webhooks/subscriptions';
import { clear, dispatcher, fakeLab, ids, receiver, started, testDb, until, type Receiver } from './support';

const lab = fakeLab('multicast-basics');
let db: Db;
let subs: WebhookSubscriptions;
const running: WebhookDispatcher[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  db = (await testDb('delivery')).db;
  subs = new WebhookSubscriptions(db);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await clear(db);
});
afterAll(() => db.$disconnect());

/** A subscription of `lab` posting to a new receiver answering `answers`. */
async function subscribed(answers: Parameters<typeof receiver>[1] = [], events?: string[]) {
  let secret = '';
  const r = await receiver(() => secret, answers);
  receivers.push(r);
  const made = await subs.add({ url: r.url, labs: [lab.track.slug], events });
  secret = made.secret;
  return { r, id: made.info.id, secret };
}

function run(opts: Parameters<typeof dispatcher>[1] = {}) {
  const d = dispatcher(db, opts);
  running.push(d);
  d.start();
  return d;
}

describe('webhook delivery', () => {
  it('retries a failing receiver (500, no answer, 503) until it takes the event, signed, then sends the next in order', async () => {
    const { r, id } = await subscribed([500, 'hang', 503]);
    const first = await started(db, lab);
    const second = await started(db, lab);
    run();
    await until(() => r.received.length >= 5, 10_000, 'five requests');
    // The second event waited behind the first through all three failures.
    expect(ids(r)).toEqual([first, first, first, first, second].map(String));
    expect(r.received.map((x) => x.status)).toEqual([500, 'hung', 503, 200, 200]);
    expect(r.received.every((x) => x.verified)).toBe(true);
    const fourth = r.received[3];
    expect(fourth.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Labforge-Webhooks',
      'x-labforge-event': 'session.started',
    });
    expect(Math.abs(Number(fourth.headers['x-labforge-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    // The same delivery id on every retry; the next event's is higher.
    const deliveryIds = r.received.map((x) => Number(x.headers['x-labforge-delivery']));
    expect(new Set(deliveryIds.slice(0, 4)).size).toBe(1);
    expect(deliveryIds[4]).toBeGreaterThan(deliveryIds[0]);
    await until(async () => (await deliveryLog(db, id, 10)).every((d) => d.state === 'delivered'), 5_000, 'both recorded');
    const log = await deliveryLog(db, id, 10);
    expect(log.map((d) => [d.attempts, d.lastStatus, d.lastError])).toEqual([
      [1, 200, null],
      [4, 200, null],
    ]);
  });

  it('keeps a later event queued while an earlier one fails, and other subscriptions are not held up', async () => {
    const stuck = await subscribed([500, 500, 500, 500, 500, 500]);
    const healthy = await subscribed();
    const first = await started(db, lab);
    const second = await started(db, lab);
    run();
    await until(() => healthy.r.received.length === 2 && stuck.r.received.length >= 3, 10_000, 'the healthy receiver to get both');
    expect(ids(healthy.r)).toEqual([String(first), String(second)]);
    // Every request the failing receiver got so far was the first event.
    expect(new Set(ids(stuck.r))).toEqual(new Set([String(first)]));
    const log = await deliveryLog(db, stuck.id, 10);
    expect(log.map((d) => d.state)).toEqual(['queued', 'retrying']);
    expect(log[1].lastError).toMatch(/answered 500: failing on purpose/);
    await until(() => ids(stuck.r).includes(String(second)), 10_000, 'the second event after the first got through');
    expect(ids(stuck.r).slice(-2)).toEqual([String(first), String(second)]);
  });

  it('loses nothing while the receiver is down (connection refused), and delivers in order once it is back', async () => {
    const { r, id } = await subscribed();
    await r.close();
    const events = [await started(db, lab), await started(db, lab), await started(db, lab)];
    run();
    await until(async () => ((await deliveryLog(db, id, 10)).at(-1)?.attempts ?? 0) >= 2, 10_000, 'two refused attempts');
    expect((await deliveryLog(db, id, 10)).at(-1)?.lastError).toMatch(/could not reach the receiver: ECONNREFUSED/);
    await r.listen();
    await until(() => r.received.length === 3, 10_000, 'all three after the receiver came back');
    expect(ids(r)).toEqual(events.map(String));
  });

  it('gives up an event still failing after the retry window, logs it so, and goes on with the next', async () => {
    let failing = '';
    const { r, id } = await subscribed((body) => ((JSON.parse(body) as { id: string }).id === failing ? 502 : 200));
    const first = await started(db, lab);
    failing = String(first);
    const second = await started(db, lab);
    run({ maxAgeMs: 1000 });
    await until(() => ids(r).includes(String(second)), 10_000, 'the second event');
    await until(async () => (await deliveryLog(db, id, 1))[0].state === 'delivered', 5_000, 'the second recorded');
    const [last, givenUp] = await deliveryLog(db, id, 10);
    expect(givenUp).toMatchObject({ state: 'given up', lastStatus: 502, nextAttemptAt: null });
    expect(givenUp.attempts).toBeGreaterThanOrEqual(2);
    expect(last).toMatchObject({ state: 'delivered', attempts: 1 });
    const [info] = await subs.list();
    expect(info).toMatchObject({ pending: 0, givenUp: 1, last: { state: 'delivered', status: 200 } });
  });

  it('a restarted dispatcher (a new instance on the same database) loses nothing and sends nothing twice', async () => {
    const { r, id } = await subscribed();
    const before = [await started(db, lab), await started(db, lab)];
    const a = run();
    await until(() => r.received.length === 2, 10_000, 'the first two');
    await a.stop();
    const after = [await started(db, lab), await started(db, lab)];
    await new Promise((res) => setTimeout(res, 100)); // nothing runs now: the stopped instance sends nothing
    expect(r.received).toHaveLength(2);
    run();
    await until(() => r.received.length === 4, 10_000, 'the two made while it was stopped');
    await new Promise((res) => setTimeout(res, 200)); // a few more passes: still nothing twice
    expect(ids(r)).toEqual([...before, ...after].map(String));
    expect(await db.webhookDelivery.count({ where: { subscriptionId: id } })).toBe(4);
  });

  it('stop() lets an attempt under way finish and record, so the next instance does not send it again', async () => {
    const { r, id } = await subscribed(['slow']);
    const ev = await started(db, lab);
    const a = run();
    await until(() => r.received.length === 1, 10_000, 'the attempt');
    await a.stop(); // the answer comes 150 ms later: stop() waits for it
    expect((await deliveryLog(db, id, 1))[0].state).toBe('delivered');
    run();
    await new Promise((res) => setTimeout(res, 300));
    expect(ids(r)).toEqual([String(ev)]);
  });
});
