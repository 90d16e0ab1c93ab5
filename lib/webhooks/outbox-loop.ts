/**
 * The loop the webhook dispatcher (dispatcher.ts) and LTI score passback (lib/lti/score-dispatcher.ts)
 * share: every `pollMs`, and again whenever an attempt ends, new events are queued (`feed`), then
 * each key's oldest pending item, if due, is claimed, sent and recorded; a failure is retried with
 * backoff (retry.ts) until the retry window ends. One attempt in flight per key keeps a key's items
 * in order; at most `maxInFlight` in all. Subclasses say only what is queued, how one item is sent
 * and how its result is recorded.
 */
import { lostRace } from '../db/faults';
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import { RETRY, retryAt, type RetryPolicy } from './retry';
import type { SendLimits, SendOutcome } from './send';

export interface OutboxOptions {
  /** How often new events and due retries are looked for. */
  pollMs?: number;
  /** The first retry's delay; each further one doubles it. */
  backoffBaseMs?: number;
  maxBackoffMs?: number;
  /** An item still failing this long after it was queued is given up. */
  maxAgeMs?: number;
  timeoutMs?: number;
  maxResponseBytes?: number;
  maxInFlight?: number;
  /** Delivered and given-up items stay in the log this long. */
  retentionMs?: number;
  now?: () => Date;
  random?: () => number;
}

/** The log's module, and what its lines call a pass and an item (`webhook`, `webhook delivery`). */
export interface OutboxNames {
  module: string;
  pass: string;
  item: string;
}

export interface OutboxItem {
  id: number;
  attempts: number;
  createdAt: Date;
}

/** Feed batches per pass: a long backlog (a server that was down) is worked through over a few passes. */
const FEED_BATCHES = 10;
const PRUNE_EVERY_MS = 3_600_000;
/** A claimed item is left alone this long past its attempt's time (then a crashed attempt is retried). */
const LEASE_MARGIN_MS = 30_000;

export abstract class OutboxLoop<T extends OutboxItem> {
  protected readonly log: Logger;
  protected readonly now: () => Date;
  protected readonly limits: SendLimits;
  private readonly random: () => number;
  private readonly pollMs: number;
  private readonly maxInFlight: number;
  private readonly retentionMs: number;
  private readonly retry: RetryPolicy;
  /** Attempts under way, by key. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private passing?: Promise<void>;
  private again = false;
  private stopped = false;
  private prunedAt = 0;
  /** The last pass's failure, logged once rather than every `pollMs` while it lasts (a full disk, say). */
  private failing?: string;

  constructor(
    protected readonly db: Db,
    log: Logger,
    private readonly names: OutboxNames,
    opts: OutboxOptions,
  ) {
    this.log = log.child({ module: names.module });
    this.now = opts.now ?? (() => new Date());
    this.random = opts.random ?? Math.random;
    this.pollMs = opts.pollMs ?? 1000;
    this.limits = { timeoutMs: opts.timeoutMs ?? 10_000, maxResponseBytes: opts.maxResponseBytes ?? 4096 };
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.retentionMs = opts.retentionMs ?? 30 * 24 * 3_600_000;
    this.retry = { baseMs: opts.backoffBaseMs ?? RETRY.baseMs, maxDelayMs: opts.maxBackoffMs ?? RETRY.maxDelayMs, maxAgeMs: opts.maxAgeMs ?? RETRY.maxAgeMs };
  }

  /** Queues a batch of new events; `more` when the log has more. */
  protected abstract feed(): Promise<{ more: boolean }>;
  /** Removes delivered and given-up items older than `before`. */
  protected abstract prune(before: Date): Promise<void>;
  /** Each key's oldest pending item if it is due, skipping `busy` keys, at most `limit`. */
  protected abstract due(now: Date, busy: ReadonlySet<string>, limit: number): Promise<T[]>;
  /** The key whose items go in order (a subscription, a session). */
  protected abstract key(item: T): string;
  /** How long one attempt can take at the most (the claim's lease is this and a margin). */
  protected abstract attemptMs(): number;
  /** Takes the item for one attempt until `until`; false when another process took it first. */
  protected abstract claim(item: T, until: Date): Promise<boolean>;
  protected abstract send(item: T): Promise<SendOutcome>;
  protected abstract record(item: T, outcome: SendOutcome, now: Date, retry: Date | null): Promise<void>;
  /** The item in the log lines. */
  protected abstract about(item: T): Record<string, unknown>;

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
        if (this.failing) this.log.info(`${this.names.pass} passes work again`);
        this.failing = undefined;
      })
      .catch((e: Error) => {
        // Another replica moved the cursor first: its transaction wrote those rows, ours rolled back.
        if (lostRace(e)) return void (this.again = true);
        if (e.message !== this.failing) this.log.warn({ err: e.message }, `${this.names.pass} pass failed; trying again every poll`);
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
    for (let i = 0; i < FEED_BATCHES && !this.stopped; i++) if (!(await this.feed()).more) break;
    const now = this.now().getTime();
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await this.prune(new Date(now - this.retentionMs));
    }
    const room = this.maxInFlight - this.inFlight.size;
    for (const item of await this.due(this.now(), new Set(this.inFlight.keys()), room)) {
      if (this.stopped) break;
      const key = this.key(item);
      const task = this.attempt(item)
        .catch((e: Error) => this.log.warn({ ...this.about(item), err: e.message }, `${this.names.pass} attempt could not be recorded`))
        .finally(() => {
          this.inFlight.delete(key);
          this.wake(); // the key's next item may go now
        });
      this.inFlight.set(key, task);
    }
  }

  private async attempt(item: T): Promise<void> {
    if (!(await this.claim(item, new Date(this.now().getTime() + this.attemptMs() + LEASE_MARGIN_MS)))) return;
    const outcome = await this.send(item);
    const now = this.now();
    const retry = outcome.ok ? null : retryAt(this.retry, item.attempts + 1, item.createdAt, now, this.random);
    await this.record(item, outcome, now, retry);
    const about = { ...this.about(item), attempt: item.attempts + 1 };
    const { pass, item: noun } = this.names;
    if (outcome.ok) this.log.debug(about, `${pass} delivered`);
    else if (retry) this.log.info({ ...about, err: outcome.error, retryAt: retry.toISOString() }, `${noun} failed; will retry`);
    else this.log.warn({ ...about, err: outcome.error }, `${noun} given up: still failing after the retry window`);
  }
}
