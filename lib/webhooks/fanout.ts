/**
 * The outbox's first half: new rows of the Event log become one WebhookDelivery per matching
 * subscription. A cursor (the last Event id read) moves in the same transaction that writes the
 * deliveries, so every event fans out exactly once, across restarts and crashes alike; the cursor's
 * write is conditional on the value it was read with, so a second fan-out racing this one (another
 * process on the same database) rolls back instead of writing the same deliveries again.
 *
 * Reading "everything above the cursor" misses none because the batch ends at the highest id no
 * insert is still in flight below (settledEventTop, lib/db/raw.ts): on SQLite writes are
 * serialised, on PostgreSQL a slower transaction could otherwise commit a lower id later.
 */
import type { Db } from '../db/client';
import { settledEventTop } from '../db/raw';
import { buildBody } from './body';
import { LOG_TYPES, publicType } from './events';
import { matches, toSubscription } from './subscriptions';

const CURSOR = 'webhooks';

export interface FanOutResult {
  /** Deliveries written. */
  deliveries: number;
  /** Whether events are left beyond this batch. */
  more: boolean;
}

export async function fanOut(db: Db, batch = 200): Promise<FanOutResult> {
  const cursor = await db.webhookCursor.findUnique({ where: { name: CURSOR } });
  const from = cursor?.lastEventId ?? 0;
  const top = await settledEventTop(db);
  if (top <= from) return { deliveries: 0, more: false };
  const events = await db.event.findMany({
    where: { id: { gt: from, lte: top }, type: { in: LOG_TYPES } },
    orderBy: { id: 'asc' },
    take: batch,
    include: { session: { select: { id: true, labSlug: true, learnerRef: true, challenges: { select: { status: true } } } } },
  });
  const more = events.length === batch;
  // Log rows of other types up to `top` are passed over with the cursor: they are never sent.
  const upTo = more ? events[events.length - 1].id : top;
  // Read after the events: a subscription made before one of them happened is in this list.
  const subs = (await db.webhookSubscription.findMany()).map(toSubscription);
  const rows: { subscriptionId: string; event: string; body: string }[] = [];
  for (const e of events) {
    const type = publicType(e.type);
    if (!type || !e.session) continue;
    const session = e.session;
    const targets = subs.filter((s) => matches(s, session.labSlug, type, e.createdAt));
    if (!targets.length) continue;
    const body = JSON.stringify(buildBody(type, { ...e, session }));
    for (const s of targets) rows.push({ subscriptionId: s.id, event: type, body });
  }
  await db.$transaction([
    cursor
      ? db.webhookCursor.update({ where: { name: CURSOR, lastEventId: from }, data: { lastEventId: upTo } })
      : db.webhookCursor.create({ data: { name: CURSOR, lastEventId: upTo } }),
    db.webhookDelivery.createMany({ data: rows }),
  ]);
  return { deliveries: rows.length, more };
}
