/**
 * The delivery log as operators read it (`labforge webhooks log` and `list`): each delivery's
 * state, attempts and the receiver's last answer. Read-only; the dispatcher writes (queue.ts).
 */
import type { Db } from '../db/client';
import type { WebhookDelivery } from '../db/generated/client';

/** queued: not tried yet; retrying: tried and failed, tried again at nextAttemptAt; given up: too old to retry. */
export type DeliveryState = 'delivered' | 'queued' | 'retrying' | 'given up';

export interface DeliveryEntry {
  id: number;
  event: string;
  state: DeliveryState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  givenUpAt: string | null;
  /** The JSON body exactly as sent. */
  body: string;
}

export interface LastAttempt {
  delivery: number;
  event: string;
  state: DeliveryState;
  status: number | null;
  error: string | null;
}

export interface DeliverySummary {
  /** Deliveries not yet accepted and not given up. */
  pending: number;
  givenUp: number;
  /** The newest delivery tried at least once (deliveries go in order, so this is the latest attempt). */
  last: LastAttempt | null;
}

type StateFields = Pick<WebhookDelivery, 'deliveredAt' | 'givenUpAt' | 'attempts'>;

export function deliveryState(d: StateFields): DeliveryState {
  return d.deliveredAt ? 'delivered' : d.givenUpAt ? 'given up' : d.attempts ? 'retrying' : 'queued';
}

/** A subscription's deliveries, newest first. */
export async function deliveryLog(db: Db, subscriptionId: string, limit: number): Promise<DeliveryEntry[]> {
  const rows = await db.webhookDelivery.findMany({ where: { subscriptionId }, orderBy: { id: 'desc' }, take: limit });
  return rows.map((d) => {
    const state = deliveryState(d);
    const pending = state === 'queued' || state === 'retrying';
    return {
      id: d.id,
      event: d.event,
      state,
      attempts: d.attempts,
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      createdAt: d.createdAt.toISOString(),
      nextAttemptAt: pending ? d.nextAttemptAt.toISOString() : null,
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
      givenUpAt: d.givenUpAt?.toISOString() ?? null,
      body: d.body,
    };
  });
}

/** Pending and given-up counts per subscription. */
export async function queueCounts(db: Db): Promise<Map<string, { pending: number; givenUp: number }>> {
  const [pending, givenUp] = await Promise.all([
    db.webhookDelivery.groupBy({ by: ['subscriptionId'], where: { deliveredAt: null, givenUpAt: null }, _count: { _all: true } }),
    db.webhookDelivery.groupBy({ by: ['subscriptionId'], where: { givenUpAt: { not: null } }, _count: { _all: true } }),
  ]);
  const out = new Map<string, { pending: number; givenUp: number }>();
  const at = (id: string) => out.get(id) ?? out.set(id, { pending: 0, givenUp: 0 }).get(id)!;
  for (const g of pending) at(g.subscriptionId).pending = g._count._all;
  for (const g of givenUp) at(g.subscriptionId).givenUp = g._count._all;
  return out;
}

/** Each subscription's latest attempt (subscriptions are few: one query each). */
export async function lastAttempts(db: Db, subscriptionIds: string[]): Promise<Map<string, LastAttempt>> {
  const out = new Map<string, LastAttempt>();
  for (const subscriptionId of subscriptionIds) {
    const d = await db.webhookDelivery.findFirst({ where: { subscriptionId, attempts: { gt: 0 } }, orderBy: { id: 'desc' } });
    if (d) out.set(subscriptionId, { delivery: d.id, event: d.event, state: deliveryState(d), status: d.lastStatus, error: d.lastError });
  }
  return out;
}
