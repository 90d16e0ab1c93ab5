/**
 * The outbox's second half, as rows: which deliveries are due, taking one for an attempt, and
 * writing what came of it. Only a subscription's oldest pending delivery (its head) is ever due,
 * so a later event is never sent while an earlier one is still being retried.
 */
import type { Db } from '../db/client';
import type { WebhookDelivery, WebhookSubscription } from '../db/generated/client';
import type { SendOutcome } from './send';

export type DueDelivery = WebhookDelivery & { subscription: WebhookSubscription };

const PENDING = { deliveredAt: null, givenUpAt: null };

/** Heads of the subscriptions not in `busy` whose next attempt is due, oldest first. */
export async function dueHeads(db: Db, now: Date, busy: ReadonlySet<string>, limit: number): Promise<DueDelivery[]> {
  if (limit <= 0) return [];
  const heads = await db.webhookDelivery.groupBy({ by: ['subscriptionId'], where: PENDING, _min: { id: true } });
  const ids = heads.flatMap((h) => (busy.has(h.subscriptionId) || h._min.id === null ? [] : [h._min.id]));
  if (!ids.length) return [];
  return db.webhookDelivery.findMany({
    where: { id: { in: ids }, nextAttemptAt: { lte: now } },
    orderBy: { id: 'asc' },
    take: limit,
    include: { subscription: true },
  });
}

/**
 * Takes a delivery for one attempt by moving its next attempt past the attempt's end, provided
 * nobody changed it since it was read: a second dispatcher on the database skips it, and if this
 * process dies mid-attempt the delivery is due again once `until` has passed.
 */
export async function claim(db: Db, d: WebhookDelivery, until: Date): Promise<boolean> {
  const { count } = await db.webhookDelivery.updateMany({
    where: { id: d.id, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt, ...PENDING },
    data: { nextAttemptAt: until },
  });
  return count === 1;
}

/** An attempt's result: delivered, or failed with the next attempt's time (`retry`) or given up (null). */
export async function record(db: Db, id: number, outcome: SendOutcome, now: Date, retry: Date | null): Promise<void> {
  const after = { attempts: { increment: 1 }, lastStatus: outcome.status, lastError: outcome.error };
  const data = outcome.ok ? { ...after, deliveredAt: now } : retry ? { ...after, nextAttemptAt: retry } : { ...after, givenUpAt: now };
  await db.webhookDelivery.update({ where: { id }, data });
}

/** The log is kept for `before` and no longer: delivered and given-up entries older than it go. */
export async function prune(db: Db, before: Date): Promise<number> {
  const { count } = await db.webhookDelivery.deleteMany({ where: { OR: [{ deliveredAt: { lt: before } }, { givenUpAt: { lt: before } }] } });
  return count;
}
