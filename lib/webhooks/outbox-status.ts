/**
 * What an operator reads of the two outboxes, webhook deliveries and LTI score passbacks
 * (`labforge status`, the `labforge_deliveries` metric): items waiting for their first attempt,
 * being retried, delivered and given up, and the latest still failing with why. These jobs keep
 * their own tables (outbox-loop.ts) rather than the job queue's: a subscription's deliveries go
 * out in order, one at a time, which a retried pg-boss job would not keep; their claims make each
 * attempt happen once across replicas, and their backoff is retry.ts.
 */
import type { Db } from '../db/client';

export type OutboxName = 'webhooks' | 'lti-scores';

export interface OutboxCounts {
  outbox: OutboxName;
  waiting: number;
  retrying: number;
  delivered: number;
  givenUp: number;
}

export interface FailingItem {
  outbox: OutboxName;
  id: number;
  to: string;
  attempts: number;
  error: string;
  /** The next attempt, or null when it was given up. */
  nextAttemptAt: string | null;
}

const PENDING = { deliveredAt: null, givenUpAt: null };
const STATES = {
  waiting: { ...PENDING, attempts: 0 },
  retrying: { ...PENDING, attempts: { gt: 0 } },
  delivered: { deliveredAt: { not: null } },
  givenUp: { givenUpAt: { not: null } },
};
/** Failing now (pending after a failure) or given up. */
const FAILING = { deliveredAt: null, lastError: { not: null } };

async function countBy(outbox: OutboxName, count: (where: (typeof STATES)[keyof typeof STATES]) => Promise<number>): Promise<OutboxCounts> {
  const [waiting, retrying, delivered, givenUp] = await Promise.all([
    count(STATES.waiting),
    count(STATES.retrying),
    count(STATES.delivered),
    count(STATES.givenUp),
  ]);
  return { outbox, waiting, retrying, delivered, givenUp };
}

export async function outboxCounts(db: Db): Promise<OutboxCounts[]> {
  return Promise.all([countBy('webhooks', (where) => db.webhookDelivery.count({ where })), countBy('lti-scores', (where) => db.ltiScore.count({ where }))]);
}

/** The latest `limit` items of each outbox that failed their last attempt, newest first. */
export async function failingItems(db: Db, limit = 10): Promise<FailingItem[]> {
  const order = { nextAttemptAt: 'desc' } as const;
  const [webhooks, scores] = await Promise.all([
    db.webhookDelivery.findMany({ where: FAILING, orderBy: order, take: limit, include: { subscription: { select: { url: true } } } }),
    db.ltiScore.findMany({ where: FAILING, orderBy: order, take: limit }),
  ]);
  const item = (
    outbox: OutboxName,
    d: { id: number; attempts: number; lastError: string | null; nextAttemptAt: Date; givenUpAt: Date | null },
    to: string,
  ) => ({
    outbox,
    id: d.id,
    to,
    attempts: d.attempts,
    error: d.lastError ?? '',
    nextAttemptAt: d.givenUpAt ? null : d.nextAttemptAt.toISOString(),
  });
  return [...webhooks.map((d) => item('webhooks', d, d.subscription.url)), ...scores.map((s) => item('lti-scores', s, s.url))];
}
