/**
 * The runtime's webhook pass (started and stopped by lib/runtime/start.ts), run by the loop in
 * outbox-loop.ts: new events fan out into deliveries (fanout.ts), then each subscription's oldest
 * pending delivery, if due, is POSTed (send.ts), signed (signature.ts). A 2xx delivers it and lets
 * the next one go; anything else schedules a retry (retry.ts) or, for a delivery older than the
 * retry window, gives it up. Everything lives in the database, so a restarted server carries on
 * where this one stopped.
 */
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import { fanOut } from './fanout';
import { OutboxLoop, type OutboxOptions } from './outbox-loop';
import { claim, dueHeads, prune, record, type DueDelivery } from './queue';
import { post, type SendOutcome } from './send';
import { deliveryHeaders } from './signature';

export type DispatcherOptions = OutboxOptions;

export class WebhookDispatcher extends OutboxLoop<DueDelivery> {
  constructor(db: Db, log: Logger, opts: DispatcherOptions = {}) {
    super(db, log, { module: 'webhooks', pass: 'webhook', item: 'webhook delivery' }, opts);
  }

  protected feed = () => fanOut(this.db);
  protected due = (now: Date, busy: ReadonlySet<string>, limit: number) => dueHeads(this.db, now, busy, limit);
  protected key = (d: DueDelivery) => d.subscriptionId;
  protected attemptMs = () => this.limits.timeoutMs;
  protected claim = (d: DueDelivery, until: Date) => claim(this.db, d, until);
  protected record = (d: DueDelivery, outcome: SendOutcome, now: Date, retry: Date | null) => record(this.db, d.id, outcome, now, retry);
  protected about = (d: DueDelivery) => ({ subscription: d.subscriptionId, delivery: d.id, event: d.event });

  protected async send(d: DueDelivery): Promise<SendOutcome> {
    const timestamp = Math.floor(this.now().getTime() / 1000);
    return post(d.subscription.url, deliveryHeaders(d, d.subscription.secret, timestamp), d.body, this.limits);
  }

  protected async prune(before: Date): Promise<void> {
    const removed = await prune(this.db, before);
    if (removed) this.log.info({ removed }, 'old webhook deliveries removed from the log');
  }
}
