/**
 * The runtime's webhook pass (started and stopped by lib/runtime/start.ts). Every `pollMs`, and
 * again whenever an attempt ends: new events fan out into deliveries (fanout.ts), then each
 * subscription's oldest pending delivery, if due, is POSTed (send.ts), signed (signature.ts).
 * A 2xx delivers it and lets the next one go; anything else schedules a retry (retry.ts) or, for
 * a delivery older than the retry window, gives it up. Everything lives in the database, so a
 * restarted server carries on where this one stopped.
 *
 * Bounded: one attempt in flight per subscription (that is what keeps them in order), at most
 * `maxInFlight` in all, each within `timeoutMs`; fan-out reads the log in batches.
 */
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import { fanOut } from './fanout';
import { claim, dueHeads, prune, record, type DueDelivery } from './queue';
import { RETRY, retryAt, type RetryPolicy } from './retry';
import { post, type SendLimits } from './send';
import { deliveryHeaders } from './signature';

export interface DispatcherOptions {
  /** How often new events and due retries are looked for. */
  pollMs?: number;
  /** The first retry's delay; each further one doubles it. */
  backoffBaseMs?: number;
  maxBackoffMs?: number;
  /** A delivery still failing this long after its event is given up. */
  maxAgeMs?: number;
  timeoutMs?: number;
  maxResponseBytes?: number;
  maxInFlight?: number;
  /** Delivered and given-up entries stay in the log this long. */
  retentionMs?: number;
  now?: () => Date;
  random?: () => number;
}

const DEFAULTS = { pollMs: 1000, timeoutMs: 10_000, maxResponseBytes: 4096, maxInFlight: 8, retentionMs: 30 * 24 * 3_600_000 };
/** Fan-out batches per pass: a long backlog (a server that was down) is worked through over a few passes. */
const FANOUT_BATCHES = 10;
const PRUNE_EVERY_MS = 3_600_000;
/** A claimed delivery is left alone this long past its attempt's timeout (then a crashed attempt is retried). */
const LEASE_MARGIN_MS = 30_000;

export class WebhookDispatcher {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly pollMs: number;
  private readonly maxInFlight: number;
  private readonly retentionMs: number;
  private readonly retry: RetryPolicy;
  private readonly limits: SendLimits;
  /** Attempts under way, by subscription. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private passing?: Promise<void>;
  private again = false;
  private stopped = false;
  private prunedAt = 0;
  /** The last pass's failure, logged once rather than every `pollMs` while it lasts (a full disk, say). */
  private failing?: string;

  constructor(
    private db: Db,
    log: Logger,
    opts: DispatcherOptions = {},
  ) {
    this.log = log.child({ module: 'webhooks' });
    this.now = opts.now ?? (() => new Date());
    this.random = opts.random ?? Math.random;
    this.pollMs = opts.pollMs ?? DEFAULTS.pollMs;
    this.maxInFlight = opts.maxInFlight ?? DEFAULTS.maxInFlight;
    this.retentionMs = opts.retentionMs ?? DEFAULTS.retentionMs;
    this.retry = { baseMs: opts.backoffBaseMs ?? RETRY.baseMs, maxDelayMs: opts.maxBackoffMs ?? RETRY.maxDelayMs, maxAgeMs: opts.maxAgeMs ?? RETRY.maxAgeMs };
    this.limits = { timeoutMs: opts.timeoutMs ?? DEFAULTS.timeoutMs, maxResponseBytes: opts.maxResponseBytes ?? DEFAULTS.maxResponseBytes };
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Runs a pass now, or right after the one under way (passes never overlap). */
  wake(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.pass()
      .then(() => {
        if (this.failing) this.log.info('webhook passes work again');
        this.failing = undefined;
      })
      .catch((e: Error) => {
        if (e.message !== this.failing) this.log.warn({ err: e.message }, 'webhook pass failed; trying again every poll');
        this.failing = e.message;
      })
      .finally(() => {
        this.passing = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops polling and waits for the attempts under way (each ends within its timeout), so none is cut off and sent twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.passing;
    await Promise.all(this.inFlight.values());
  }

  private async pass(): Promise<void> {
    for (let i = 0; i < FANOUT_BATCHES && !this.stopped; i++) if (!(await fanOut(this.db)).more) break;
    await this.pruneNow();
    const room = this.maxInFlight - this.inFlight.size;
    for (const d of await dueHeads(this.db, this.now(), new Set(this.inFlight.keys()), room)) {
      if (this.stopped) break;
      const task = this.attempt(d)
        .catch((e: Error) => this.log.warn({ delivery: d.id, err: e.message }, 'webhook attempt could not be recorded'))
        .finally(() => {
          this.inFlight.delete(d.subscriptionId);
          this.wake(); // the subscription's next delivery may go now
        });
      this.inFlight.set(d.subscriptionId, task);
    }
  }

  private async attempt(d: DueDelivery): Promise<void> {
    if (!(await claim(this.db, d, new Date(this.now().getTime() + this.limits.timeoutMs + LEASE_MARGIN_MS)))) return;
    const timestamp = Math.floor(this.now().getTime() / 1000);
    const outcome = await post(d.subscription.url, deliveryHeaders(d, d.subscription.secret, timestamp), d.body, this.limits);
    const now = this.now();
    const retry = outcome.ok ? null : retryAt(this.retry, d.attempts + 1, d.createdAt, now, this.random);
    await record(this.db, d.id, outcome, now, retry);
    const about = { subscription: d.subscriptionId, delivery: d.id, event: d.event, attempt: d.attempts + 1 };
    if (outcome.ok) this.log.debug(about, 'webhook delivered');
    else if (retry) this.log.info({ ...about, err: outcome.error, retryAt: retry.toISOString() }, 'webhook delivery failed; will retry');
    else this.log.warn({ ...about, err: outcome.error }, 'webhook delivery given up: still failing after the retry window');
  }

  private async pruneNow(): Promise<void> {
    const now = this.now().getTime();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    const removed = await prune(this.db, new Date(now - this.retentionMs));
    if (removed) this.log.info({ removed }, 'old webhook deliveries removed from the log');
  }
}
